/**
 * {@link PostgresSessionBackend}: session state (sessions, bindings, hashed bearer tokens,
 * single-use state, the authorization server's records) in PostgreSQL, so a team can run replicas on
 * PostgreSQL alone. Every operation the session store relies on is one atomic statement: "set if
 * absent" is an upsert that only replaces an expired row, "take" is `DELETE … RETURNING`, a claim is
 * an insert that only the first caller wins. Expiry is a column checked on every read (against the
 * injected clock) and swept periodically. Import from `mcp-oauth-credentials/postgres`.
 *
 * ```sql
 * CREATE TABLE mcp_oauth_sessions (namespace text, key text, value jsonb NOT NULL,
 *   expires_at bigint NOT NULL, PRIMARY KEY (namespace, key));
 * CREATE TABLE mcp_oauth_sessions_members (namespace text, key text, member text,
 *   expires_at bigint NOT NULL, PRIMARY KEY (namespace, key, member));
 * ```
 *
 * @module
 */
import { type Clock, systemClock } from '../clock.js';
import { ConfigurationError, InvalidInputError } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import {
  checkTableName,
  createTableIfMissing,
  PgConnection,
  type PgConnectionOptions,
  translatePgError,
} from '../stores/postgres-client.js';
import {
  type BackendSetOptions,
  type ClaimResult,
  MAX_BACKEND_KEY_LENGTH,
  type SessionBackend,
} from './backend.js';

/** Default table prefix of {@link PostgresSessionBackend}. */
export const DEFAULT_POSTGRES_SESSIONS_TABLE = 'mcp_oauth_sessions';
/** Default interval of the sweep that deletes expired rows, ms: 1 minute. */
export const DEFAULT_POSTGRES_CLEANUP_INTERVAL_MS = 60_000;

/** Options of {@link PostgresSessionBackend}. */
export interface PostgresSessionBackendOptions extends PgConnectionOptions {
  /**
   * The entries table (`table` or `schema.table`); members live in `<table>_members`. Default
   * {@link DEFAULT_POSTGRES_SESSIONS_TABLE}.
   */
  table?: string;
  /**
   * How often expired rows are deleted, ms; `0` turns the sweep off (run `cleanup()` yourself).
   * Reads never return an expired row either way. Default {@link DEFAULT_POSTGRES_CLEANUP_INTERVAL_MS}.
   */
  cleanupIntervalMs?: number;
  /** The time source for expiry. Default: the system clock. */
  clock?: Clock;
  /** Default: silent. */
  logger?: Logger;
}

/** See the module documentation. */
export class PostgresSessionBackend implements SessionBackend {
  readonly locality = 'shared' as const;
  readonly #entries: string;
  readonly #members: string;
  readonly #tableName: string;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #timer: NodeJS.Timeout | undefined;
  readonly #db: PgConnection;

  constructor(options: PostgresSessionBackendOptions) {
    if (!options?.pool && !options?.connectionString) {
      throw new ConfigurationError('PostgresSessionBackend needs pool or connectionString');
    }
    this.#tableName = options.table ?? DEFAULT_POSTGRES_SESSIONS_TABLE;
    this.#entries = checkTableName(this.#tableName, 'table');
    this.#members = checkTableName(`${this.#tableName}_members`, 'table');
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
    this.#db = new PgConnection(options, 'PostgresSessionBackend');
    const interval = options.cleanupIntervalMs ?? DEFAULT_POSTGRES_CLEANUP_INTERVAL_MS;
    if (!Number.isFinite(interval) || interval < 0) {
      throw new ConfigurationError('cleanupIntervalMs must be a non-negative number of milliseconds');
    }
    if (interval > 0) {
      this.#timer = setInterval(() => {
        this.cleanup().catch((error: unknown) =>
          this.#logger.warn(
            { store: 'postgres-sessions', error: String((error as Error).name) },
            'expired-row sweep failed',
          ),
        );
      }, interval);
      this.#timer.unref();
    }
  }

  async #query<Row>(action: string, text: string, values: unknown[]) {
    try {
      return await this.#db.query<Row>(text, values);
    } catch (error) {
      throw translatePgError(error, action, this.#tableName);
    }
  }

  #key(key: string): string {
    if (typeof key !== 'string' || key.length === 0 || key.length > MAX_BACKEND_KEY_LENGTH) {
      throw new InvalidInputError(`session backend keys must be 1 to ${MAX_BACKEND_KEY_LENGTH} characters`);
    }
    return key;
  }

  /** Creates the two tables if they do not exist (idempotent). */
  async ensureSchema(): Promise<void> {
    const run = <Row>(text: string, values: unknown[]) => this.#query<Row>('create the tables', text, values);
    await createTableIfMissing(
      run,
      this.#entries,
      `CREATE TABLE IF NOT EXISTS ${this.#entries} (
        namespace text NOT NULL, key text NOT NULL, value jsonb NOT NULL, expires_at bigint NOT NULL,
        PRIMARY KEY (namespace, key))`,
    );
    await createTableIfMissing(
      run,
      this.#members,
      `CREATE TABLE IF NOT EXISTS ${this.#members} (
        namespace text NOT NULL, key text NOT NULL, member text NOT NULL, expires_at bigint NOT NULL,
        PRIMARY KEY (namespace, key, member))`,
    );
  }

  /** Deletes expired rows now; resolves how many went. */
  async cleanup(): Promise<number> {
    const now = this.#clock.now();
    const entries = await this.#query('sweep', `DELETE FROM ${this.#entries} WHERE expires_at <= $1`, [now]);
    const members = await this.#query('sweep', `DELETE FROM ${this.#members} WHERE expires_at <= $1`, [now]);
    return (entries.rowCount ?? 0) + (members.rowCount ?? 0);
  }

  async get<T>(namespace: string, key: string): Promise<T | undefined> {
    const result = await this.#query<{ value: T }>(
      'get',
      `SELECT value FROM ${this.#entries} WHERE namespace = $1 AND key = $2 AND expires_at > $3`,
      [namespace, this.#key(key), this.#clock.now()],
    );
    return result.rows[0]?.value;
  }

  async set(namespace: string, key: string, value: unknown, options: BackendSetOptions): Promise<boolean> {
    const now = this.#clock.now();
    const expiresAt = now + Math.max(1, Math.ceil(options.ttlMs));
    const json = JSON.stringify(value);
    // "If absent" treats an expired row as absent: the upsert replaces only a row that has expired.
    const result = await this.#query(
      'set',
      options.onlyIfAbsent
        ? `INSERT INTO ${this.#entries} (namespace, key, value, expires_at) VALUES ($1, $2, $3::jsonb, $4)
           ON CONFLICT (namespace, key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at
           WHERE ${this.#entries}.expires_at <= $5`
        : `INSERT INTO ${this.#entries} (namespace, key, value, expires_at) VALUES ($1, $2, $3::jsonb, $4)
           ON CONFLICT (namespace, key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at`,
      options.onlyIfAbsent
        ? [namespace, this.#key(key), json, expiresAt, now]
        : [namespace, this.#key(key), json, expiresAt],
    );
    return result.rowCount === 1;
  }

  async claim<T>(
    namespace: string,
    key: string,
    marker: string,
    ttlMs: number,
  ): Promise<ClaimResult<T> | undefined> {
    const value = await this.get<T>(namespace, key);
    if (value === undefined) return undefined;
    const claimNamespace = `${namespace}#claim`;
    const first = await this.set(claimNamespace, key, marker, { ttlMs, onlyIfAbsent: true });
    if (first) return { value, first: true, firstMarker: marker };
    const existing = await this.get<string>(claimNamespace, key);
    return { value, first: false, firstMarker: existing ?? marker };
  }

  async take<T>(namespace: string, key: string): Promise<T | undefined> {
    const result = await this.#query<{ value: T; expires_at: string }>(
      'take',
      `DELETE FROM ${this.#entries} WHERE namespace = $1 AND key = $2 RETURNING value, expires_at`,
      [namespace, this.#key(key)],
    );
    const row = result.rows[0];
    return row !== undefined && Number(row.expires_at) > this.#clock.now() ? row.value : undefined;
  }

  async delete(namespace: string, key: string): Promise<boolean> {
    const result = await this.#query<{ expires_at: string }>(
      'delete',
      `DELETE FROM ${this.#entries} WHERE namespace = $1 AND key = $2 RETURNING expires_at`,
      [namespace, this.#key(key)],
    );
    const row = result.rows[0];
    return row !== undefined && Number(row.expires_at) > this.#clock.now();
  }

  async addMember(namespace: string, key: string, member: string, ttlMs: number): Promise<void> {
    const expiresAt = this.#clock.now() + Math.max(1, Math.ceil(ttlMs));
    await this.#query(
      'addMember',
      `INSERT INTO ${this.#members} (namespace, key, member, expires_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (namespace, key, member) DO UPDATE SET expires_at = GREATEST(${this.#members}.expires_at, EXCLUDED.expires_at)`,
      [namespace, this.#key(key), member, expiresAt],
    );
  }

  async removeMember(namespace: string, key: string, member: string): Promise<void> {
    await this.#query(
      'removeMember',
      `DELETE FROM ${this.#members} WHERE namespace = $1 AND key = $2 AND member = $3`,
      [namespace, this.#key(key), member],
    );
  }

  async takeMembers(namespace: string, key: string): Promise<string[]> {
    const result = await this.#query<{ member: string; expires_at: string }>(
      'takeMembers',
      `DELETE FROM ${this.#members} WHERE namespace = $1 AND key = $2 RETURNING member, expires_at`,
      [namespace, this.#key(key)],
    );
    const now = this.#clock.now();
    return result.rows.filter((row) => Number(row.expires_at) > now).map((row) => row.member);
  }

  async count(namespace: string): Promise<number> {
    const result = await this.#query<{ count: string }>(
      'count',
      `SELECT count(*) AS count FROM ${this.#entries} WHERE namespace = $1 AND expires_at > $2`,
      [namespace, this.#clock.now()],
    );
    return Number(result.rows[0]?.count ?? 0);
  }

  /** Stops the sweep and ends the pool the backend created from `connectionString`. */
  async close(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    await this.#db.close();
  }
}
