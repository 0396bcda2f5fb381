/**
 * `mcp-oauth-credentials/s3`: the S3 credential store. Needs `@aws-sdk/client-s3` (an optional peer
 * dependency); the package root never loads it.
 *
 * @packageDocumentation
 */
export type { S3CredentialStoreOptions, S3Location, S3StoreSettings } from '../stores/s3.js';
export { createS3Client, parseS3Location, S3CredentialStore } from '../stores/s3.js';
