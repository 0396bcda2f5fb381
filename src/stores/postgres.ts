/**
 * {@link PostgresCredentialStore}: one row per user in PostgreSQL, with compare-and-swap in one
 * statement (`UPDATE … WHERE version = $n`, `INSERT … ON CONFLICT DO NOTHING` for only-if-absent), so
 * several replicas refresh once and save once. Import from `mcp-oauth-credentials/postgres`; takes a
 * `pg.Pool` (or a connection string, with `pg` installed).
 *
 * Schema (`ensureSchema()` creates it; idempotent):
 *
 * ```sql
 * CREATE TABLE IF NOT EXISTS mcp_oauth_credentials (
 *   user_id    text PRIMARY KEY,
 *   record     jsonb NOT NULL,
 *   version    text NOT NULL,
 *   updated_at timestamptz NOT NULL DEFAULT now()
 * );
 * ```
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { parseStoredCredentials, type StoredCredentials, type VersionedCredentials } from '../credentials.js';
import { ConfigurationError, ConflictError, CorruptCredentialsError } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import { normaliseUserId } from '../user-id.js';
import { validateDelete, validateWrite } from './input.js';
import { OperationObserver } from './observe.js';
import {
  checkTableName,
  createTableIfMissing,
  PgConnection,
  type PgConnectionOptions,
  translatePgError,
} from './postgres-client.js';
import type { CredentialStore, DeleteOptions, PutOptions, StoreOperationListener } from './types.js';

/** Default table of {@link PostgresCredentialStore}. */
export const DEFAULT_POSTGRES_CREDENTIALS_TABLE = 'mcp_oauth_credentials';
/** Default number of user ids `list` reads per query. */
export const DEFAULT_POSTGRES_LIST_PAGE_SIZE = 500;

/** Options of {@link PostgresCredentialStore}. */
export interface PostgresCredentialStoreOptions extends PgConnectionOptions {
  /**
   * The table (`table` or `schema.table`, lower-case identifiers: checked, never interpolated raw).
   * Default {@link DEFAULT_POSTGRES_CREDENTIALS_TABLE}.
   */
  table?: string;
  /** User ids per `list` query (keyset pagination). Default {@link DEFAULT_POSTGRES_LIST_PAGE_SIZE}. */
  listPageSize?: number;
  /** Receives every operation. Default: none. */
  onOperation?: StoreOperationListener;
  /** Default: silent. */
  logger?: Logger;
}

/** See the module documentation. */
export class PostgresCredentialStore implements CredentialStore {
  /** The table, as configured (`table` or `schema.table`). */
  get table(): string {
    return this.#tableName;
  }
  readonly #table: string;
  readonly #tableName: string;
  readonly #pageSize: number;
  readonly #observer: OperationObserver;
  readonly #db: PgConnection;

  constructor(options: PostgresCredentialStoreOptions) {
    if (!options?.pool && !options?.connectionString) {
      throw new ConfigurationError('PostgresCredentialStore needs pool or connectionString');
    }
    this.#tableName = options.table ?? DEFAULT_POSTGRES_CREDENTIALS_TABLE;
    this.#table = checkTableName(this.#tableName, 'table');
    this.#pageSize = options.listPageSize ?? DEFAULT_POSTGRES_LIST_PAGE_SIZE;
    if (!Number.isInteger(this.#pageSize) || this.#pageSize < 1) {
      throw new ConfigurationError('listPageSize must be a positive integer');
    }
    this.#db = new PgConnection(options, 'PostgresCredentialStore');
    this.#observer = new OperationObserver('postgres', options.onOperation, options.logger ?? silentLogger);
  }

  async #query<Row>(action: string, userId: string | undefined, text: string, values: unknown[]) {
    try {
      return await this.#db.query<Row>(text, values);
    } catch (error) {
      throw translatePgError(error, action, this.#tableName, userId);
    }
  }

  /**
   * Creates the table if it does not exist (idempotent; safe to run from every replica at start).
   * An existing table needs no rights beyond the store's own; creating one needs `CREATE` on the schema.
   */
  async ensureSchema(): Promise<void> {
    await createTableIfMissing(
      (text, values) => this.#query('create the table', undefined, text, values),
      this.#table,
      `CREATE TABLE IF NOT EXISTS ${this.#table} (
        user_id text PRIMARY KEY,
        record jsonb NOT NULL,
        version text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`,
    );
  }

  /** Ends the pool the store created from `connectionString` (an injected pool is left alone). */
  async close(): Promise<void> {
    await this.#db.close();
  }

  async get(rawUserId: string): Promise<VersionedCredentials | undefined> {
    const userId = normaliseUserId(rawUserId);
    return this.#observer.run(
      'get',
      userId,
      async () => {
        const result = await this.#query<{ record: unknown; version: string }>(
          'get',
          userId,
          `SELECT record, version FROM ${this.#table} WHERE user_id = $1`,
          [userId],
        );
        const row = result.rows[0];
        if (row === undefined) return undefined;
        const record = typeof row.record === 'string' ? parseJson(row.record, userId) : row.record;
        return { credentials: parseStoredCredentials(record, userId), version: row.version };
      },
      (result) => (result ? 'ok' : 'miss'),
    );
  }

  async put(rawUserId: string, credentials: StoredCredentials, options?: PutOptions): Promise<string> {
    const { userId, record } = validateWrite(rawUserId, credentials, options);
    const version = randomBytes(12).toString('hex');
    const json = JSON.stringify(record);
    return this.#observer.run('put', userId, async () => {
      const ifVersion = options?.ifVersion;
      if (ifVersion === undefined) {
        await this.#query(
          'put',
          userId,
          `INSERT INTO ${this.#table} (user_id, record, version) VALUES ($1, $2::jsonb, $3)
           ON CONFLICT (user_id) DO UPDATE SET record = EXCLUDED.record, version = EXCLUDED.version, updated_at = now()`,
          [userId, json, version],
        );
        return version;
      }
      const result =
        ifVersion === null
          ? await this.#query(
              'put',
              userId,
              `INSERT INTO ${this.#table} (user_id, record, version) VALUES ($1, $2::jsonb, $3) ON CONFLICT (user_id) DO NOTHING`,
              [userId, json, version],
            )
          : await this.#query(
              'put',
              userId,
              `UPDATE ${this.#table} SET record = $2::jsonb, version = $3, updated_at = now() WHERE user_id = $1 AND version = $4`,
              [userId, json, version, ifVersion],
            );
      if (result.rowCount !== 1) {
        throw new ConflictError(
          ifVersion === null
            ? `credentials for ${userId} already exist`
            : `credentials for ${userId} changed since version was read`,
          { userId },
        );
      }
      return version;
    });
  }

  async delete(rawUserId: string, options?: DeleteOptions): Promise<boolean> {
    const userId = validateDelete(rawUserId, options);
    return this.#observer.run(
      'delete',
      userId,
      async () => {
        if (options?.ifVersion === undefined) {
          const result = await this.#query(
            'delete',
            userId,
            `DELETE FROM ${this.#table} WHERE user_id = $1`,
            [userId],
          );
          return result.rowCount === 1;
        }
        // One statement tells the three outcomes apart: deleted; missing; present at another version.
        const result = await this.#query<{ deleted: string; present: boolean }>(
          'delete',
          userId,
          `WITH deleted AS (DELETE FROM ${this.#table} WHERE user_id = $1 AND version = $2 RETURNING 1)
           SELECT (SELECT count(*) FROM deleted) AS deleted,
                  EXISTS (SELECT 1 FROM ${this.#table} WHERE user_id = $1) AS present`,
          [userId, options.ifVersion],
        );
        const row = result.rows[0];
        // Stryker disable next-line OptionalChaining: a SELECT of two aggregates always returns exactly one row
        if (Number(row?.deleted ?? 0) === 1) return true;
        // Stryker disable next-line OptionalChaining: as above
        if (row?.present) {
          throw new ConflictError(`credentials for ${userId} changed since version was read`, { userId });
        }
        return false;
      },
      (removed) => (removed ? 'ok' : 'miss'),
    );
  }

  list(): AsyncIterable<string> {
    return this.#observer.iterate(() => this.#scan());
  }

  async *#scan(): AsyncIterable<string> {
    // Keyset pagination: each page starts after the last id seen, so concurrent writes never make a
    // page repeat or skip an id that existed throughout.
    let after = '';
    for (;;) {
      const page = await this.#query<{ user_id: string }>(
        'list',
        undefined,
        `SELECT user_id FROM ${this.#table} WHERE user_id > $1 ORDER BY user_id LIMIT $2`,
        [after, this.#pageSize],
      );
      for (const row of page.rows) yield row.user_id;
      if (page.rows.length < this.#pageSize) return;
      after = page.rows[page.rows.length - 1]!.user_id;
    }
  }
}

function parseJson(text: string, userId: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new CorruptCredentialsError(`stored credentials for ${userId} are not valid JSON`, { userId });
  }
}
