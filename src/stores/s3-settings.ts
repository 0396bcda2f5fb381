/**
 * What the S3 store needs that has no AWS SDK types: its settings and its `s3://bucket/prefix/`
 * locations, so the package root and the CLI can take them without loading the AWS SDK.
 *
 * @module
 */
import { InvalidInputError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { StoreOperationListener } from './types.js';

/**
 * The S3 store settings that need no AWS SDK types (so `createCredentialStore` can accept them from
 * the package root). See {@link S3CredentialStoreOptions}.
 */
export interface S3StoreSettings {
  /** AWS region. Default: the SDK's provider chain (`AWS_REGION`, profile...). */
  region?: string;
  /** A custom endpoint (MinIO, a local emulator). Default: AWS. */
  endpoint?: string;
  /** Path-style URLs (`endpoint/bucket/key`), needed by most emulators. Default `false`. */
  forcePathStyle?: boolean;
  /** Per-request timeout, milliseconds. Default 5000. A timed-out request counts as one attempt. */
  requestTimeoutMs?: number;
  /**
   * Attempts per operation, including the first, with the SDK's standard retry strategy (exponential
   * backoff with jitter for throttling, 5xx and network errors). Default 3.
   */
  maxAttempts?: number;
  /** Server-side encryption of every object written. Default `'AES256'` (SSE-S3). */
  serverSideEncryption?: 'AES256' | 'aws:kms';
  /** KMS key id or ARN for `'aws:kms'`. Default: the bucket's or account's default KMS key. */
  kmsKeyId?: string;
  /** Largest object `get` reads, bytes; a larger one is reported corrupt. Default 1 MiB. */
  maxObjectBytes?: number;
  /** Receives every operation (see docs/observability.md). Default: none. */
  onOperation?: StoreOperationListener;
  /** Default: silent. */
  logger?: Logger;
}

/** A parsed `s3://bucket/prefix/` location. */
export interface S3Location {
  bucket: string;
  /** Empty, or ending with `/`. */
  prefix: string;
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Parses `s3://bucket/prefix/` (the prefix is optional). Throws `InvalidInputError` when malformed. */
export function parseS3Location(location: string): S3Location {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/i.exec(location.trim());
  if (!match) throw new InvalidInputError('S3 location must look like s3://bucket/prefix/');
  return { bucket: checkBucket(match[1]!), prefix: normalisePrefix(match[2] ?? '') };
}

/** Checks a bucket name; throws `InvalidInputError` naming it when malformed. */
export function checkBucket(bucket: string): string {
  if (!BUCKET_NAME.test(bucket) || bucket.includes('..')) {
    throw new InvalidInputError(`"${bucket}" is not a valid S3 bucket name`);
  }
  return bucket;
}

/** Normalises a key prefix (no leading `/`, a trailing `/`); refuses `.`, `..` and NUL. */
export function normalisePrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+/, '');
  if (trimmed.includes('\u0000') || trimmed.split('/').some((part) => part === '..' || part === '.')) {
    throw new InvalidInputError('S3 prefix must not contain NUL, "." or ".." segments');
  }
  return trimmed === '' || trimmed.endsWith('/') ? trimmed : `${trimmed}/`;
}
