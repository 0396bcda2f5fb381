/**
 * `mcp-oauth-credentials/postgres`: the PostgreSQL credential store and session backend, so
 * replicas can share credentials and sessions on PostgreSQL alone. Takes a `pg.Pool` (or a
 * connection string, with `pg` installed: an optional peer dependency); importing this entry point
 * loads no driver.
 *
 * @packageDocumentation
 */
export type { PostgresSessionBackendOptions } from '../session/postgres-backend.js';
export {
  DEFAULT_POSTGRES_CLEANUP_INTERVAL_MS,
  DEFAULT_POSTGRES_SESSIONS_TABLE,
  PostgresSessionBackend,
} from '../session/postgres-backend.js';
export type { PostgresCredentialStoreOptions } from '../stores/postgres.js';
export {
  DEFAULT_POSTGRES_CREDENTIALS_TABLE,
  DEFAULT_POSTGRES_LIST_PAGE_SIZE,
  PostgresCredentialStore,
} from '../stores/postgres.js';
export type { PgConnectionOptions, PgQueryable, PgResult } from '../stores/postgres-client.js';
