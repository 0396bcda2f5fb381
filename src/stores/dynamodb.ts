/**
 * {@link DynamoCredentialStore}: one item per user in a DynamoDB table, with compare-and-swap by a
 * `ConditionExpression` on a version attribute, so several replicas (or Lambda invocations) refresh
 * once and save once. Import from `mcp-oauth-credentials/dynamodb`; needs `@aws-sdk/client-dynamodb`
 * (an optional peer dependency).
 *
 * Item layout (partition key `user_id`, a string):
 *
 * | attribute | type | content |
 * | --- | --- | --- |
 * | `user_id` | S | `<prefix><normalised email>` |
 * | `record` | S | the record as JSON (secrets sealed if the store is wrapped in `EncryptedCredentialStore`) |
 * | `version` | S | random, new on every write |
 * | `updated_at` | N | epoch seconds of the last write |
 * | `<ttl attribute>` | N | with the `ttl` option only: epoch seconds after which DynamoDB may delete the item |
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import {
  type AttributeValue,
  CreateTableCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  DynamoDBClient,
  type DynamoDBClientConfig,
  GetItemCommand,
  PutItemCommand,
  paginateScan,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { type Clock, systemClock } from '../clock.js';
import { parseStoredCredentials, type StoredCredentials, type VersionedCredentials } from '../credentials.js';
import {
  ConfigurationError,
  ConflictError,
  CorruptCredentialsError,
  StorageUnavailableError,
} from '../errors.js';
import { silentLogger } from '../logger.js';
import { normaliseUserId } from '../user-id.js';
import {
  checkDynamoPrefix,
  checkDynamoTable,
  type DynamoStoreSettings,
  translateDynamoError,
} from './dynamodb-settings.js';
import { validateDelete, validateWrite } from './input.js';
import { OperationObserver } from './observe.js';
import type { CredentialStore, DeleteOptions, PutOptions, StoreOperation } from './types.js';

export type { DynamoLocation, DynamoStoreSettings } from './dynamodb-settings.js';
export { parseDynamoLocation } from './dynamodb-settings.js';

/** Options of {@link DynamoCredentialStore}. */
export interface DynamoCredentialStoreOptions extends DynamoStoreSettings {
  /** The table name (3 to 255 of `A-Z a-z 0-9 _ . -`). */
  table: string;
  /**
   * Prepended to every user id in `user_id`, so several deployments can share one table; `list`
   * returns only ids under it. Default `''`.
   */
  prefix?: string;
  /** A configured client to use as is; `region`, `endpoint`, `credentials`, timeouts and retries are then ignored. */
  client?: DynamoDBClient;
  /** Static credentials or a provider. Default: the SDK's default provider chain. */
  credentials?: DynamoDBClientConfig['credentials'];
  /** The time source for `updated_at` and the TTL attribute. Default: the system clock. */
  clock?: Clock;
}

const KEY = 'user_id';

/**
 * See the module documentation.
 *
 * - `get` is one `GetItem` with `ConsistentRead`, so a read after a write on another replica sees it.
 * - `put` is one `PutItem`; `ifVersion` becomes `ConditionExpression: version = :v`, `ifVersion: null`
 *   becomes `attribute_not_exists(user_id)` (or an item whose TTL has passed);
 *   `ConditionalCheckFailedException` is `ConflictError`.
 * - `delete` is one `DeleteItem` (conditional with `ifVersion`); a failed condition costs one more
 *   `GetItem` when DynamoDB did not return the old item, to tell "missing" from "changed".
 * - `list` is a paginated, consistent `Scan` projecting only `user_id`: it reads (and is billed for)
 *   every whole item in the table, one read unit per 4 KB scanned.
 * - Throttling, 5xx and network errors are retried by the SDK (`maxAttempts`, standard mode with
 *   backoff), then reported as `StorageUnavailableError`; access denied names the missing IAM
 *   action; a missing table is a `ConfigurationError`.
 */
export class DynamoCredentialStore implements CredentialStore {
  /** The table. */
  readonly table: string;
  /** The user-id prefix (possibly empty). */
  readonly prefix: string;
  readonly #client: DynamoDBClient;
  readonly #ownsClient: boolean;
  readonly #clock: Clock;
  readonly #ttl: { attribute: string; seconds: number } | undefined;
  readonly #observer: OperationObserver;

  constructor(options: DynamoCredentialStoreOptions) {
    this.table = checkDynamoTable(options?.table);
    this.prefix = checkDynamoPrefix(options.prefix ?? '');
    this.#ownsClient = options.client === undefined;
    this.#client = options.client ?? createDynamoClient(options);
    this.#clock = options.clock ?? systemClock;
    if (options.ttl !== undefined) {
      const { attribute, afterSeconds } = options.ttl;
      if (
        !/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(attribute) ||
        ['user_id', 'record', 'version', 'updated_at'].includes(attribute)
      ) {
        throw new ConfigurationError(
          'ttl.attribute must be a simple attribute name other than the store’s own',
        );
      }
      if (!Number.isInteger(afterSeconds) || afterSeconds < 60) {
        throw new ConfigurationError('ttl.afterSeconds must be a whole number of seconds, at least 60');
      }
      this.#ttl = { attribute, seconds: afterSeconds };
    }
    this.#observer = new OperationObserver('dynamodb', options.onOperation, options.logger ?? silentLogger);
  }

  /** The partition key value of a user's item. */
  keyFor(rawUserId: string): string {
    return `${this.prefix}${normaliseUserId(rawUserId)}`;
  }

  /**
   * Creates the table (on-demand billing, partition key `user_id`) if it does not exist, waits until
   * it is active (at most `timeoutMs`, default 60 s of real time), and turns on DynamoDB TTL when the
   * `ttl` option is set. Idempotent. Needs `dynamodb:DescribeTable`, plus `CreateTable` (and
   * `UpdateTimeToLive`) when there is something to do: run it from a deploy step, not from a server
   * whose role has only the item permissions.
   */
  async ensureTable(options: { timeoutMs?: number } = {}): Promise<void> {
    const deadline = performance.now() + (options.timeoutMs ?? 60_000);
    await this.#call('ensureTable', undefined, async () => {
      let status = await this.#tableStatus();
      if (status === undefined) {
        try {
          await this.#client.send(
            new CreateTableCommand({
              TableName: this.table,
              AttributeDefinitions: [{ AttributeName: KEY, AttributeType: 'S' }],
              KeySchema: [{ AttributeName: KEY, KeyType: 'HASH' }],
              BillingMode: 'PAY_PER_REQUEST',
            }),
          );
        } catch (error) {
          // Another replica created it first.
          if ((error as { name?: unknown }).name !== 'ResourceInUseException') throw error;
        }
        status = await this.#tableStatus();
      }
      while (status !== 'ACTIVE') {
        if (performance.now() > deadline) {
          throw new StorageUnavailableError(`DynamoDB table ${this.table} did not become active in time`);
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
        status = await this.#tableStatus();
      }
      if (this.#ttl !== undefined) {
        try {
          await this.#client.send(
            new UpdateTimeToLiveCommand({
              TableName: this.table,
              TimeToLiveSpecification: { AttributeName: this.#ttl.attribute, Enabled: true },
            }),
          );
        } catch (error) {
          // Already enabled (on this attribute) is success; anything else is reported.
          if (!/already enabled/i.test((error as Error).message ?? '')) throw error;
        }
      }
    });
  }

  async #tableStatus(): Promise<string | undefined> {
    try {
      const described = await this.#client.send(new DescribeTableCommand({ TableName: this.table }));
      return described.Table?.TableStatus ?? 'CREATING';
    } catch (error) {
      if ((error as { name?: unknown }).name === 'ResourceNotFoundException') return undefined;
      throw error;
    }
  }

  /** Destroys the client the store created (an injected client is left alone). */
  async close(): Promise<void> {
    if (this.#ownsClient) this.#client.destroy();
  }

  async get(rawUserId: string): Promise<VersionedCredentials | undefined> {
    const userId = normaliseUserId(rawUserId);
    return this.#observer.run(
      'get',
      userId,
      () =>
        this.#call('get', userId, async () => {
          const { Item } = await this.#client.send(
            new GetItemCommand({ TableName: this.table, Key: this.#key(userId), ConsistentRead: true }),
          );
          if (Item === undefined || this.#expired(Item)) return undefined;
          const version = Item.version?.S;
          const text = Item.record?.S;
          // Stryker disable next-line ConditionalExpression: without the second test JSON.parse(undefined) throws below, answered as corrupt too
          if (version === undefined || text === undefined) {
            throw new CorruptCredentialsError(`stored credentials for ${userId} lack a record or version`, {
              userId,
            });
          }
          let document: unknown;
          try {
            document = JSON.parse(text);
          } catch {
            throw new CorruptCredentialsError(`stored credentials for ${userId} are not valid JSON`, {
              userId,
            });
          }
          return { credentials: parseStoredCredentials(document, userId), version };
        }),
      (result) => (result ? 'ok' : 'miss'),
    );
  }

  async put(rawUserId: string, credentials: StoredCredentials, options?: PutOptions): Promise<string> {
    const { userId, record } = validateWrite(rawUserId, credentials, options);
    const version = randomBytes(12).toString('hex');
    const nowSeconds = Math.floor(this.#clock.now() / 1000);
    const item: Record<string, AttributeValue> = {
      ...this.#key(userId),
      record: { S: JSON.stringify(record) },
      version: { S: version },
      updated_at: { N: String(nowSeconds) },
      ...(this.#ttl ? { [this.#ttl.attribute]: { N: String(nowSeconds + this.#ttl.seconds) } } : {}),
    };
    const ifVersion = options?.ifVersion;
    return this.#observer.run('put', userId, () =>
      this.#call('put', userId, async () => {
        try {
          await this.#client.send(
            new PutItemCommand({
              TableName: this.table,
              Item: item,
              ...this.#condition(ifVersion, nowSeconds),
            }),
          );
          return version;
        } catch (error) {
          if (isConditionFailure(error)) {
            throw new ConflictError(
              ifVersion === null
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
          const ifVersion = options?.ifVersion;
          try {
            const { Attributes } = await this.#client.send(
              new DeleteItemCommand({
                TableName: this.table,
                Key: this.#key(userId),
                ReturnValues: 'ALL_OLD',
                ...(ifVersion === undefined
                  ? {}
                  : {
                      ConditionExpression: '#version = :version',
                      ExpressionAttributeNames: { '#version': 'version' },
                      ExpressionAttributeValues: { ':version': { S: ifVersion } },
                      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
                    }),
              }),
            );
            return Attributes !== undefined && !this.#expired(Attributes);
          } catch (error) {
            if (!isConditionFailure(error)) throw error;
            // DynamoDB returns the item that failed the condition; emulators may not, so ask.
            const current =
              (error as { Item?: Record<string, AttributeValue> }).Item ??
              (
                await this.#client.send(
                  new GetItemCommand({ TableName: this.table, Key: this.#key(userId), ConsistentRead: true }),
                )
              ).Item;
            if (current === undefined || this.#expired(current)) return false;
            throw new ConflictError(`credentials for ${userId} changed since version was read`, {
              userId,
              cause: error,
            });
          }
        }),
      (removed) => (removed ? 'ok' : 'miss'),
    );
  }

  list(): AsyncIterable<string> {
    return this.#observer.iterate(() => this.#scan());
  }

  async *#scan(): AsyncIterable<string> {
    const nowSeconds = Math.floor(this.#clock.now() / 1000);
    const pages = paginateScan(
      { client: this.#client },
      {
        TableName: this.table,
        ConsistentRead: true,
        ProjectionExpression: this.#ttl ? '#key, #ttl' : '#key',
        ExpressionAttributeNames: { '#key': KEY, ...(this.#ttl ? { '#ttl': this.#ttl.attribute } : {}) },
        ...(this.prefix === ''
          ? {}
          : {
              FilterExpression: 'begins_with(#key, :prefix)',
              ExpressionAttributeValues: { ':prefix': { S: this.prefix } },
            }),
      },
    );
    const iterator = pages[Symbol.asyncIterator]();
    for (;;) {
      let page: IteratorResult<{ Items?: Array<Record<string, AttributeValue>> }>;
      try {
        page = await iterator.next();
      } catch (error) {
        throw translateDynamoError(error, 'list', this.table, undefined);
      }
      if (page.done) return;
      // Stryker disable next-line ArrayDeclaration: an item that is not an object has no key and is skipped below
      for (const item of page.value.Items ?? []) {
        const key = item[KEY]?.S;
        if (key === undefined || !key.startsWith(this.prefix) || this.#expiredAt(item, nowSeconds)) continue;
        const candidate = key.slice(this.prefix.length);
        // Yield only ids this store could have written; anything else in the table is not ours.
        try {
          if (normaliseUserId(candidate) === candidate) yield candidate;
        } catch {
          // not a user id
        }
      }
    }
  }

  #key(userId: string): Record<string, AttributeValue> {
    return { [KEY]: { S: `${this.prefix}${userId}` } };
  }

  #condition(
    ifVersion: string | null | undefined,
    nowSeconds: number,
  ): Pick<
    ConstructorParameters<typeof PutItemCommand>[0],
    'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'
  > {
    if (ifVersion === undefined) return {};
    if (ifVersion !== null) {
      return {
        ConditionExpression: '#version = :version',
        ExpressionAttributeNames: { '#version': 'version' },
        ExpressionAttributeValues: { ':version': { S: ifVersion } },
      };
    }
    // DynamoDB deletes expired items lazily (within days): one past its TTL counts as absent.
    if (this.#ttl === undefined)
      return { ConditionExpression: 'attribute_not_exists(#key)', ExpressionAttributeNames: { '#key': KEY } };
    return {
      ConditionExpression: 'attribute_not_exists(#key) OR #ttl <= :now',
      ExpressionAttributeNames: { '#key': KEY, '#ttl': this.#ttl.attribute },
      ExpressionAttributeValues: { ':now': { N: String(nowSeconds) } },
    };
  }

  #expired(item: Record<string, AttributeValue>): boolean {
    return this.#expiredAt(item, Math.floor(this.#clock.now() / 1000));
  }

  #expiredAt(item: Record<string, AttributeValue>, nowSeconds: number): boolean {
    if (this.#ttl === undefined) return false;
    const at = item[this.#ttl.attribute]?.N;
    // Stryker disable next-line ConditionalExpression: without the first test Number(undefined) is NaN, and NaN <= n is false too
    return at !== undefined && Number(at) <= nowSeconds;
  }

  async #call<T>(
    operation: StoreOperation | 'ensureTable',
    userId: string | undefined,
    work: () => Promise<T>,
  ): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw translateDynamoError(error, operation, this.table, userId);
    }
  }
}

/** Builds a DynamoDB client from store options (used when no `client` is injected). */
export function createDynamoClient(options: Omit<DynamoCredentialStoreOptions, 'table'>): DynamoDBClient {
  const requestTimeout = options.requestTimeoutMs ?? 5_000;
  return new DynamoDBClient({
    // Stryker disable next-line ConditionalExpression: the SDK reads an undefined option as absent
    ...(options.region === undefined ? {} : { region: options.region }),
    // Stryker disable next-line ConditionalExpression: as above
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    // Stryker disable next-line ConditionalExpression: as above
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    maxAttempts: options.maxAttempts ?? 3,
    retryMode: 'standard',
    requestHandler: {
      requestTimeout,
      connectionTimeout: Math.min(requestTimeout, 3_000),
      throwOnRequestTimeout: true,
    },
  });
}

function isConditionFailure(error: unknown): boolean {
  // Stryker disable next-line OptionalChaining: the AWS SDK rejects with Error objects only
  return (error as { name?: unknown } | undefined)?.name === 'ConditionalCheckFailedException';
}
