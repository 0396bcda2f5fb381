/**
 * What the DynamoDB store needs that has no AWS SDK types: its settings, `dynamodb://table/prefix/`
 * locations, name checks and the mapping of DynamoDB errors to this package's (by error name), so
 * the package root and the CLI can take them without loading the AWS SDK.
 *
 * @module
 */
import { ConfigurationError, InvalidInputError, isCredentialError } from '../errors.js';
import type { Logger } from '../logger.js';
import { awsErrorName, translateAwsError } from './aws-errors.js';
import type { StoreOperationListener } from './types.js';

/**
 * The DynamoDB store settings that need no AWS SDK types (so `createCredentialStore` can accept them
 * from the package root). See `DynamoCredentialStoreOptions` in `mcp-oauth-credentials/dynamodb`.
 */
export interface DynamoStoreSettings {
  /** AWS region. Default: the SDK's provider chain (`AWS_REGION`, profile...). */
  region?: string;
  /** A custom endpoint (DynamoDB Local, an emulator). Default: AWS. */
  endpoint?: string;
  /** Per-request timeout, milliseconds. Default 5000. A timed-out request counts as one attempt. */
  requestTimeoutMs?: number;
  /**
   * Attempts per operation, including the first, with the SDK's standard retry strategy (exponential
   * backoff with jitter for throttling, 5xx and network errors). Default 3.
   */
  maxAttempts?: number;
  /**
   * Optional expiry of records nobody writes any more: every `put` sets `attribute` to now +
   * `afterSeconds` (epoch seconds), reads treat a passed time as "no record", and `ensureTable()`
   * turns on DynamoDB TTL for the attribute so DynamoDB deletes such items (within days, at no
   * cost). A user whose tokens refresh keeps their record, since every refresh writes. Google
   * revokes refresh tokens unused for six months, so about 183 days (15811200) matches that.
   * Default: off (records stay until deleted).
   */
  ttl?: { attribute: string; afterSeconds: number };
  /** Receives every operation (see docs/monitoring.md). Default: none. */
  onOperation?: StoreOperationListener;
  /** Default: silent. */
  logger?: Logger;
}

/** A parsed `dynamodb://table/prefix/` location. */
export interface DynamoLocation {
  table: string;
  /** Empty, or ending with `/`. */
  prefix: string;
}

const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;
const PREFIX = /^(?:[A-Za-z0-9_.-]+\/)*$/;

/** Checks a table name; throws `ConfigurationError` otherwise. */
export function checkDynamoTable(table: unknown): string {
  if (typeof table !== 'string' || !TABLE_NAME.test(table)) {
    throw new ConfigurationError('DynamoDB table must be 3 to 255 characters of A-Z a-z 0-9 _ . -');
  }
  return table;
}

/**
 * Checks a user-id prefix: empty, or segments of `A-Z a-z 0-9 _ . -` each ending with `/`. The
 * slash cannot occur in a user id, so one deployment's ids never look like another's.
 */
export function checkDynamoPrefix(prefix: string): string {
  const normalised = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
  if (normalised.length > 200 || !PREFIX.test(normalised)) {
    throw new ConfigurationError('DynamoDB prefix must be segments of A-Z a-z 0-9 _ . - separated by /');
  }
  return normalised;
}

/** Parses `dynamodb://table` or `dynamodb://table/prefix/`. Throws `InvalidInputError` when malformed. */
export function parseDynamoLocation(location: string): DynamoLocation {
  const match = /^dynamodb:\/\/([^/?#]*)(?:\/([^?#]*))?$/i.exec(location);
  if (!match) {
    throw new InvalidInputError(
      'DynamoDB location must look like dynamodb://table or dynamodb://table/prefix/',
    );
  }
  try {
    return { table: checkDynamoTable(match[1]), prefix: checkDynamoPrefix(match[2] ?? '') };
  } catch (error) {
    throw new InvalidInputError((error as Error).message);
  }
}

const IAM_ACTION: Record<string, string> = {
  get: 'dynamodb:GetItem',
  put: 'dynamodb:PutItem',
  delete: 'dynamodb:DeleteItem (and dynamodb:GetItem, which conditional deletes need)',
  list: 'dynamodb:Scan',
  ensureTable: 'dynamodb:CreateTable, dynamodb:DescribeTable and dynamodb:UpdateTimeToLive',
};

/** Maps an AWS SDK error to this package's; names the operation and table, never values. */
export function translateDynamoError(
  error: unknown,
  operation: string,
  table: string,
  userId: string | undefined,
): unknown {
  if (isCredentialError(error)) return error;
  const name = awsErrorName(error);
  const message = error instanceof Error ? error.message : '';
  const who = userId === undefined ? '' : ` for ${userId}`;
  const options = { cause: error, ...(userId === undefined ? {} : { userId }) };
  if (name === 'ResourceNotFoundException') {
    return new ConfigurationError(`DynamoDB table "${table}" does not exist`, {
      ...options,
      hint: 'create it with ensureTable() (or the schema in docs/stores.md), or check the table name and region',
    });
  }
  if (name === 'ValidationException') {
    return /size has exceeded|item size/i.test(message)
      ? new InvalidInputError(`credentials${who} exceed DynamoDB's 400 KB item size`, options)
      : new ConfigurationError(
          `DynamoDB rejected ${operation}${who}: the table's key schema does not match`,
          {
            ...options,
            hint: 'the table needs a string partition key named user_id and no sort key',
          },
        );
  }
  // Credentials, region, refusals; throttling (ProvisionedThroughputExceeded, RequestLimitExceeded),
  // 5xx and network errors alike, which the SDK has already retried.
  return translateAwsError(error, {
    service: 'DynamoDB',
    operation,
    userId,
    where: `table ${table}`,
    grant: `${IAM_ACTION[operation] ?? `dynamodb:${operation}`} on the table`,
  });
}
