/**
 * {@link S3CredentialStore}: one object per user in S3, in the same JSON format and under the same
 * encoded names as the file store (`s3://bucket/prefix/{quote(email)}.json`), with ETag
 * compare-and-swap through S3 conditional writes. Import from `mcp-oauth-credentials/s3`.
 *
 * @module
 */

import { randomBytes } from 'node:crypto';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  PutObjectCommand,
  paginateListObjectsV2,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import {
  DOCUMENT_REVISION_KEY,
  fromPythonDocument,
  type StoredCredentials,
  toPythonDocument,
  type VersionedCredentials,
} from '../credentials.js';
import {
  ConfigurationError,
  ConflictError,
  CorruptCredentialsError,
  isCredentialError,
  StorageUnavailableError,
} from '../errors.js';
import { silentLogger } from '../logger.js';
import { decodeUserIdFromStorage, encodeUserIdForStorage, normaliseUserId } from '../user-id.js';
import { awsErrorName, awsHttpStatus, translateAwsError } from './aws-errors.js';
import { validateDelete, validateWrite } from './input.js';
import { OperationObserver } from './observe.js';
import { checkBucket, normalisePrefix, parseS3Location, type S3StoreSettings } from './s3-settings.js';
import type { CredentialStore, DeleteOptions, PutOptions, StoreOperation } from './types.js';

export type { S3Location, S3StoreSettings } from './s3-settings.js';
export { parseS3Location } from './s3-settings.js';

/** Options of {@link S3CredentialStore}. Give `location`, or `bucket` (and `prefix`). */
export interface S3CredentialStoreOptions extends S3StoreSettings {
  /** `s3://bucket/prefix/`. The prefix may be empty. */
  location?: string;
  /** Bucket name, when `location` is not given. */
  bucket?: string;
  /** Key prefix, when `location` is not given; a trailing `/` is added if missing. Default `''`. */
  prefix?: string;
  /**
   * A configured client to use as is. When given, `region`, `endpoint`, `forcePathStyle`,
   * `credentials`, `requestTimeoutMs` and `maxAttempts` are ignored.
   */
  client?: S3Client;
  /** Static credentials or a provider. Default: the SDK's default provider chain. */
  credentials?: S3ClientConfig['credentials'];
}

const SUFFIX = '.json';

/** The IAM permission an operation needs (a function, not a module-level table: see docs/mutation-testing.md). */
function iamAction(operation: StoreOperation): string {
  switch (operation) {
    case 'get':
      return 's3:GetObject';
    case 'put':
      return 's3:PutObject';
    case 'delete':
      return 's3:DeleteObject (and s3:GetObject, which conditional deletes need)';
    case 'list':
      return 's3:ListBucket';
  }
}

/**
 * Stores each user's credentials as `s3://bucket/prefix/<quote(email, safe="@._-")>.json`, the same
 * JSON document the file store writes, so a bucket can be shared with the Python server and objects
 * copied to and from a credentials directory.
 *
 * - `get` is a single GetObject. The version is the object's ETag.
 * - `put` sends `ContentType: application/json` and server-side encryption (`AES256`, or `aws:kms`
 *   with `kmsKeyId`); `ifVersion` becomes `If-Match`, `ifVersion: null` becomes `If-None-Match: *`.
 *   412 PreconditionFailed, 409 ConditionalRequestConflict and 404 on `If-Match` are `ConflictError`.
 * - `delete` is a DeleteObject with `If-Match` (`*`, or the version), so it knows whether something was
 *   removed and never removes a record that changed since `ifVersion` was read.
 * - `list` pages through ListObjectsV2 under the prefix (direct children only).
 * - Throttling, 5xx and timeouts are retried by the SDK (`maxAttempts`), then reported as
 *   `StorageUnavailableError`; AccessDenied names the missing IAM action; NoSuchBucket is a
 *   `ConfigurationError`. The SDK error is kept as `cause`.
 */
export class S3CredentialStore implements CredentialStore {
  /** The bucket. */
  readonly bucket: string;
  /** The key prefix: empty, or ending with `/`. */
  readonly prefix: string;
  readonly #client: S3Client;
  readonly #encryption: { ServerSideEncryption: 'AES256' | 'aws:kms'; SSEKMSKeyId?: string };
  readonly #maxObjectBytes: number;
  readonly #observer: OperationObserver;

  constructor(options: S3CredentialStoreOptions) {
    const location =
      options.location !== undefined
        ? parseS3Location(options.location)
        : { bucket: checkBucket(options.bucket ?? ''), prefix: normalisePrefix(options.prefix ?? '') };
    this.bucket = location.bucket;
    this.prefix = location.prefix;
    this.#client = options.client ?? createS3Client(options);
    const sse = options.serverSideEncryption ?? 'AES256';
    if (sse !== 'AES256' && sse !== 'aws:kms') {
      throw new ConfigurationError('serverSideEncryption must be "AES256" or "aws:kms"');
    }
    if (options.kmsKeyId !== undefined && sse !== 'aws:kms') {
      throw new ConfigurationError('kmsKeyId needs serverSideEncryption "aws:kms"');
    }
    this.#encryption = {
      ServerSideEncryption: sse,
      ...(options.kmsKeyId === undefined ? {} : { SSEKMSKeyId: options.kmsKeyId }),
    };
    this.#maxObjectBytes = options.maxObjectBytes ?? 1024 * 1024;
    this.#observer = new OperationObserver('s3', options.onOperation, options.logger ?? silentLogger);
  }

  /** The object key of a user's record. */
  keyFor(rawUserId: string): string {
    return `${this.prefix}${encodeUserIdForStorage(normaliseUserId(rawUserId))}${SUFFIX}`;
  }

  async get(rawUserId: string): Promise<VersionedCredentials | undefined> {
    const userId = normaliseUserId(rawUserId);
    return this.#observer.run(
      'get',
      userId,
      () =>
        this.#call('get', userId, async () => {
          let response: GetObjectCommandOutput;
          try {
            response = await this.#client.send(
              new GetObjectCommand({ Bucket: this.bucket, Key: this.keyFor(userId) }),
            );
          } catch (error) {
            if (isMissingKey(error)) return undefined;
            throw error;
          }
          if (!response.ETag || !response.Body) {
            throw new StorageUnavailableError(`S3 returned no body or ETag for ${userId}`, { userId });
          }
          if ((response.ContentLength ?? 0) > this.#maxObjectBytes) {
            throw new CorruptCredentialsError(
              `stored credentials for ${userId} are larger than ${this.#maxObjectBytes} bytes`,
              {
                userId,
              },
            );
          }
          const text = await response.Body.transformToString();
          let document: unknown;
          try {
            document = JSON.parse(text);
          } catch {
            throw new CorruptCredentialsError(`stored credentials for ${userId} are not valid JSON`, {
              userId,
            });
          }
          return { credentials: fromPythonDocument(document, userId), version: response.ETag };
        }),
      (result) => (result ? 'ok' : 'miss'),
    );
  }

  async put(rawUserId: string, credentials: StoredCredentials, options?: PutOptions): Promise<string> {
    const { userId, record } = validateWrite(rawUserId, credentials, options);
    // A random field per write, so the ETag (an MD5 of the content under SSE-S3) changes on every
    // write even when the credentials do not; the codec drops it on read.
    const document = {
      ...toPythonDocument(record),
      [DOCUMENT_REVISION_KEY]: randomBytes(12).toString('hex'),
    };
    return this.#observer.run('put', userId, () =>
      this.#call('put', userId, async () => {
        try {
          const response = await this.#client.send(
            new PutObjectCommand({
              Bucket: this.bucket,
              Key: this.keyFor(userId),
              Body: `${JSON.stringify(document, null, 2)}\n`,
              ContentType: 'application/json',
              ...this.#encryption,
              ...(typeof options?.ifVersion === 'string' ? { IfMatch: options.ifVersion } : {}),
              ...(options?.ifVersion === null ? { IfNoneMatch: '*' } : {}),
            }),
          );
          if (!response.ETag)
            throw new StorageUnavailableError(`S3 returned no ETag for ${userId}`, { userId });
          return response.ETag;
        } catch (error) {
          if (options?.ifVersion !== undefined && isLostPrecondition(error)) {
            throw new ConflictError(
              options.ifVersion === null
                ? `credentials for ${userId} already exist`
                : `credentials for ${userId} changed since version was read`,
              { userId, cause: error },
            );
          }
          throw error;
        }
      }),
    );
  }

  async delete(rawUserId: string, options?: DeleteOptions): Promise<boolean> {
    const userId = validateDelete(rawUserId, options);
    return this.#observer.run(
      'delete',
      userId,
      () =>
        this.#call('delete', userId, async () => {
          try {
            await this.#client.send(
              new DeleteObjectCommand({
                Bucket: this.bucket,
                Key: this.keyFor(userId),
                IfMatch: options?.ifVersion ?? '*',
              }),
            );
            return true;
          } catch (error) {
            if (isMissingKey(error)) return false;
            if (isLostPrecondition(error)) {
              throw new ConflictError(`credentials for ${userId} changed since version was read`, {
                userId,
                cause: error,
              });
            }
            throw error;
          }
        }),
      (removed) => (removed ? 'ok' : 'miss'),
    );
  }

  list(): AsyncIterable<string> {
    return this.#observer.iterate(() => this.#scan());
  }

  async *#scan(): AsyncIterable<string> {
    const pages = paginateListObjectsV2(
      { client: this.#client },
      { Bucket: this.bucket, Prefix: this.prefix, Delimiter: '/' },
    );
    const iterator = pages[Symbol.asyncIterator]();
    for (;;) {
      let page: IteratorResult<{ Contents?: Array<{ Key?: string }> }>;
      try {
        page = await iterator.next();
      } catch (error) {
        throw this.#translate(error, 'list', undefined);
      }
      if (page.done) return;
      // Stryker disable next-line ArrayDeclaration: an element without a Key is skipped, so a made-up element changes nothing
      for (const object of page.value.Contents ?? []) {
        const key = object.Key ?? '';
        if (!key.startsWith(this.prefix) || !key.endsWith(SUFFIX)) continue;
        const name = key.slice(this.prefix.length, -SUFFIX.length);
        const userId = decodeUserIdFromStorage(name);
        if (userId !== undefined && encodeUserIdForStorage(userId) === name) yield userId;
      }
    }
  }

  async #call<T>(operation: StoreOperation, userId: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw this.#translate(error, operation, userId);
    }
  }

  #translate(error: unknown, operation: StoreOperation, userId: string | undefined): unknown {
    if (isCredentialError(error)) return error;
    const name = awsErrorName(error);
    const where = `s3://${this.bucket}/${this.prefix}`;
    // Stryker disable next-line ConditionalExpression: `{ userId: undefined }` gives an error whose userId is undefined as well
    const options = { cause: error, ...(userId === undefined ? {} : { userId }) };
    if (name === 'NoSuchBucket') {
      return new ConfigurationError(`S3 bucket "${this.bucket}" does not exist`, {
        ...options,
        hint: 'create the bucket, or check the bucket name and region',
      });
    }
    if (name === 'InvalidObjectState') {
      const who = userId === undefined ? '' : ` for ${userId}`;
      return new StorageUnavailableError(`credentials object${who} is archived and cannot be read`, options);
    }
    const kms = this.#encryption.ServerSideEncryption === 'aws:kms' && operation !== 'list';
    return translateAwsError(error, {
      service: 'S3',
      operation,
      userId,
      where,
      grant: `${iamAction(operation)} on ${where}*${kms ? ', and kms:GenerateDataKey / kms:Decrypt on the KMS key' : ''}`,
    });
  }
}

/** Builds an S3 client from store options (used when no `client` is injected). */
export function createS3Client(options: S3CredentialStoreOptions): S3Client {
  const requestTimeout = options.requestTimeoutMs ?? 5_000;
  return new S3Client({
    // Stryker disable next-line ConditionalExpression: an option set to undefined is the SDK's default, as leaving it out is
    ...(options.region === undefined ? {} : { region: options.region }),
    // Stryker disable next-line ConditionalExpression: as above
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    // Stryker disable next-line ConditionalExpression: as above
    ...(options.forcePathStyle === undefined ? {} : { forcePathStyle: options.forcePathStyle }),
    // Stryker disable next-line ConditionalExpression: as above
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    maxAttempts: options.maxAttempts ?? 3,
    retryMode: 'standard',
    // Without throwOnRequestTimeout the SDK only logs a warning when requestTimeout passes.
    requestHandler: {
      requestTimeout,
      connectionTimeout: Math.min(requestTimeout, 3_000),
      throwOnRequestTimeout: true,
    },
  });
}

function isMissingKey(error: unknown): boolean {
  const name = awsErrorName(error);
  return (
    name === 'NoSuchKey' || name === 'NotFound' || (awsHttpStatus(error) === 404 && name !== 'NoSuchBucket')
  );
}

function isLostPrecondition(error: unknown): boolean {
  const name = awsErrorName(error);
  const status = awsHttpStatus(error);
  return (
    name === 'PreconditionFailed' ||
    name === 'ConditionalRequestConflict' ||
    status === 412 ||
    status === 409 ||
    isMissingKey(error)
  );
}
