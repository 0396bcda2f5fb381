/**
 * `mcp-oauth-credentials/dynamodb`: the DynamoDB credential store, for servers on AWS (Lambda
 * included) that keep state in DynamoDB. Needs `@aws-sdk/client-dynamodb` (an optional peer
 * dependency); the package root never loads it.
 *
 * @packageDocumentation
 */
export type {
  DynamoCredentialStoreOptions,
  DynamoLocation,
  DynamoStoreSettings,
} from '../stores/dynamodb.js';
export { createDynamoClient, DynamoCredentialStore, parseDynamoLocation } from '../stores/dynamodb.js';
