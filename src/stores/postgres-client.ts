/**
 * What the PostgreSQL store and session backend need from `pg` (node-postgres), declared
 * structurally, plus the pool they create from a connection string, the table-name check and the
 * mapping of PostgreSQL errors to this package's.
 *
 * @module
 */
import {
  ConfigurationError,
  CorruptCredentialsError,
  isCredentialError,
  StorageForbiddenError,
  StorageUnavailableError,
} from '../errors.js';
import { isMissingPackage } from '../internal/optional-peer.js';

/** A query result, as `pg` returns it. */
export interface PgResult<Row> {
  rows: Row[];
  rowCount: number | null;
}

/** A `pg.Pool` (or `pg.Client`, or anything with the same `query`). */
export interface PgQueryable {
  /** Runs one parameterised statement (`$1`, `$2`… bound to `values`). */
  query<Row = Record<string, unknown>>(text: string, values?: unknown[]): Promise<PgResult<Row>>;
}

/** A pool the store made itself, which it ends on `close()`. */
interface OwnedPool extends PgQueryable {
  end(): Promise<void>;
}

/** How a store connects: a pool you own, or a connection string (a `pg.Pool` is made and owned). */
export interface PgConnectionOptions {
  /** A `pg.Pool` (shared with your application; the store never ends it). */
  pool?: PgQueryable;
  /** `postgres://user:password@host:5432/database`; the store creates a `pg.Pool` and ends it on `close()`. */
  connectionString?: string;
  /** Pool size when `connectionString` is given. Default 10. */
  maxConnections?: number;
}

/**
 * The pool a store or backend queries: the injected one at once, or a `pg.Pool` made from the
 * connection string on first use (loading `pg` only then), ended by `close()`.
 */
export class PgConnection {
  readonly #options: PgConnectionOptions;
  readonly #what: string;
  #ready: PgQueryable | undefined;
  #opening: Promise<{ pool: PgQueryable; owned?: OwnedPool }> | undefined;

  constructor(options: PgConnectionOptions, what: string) {
    this.#options = options;
    this.#what = what;
    this.#ready = options.pool;
  }

  /** Runs one statement. Errors are `pg`'s (or `ConfigurationError` when `pg` is missing). */
  async query<Row>(text: string, values: unknown[]): Promise<PgResult<Row>> {
    if (this.#ready !== undefined) return this.#ready.query<Row>(text, values);
    this.#opening ??= openPool(this.#options, this.#what).catch((error: unknown) => {
      this.#opening = undefined;
      throw error;
    });
    const { pool } = await this.#opening;
    this.#ready = pool;
    return pool.query<Row>(text, values);
  }

  /** Ends the pool made from the connection string (an injected pool is left alone). Idempotent. */
  async close(): Promise<void> {
    const opening = this.#opening;
    this.#opening = undefined;
    if (opening === undefined) return;
    this.#ready = undefined;
    const opened = await opening.catch(() => undefined);
    await opened?.owned?.end();
  }
}

/** Opens the pool: the given one, or a new `pg.Pool` (loading `pg` only then). */
async function openPool(
  options: PgConnectionOptions,
  what: string,
): Promise<{ pool: PgQueryable; owned?: OwnedPool }> {
  if (options.pool !== undefined) return { pool: options.pool };
  if (!options.connectionString) throw new ConfigurationError(`${what} needs pool or connectionString`);
  let pg: typeof import('pg');
  try {
    pg = (await import('pg')) as typeof import('pg');
  } catch (error) {
    if (isMissingPackage(error, 'pg')) {
      throw new ConfigurationError(`${what} needs the optional peer dependency pg`, {
        hint: 'npm install pg',
      });
    }
    throw error;
  }
  const Pool =
    (pg as unknown as { Pool?: typeof import('pg').Pool; default?: { Pool: typeof import('pg').Pool } })
      .Pool ?? (pg as { default: { Pool: typeof import('pg').Pool } }).default.Pool;
  const owned = new Pool({ connectionString: options.connectionString, max: options.maxConnections ?? 10 });
  // An idle client's error (the server went away) must not crash the process; the next query reports it.
  owned.on('error', () => {});
  return { pool: owned as unknown as PgQueryable, owned: owned as unknown as OwnedPool };
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Checks a table name (`table` or `schema.table`, lower-case identifiers) so it can be interpolated
 * into SQL without injection; throws `ConfigurationError` naming the option otherwise.
 */
export function checkTableName(name: string, option: string): string {
  const parts = name.split('.');
  if (parts.length > 2 || parts.some((part) => !IDENTIFIER.test(part))) {
    throw new ConfigurationError(
      `${option} must be a lower-case SQL identifier (or schema.table), got "${name.slice(0, 80)}"`,
    );
  }
  return parts.map((part) => `"${part}"`).join('.');
}

/** Maps a `pg` error to this package's; `action` and `where` name what failed (never values). */
export function translatePgError(error: unknown, action: string, where: string, userId?: string): unknown {
  if (isCredentialError(error)) return error;
  const code = (error as { code?: unknown } | undefined)?.code;
  const options = { cause: error, ...(userId === undefined ? {} : { userId }) };
  const who = userId === undefined ? '' : ` for ${userId}`;
  if (code === '42P01') {
    return new ConfigurationError(`PostgreSQL table ${where} does not exist`, {
      ...options,
      hint: 'run ensureSchema() once (or apply the schema in docs/stores.md)',
    });
  }
  if (code === '28P01' || code === '28000' || code === '3D000') {
    return new ConfigurationError(`PostgreSQL refused the connection settings (${code})`, {
      ...options,
      hint: 'check the user, password and database of the connection string',
    });
  }
  if (code === '42501') {
    return new StorageForbiddenError(`PostgreSQL denied ${action}${who} on ${where}`, {
      ...options,
      hint: `GRANT SELECT, INSERT, UPDATE, DELETE ON ${where} to this user`,
    });
  }
  if (code === '22P02' || code === '22032') {
    return new CorruptCredentialsError(`stored credentials${who} in ${where} are not valid JSON`, options);
  }
  const reason = typeof code === 'string' ? code : 'connection error';
  return new StorageUnavailableError(`PostgreSQL ${action}${who} failed (${reason})`, {
    ...options,
    hint: 'PostgreSQL is down, overloaded or unreachable; the operation can be retried',
  });
}

/**
 * Runs `CREATE TABLE IF NOT EXISTS` for `table` (quoted, as {@link checkTableName} returns it) unless
 * it exists already, so a server whose database user may not create tables can still call it.
 * Replicas starting together may race: `IF NOT EXISTS` does not see a table another transaction is
 * creating, so PostgreSQL reports a duplicate for all but one: 23505 (the catalog's unique index),
 * 42P07 (the relation) or 42710 (the row type, when the other commit lands between the two checks).
 * A duplicate is success only if a table is there afterwards: when a view, sequence or type already
 * has the name, `IF NOT EXISTS` skips (or PostgreSQL reports 42710) and no table exists, which is a
 * {@link ConfigurationError} naming the table rather than a failure on the first query.
 */
export async function createTableIfMissing(
  run: <Row>(text: string, values: unknown[]) => Promise<PgResult<Row>>,
  table: string,
  ddl: string,
): Promise<void> {
  const tableExists = async (): Promise<boolean> => {
    // A composite type or a view has a pg_class row too; only a table (plain or partitioned) will do.
    const existing = await run<{ found: string | null }>(
      "SELECT relname AS found FROM pg_class WHERE oid = to_regclass($1) AND relkind IN ('r', 'p')",
      [table],
    );
    return Boolean(existing.rows[0]?.found);
  };
  if (await tableExists()) return;
  try {
    await run(ddl, []);
  } catch (error) {
    const code = (error as { cause?: { code?: unknown } }).cause?.code ?? (error as { code?: unknown }).code;
    if (code !== '23505' && code !== '42P07' && code !== '42710') throw error;
  }
  if (!(await tableExists())) {
    throw new ConfigurationError(`PostgreSQL ${table} exists but is not a table`, {
      hint: 'a view, sequence or type has this name: choose another table name, or drop that object',
    });
  }
}
