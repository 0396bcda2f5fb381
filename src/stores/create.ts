/**
 * {@link createCredentialStore}: builds a store from a string, the way operators configure one.
 *
 * @module
 */
import { fileURLToPath } from 'node:url';
import { KEYS_ENV_VAR, type KeyProvider, keyringFromEnv } from '../encryption/keyring.js';
import { ConfigurationError, InvalidInputError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { DynamoStoreSettings } from './dynamodb-settings.js';
import { EncryptedCredentialStore } from './encrypted.js';
import { defaultCredentialsDirectory, FileCredentialStore, type FileCredentialStoreOptions } from './file.js';
import { loadDynamoStore, loadS3Store } from './load-store-module.js';
import { MemoryCredentialStore } from './memory.js';
import type { S3StoreSettings } from './s3-settings.js';
import type { CredentialStore, StoreOperationListener } from './types.js';

const ENCRYPTED_PREFIX = 'encrypted+';

/** Options of {@link createCredentialStore}. */
export interface CreateCredentialStoreOptions {
  /**
   * Where to read `WORKSPACE_MCP_CREDENTIALS_DIR` / `GOOGLE_MCP_CREDENTIALS_DIR` when no spec is given.
   * Default: `process.env`.
   */
  env?: Record<string, string | undefined>;
  /** Passed to the store. */
  logger?: Logger;
  /** Passed to the store (see docs/observability.md). */
  onOperation?: StoreOperationListener;
  /**
   * Extra options for a file store (`fsync`, lock timings, `sharedGroup`, `createDirectory`). Without
   * a spec (the google_workspace_mcp default location) `createDirectory` defaults to true, as the
   * Python server creates it; for an explicit directory it defaults to false, so a typo'd path is a
   * `ConfigurationError` rather than an empty store.
   */
  file?: Omit<FileCredentialStoreOptions, 'directory' | 'logger' | 'onOperation'>;
  /**
   * Extra options for an S3 store: region, endpoint, timeouts, encryption (see `S3StoreSettings` in
   * `mcp-oauth-credentials/s3`), plus `client` (an `S3Client`) and `credentials` (static
   * credentials or a provider), typed loosely here so the root needs no AWS SDK types.
   */
  s3?: Omit<S3StoreSettings, 'logger' | 'onOperation'> & { client?: unknown; credentials?: unknown };
  /**
   * For `encrypted+...` specs: the keys (default: `keyringFromEnv()`, i.e. `MCP_OAUTH_CREDENTIALS_KEYS`)
   * and whether plaintext records are read (for migrations).
   */
  encryption?: { keyring?: KeyProvider; acceptPlaintext?: boolean };
  /**
   * Extra options for a `postgres://` store: `table` (default `mcp_oauth_credentials`), `maxConnections`
   * (pool size, default 10) and `listPageSize`. The connection string is the spec itself.
   */
  postgres?: { table?: string; maxConnections?: number; listPageSize?: number };
  /**
   * Extra options for a `dynamodb://` store: region, endpoint, timeouts, retries, `ttl` (see
   * `DynamoStoreSettings` in `mcp-oauth-credentials/dynamodb`), plus `client` (a `DynamoDBClient`)
   * and `credentials`, typed loosely here so the root needs no AWS SDK types.
   */
  dynamodb?: Omit<DynamoStoreSettings, 'logger' | 'onOperation'> & {
    client?: unknown;
    credentials?: unknown;
  };
  /**
   * Create what a `postgres://` or `dynamodb://` store needs when it is missing (the table; DynamoDB
   * TTL), as `ensureSchema()` / `ensureTable()` do, before resolving. For tools that write into a
   * new store (the CLI's `migrate --to` and `import`). Needs the rights to create tables. Default false.
   */
  createTables?: boolean;
}

/**
 * Builds a credential store from a spec string:
 *
 * | spec | store |
 * | --- | --- |
 * | `memory:` | {@link MemoryCredentialStore} |
 * | `/abs/dir`, `./rel/dir`, `~/dir` | {@link FileCredentialStore} in that directory |
 * | `file:///abs/dir` | {@link FileCredentialStore} in that directory |
 * | `s3://bucket/prefix/` | `S3CredentialStore` (needs `@aws-sdk/client-s3`; loaded only then) |
 * | `postgres://user:password@host/db`, `postgresql://…` | `PostgresCredentialStore` (needs `pg`; loaded only then) |
 * | `dynamodb://table`, `dynamodb://table/prefix/` | `DynamoCredentialStore` (needs `@aws-sdk/client-dynamodb`; loaded only then) |
 * | `encrypted+<any of the above>` | {@link EncryptedCredentialStore} around it |
 *
 * Without a spec (or with an empty one) the google_workspace_mcp variables decide:
 * `WORKSPACE_MCP_CREDENTIALS_DIR`, then `GOOGLE_MCP_CREDENTIALS_DIR`, then
 * `~/.google_workspace_mcp/credentials`.
 *
 * @throws InvalidInputError for an unknown scheme or a malformed URL.
 */
export async function createCredentialStore(
  spec?: string,
  options: CreateCredentialStoreOptions = {},
): Promise<CredentialStore> {
  const defaultLocation = !spec?.trim();
  const chosen = spec?.trim() || defaultCredentialsDirectory(options.env ?? process.env);
  if (chosen.startsWith(ENCRYPTED_PREFIX)) {
    if (chosen.slice(ENCRYPTED_PREFIX.length).startsWith(ENCRYPTED_PREFIX)) {
      throw new InvalidInputError(
        'encrypted+encrypted+ is not a store spec: one encrypted+ seals every record',
      );
    }
    const keyring = options.encryption?.keyring ?? keyringFromEnv(options.env ?? process.env);
    if (!keyring) {
      throw new ConfigurationError(
        `encrypted stores need keys: set ${KEYS_ENV_VAR} or pass encryption.keyring`,
      );
    }
    const inner = await createCredentialStore(chosen.slice(ENCRYPTED_PREFIX.length), options);
    return new EncryptedCredentialStore(inner, {
      keyring,
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.encryption?.acceptPlaintext === undefined
        ? {}
        : { acceptPlaintext: options.encryption.acceptPlaintext }),
    });
  }
  const common = {
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.onOperation ? { onOperation: options.onOperation } : {}),
  };
  if (chosen === 'memory:' || chosen === 'memory://') {
    return new MemoryCredentialStore(common);
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(chosen)?.[1]?.toLowerCase();
  if (scheme === undefined || /^[a-z]:[\\/]/i.test(chosen)) {
    return new FileCredentialStore({
      createDirectory: defaultLocation,
      ...options.file,
      ...common,
      directory: chosen,
    });
  }
  if (scheme === 'file') {
    let directory: string;
    try {
      directory = fileURLToPath(chosen);
    } catch (error) {
      throw new InvalidInputError('credential store spec is not a valid file:// URL', { cause: error });
    }
    return new FileCredentialStore({
      createDirectory: defaultLocation,
      ...options.file,
      ...common,
      directory,
    });
  }
  if (scheme === 's3') {
    const { S3CredentialStore } = await loadS3Store();
    return new S3CredentialStore({
      ...(options.s3 as ConstructorParameters<typeof S3CredentialStore>[0]),
      ...common,
      location: chosen,
    });
  }
  if (scheme === 'postgres' || scheme === 'postgresql') {
    const { PostgresCredentialStore } = await import('./postgres.js');
    const store = new PostgresCredentialStore({ ...options.postgres, ...common, connectionString: chosen });
    if (options.createTables) await store.ensureSchema();
    return store;
  }
  if (scheme === 'dynamodb') {
    const { DynamoCredentialStore, parseDynamoLocation } = await loadDynamoStore();
    const store = new DynamoCredentialStore({
      ...(options.dynamodb as Omit<ConstructorParameters<typeof DynamoCredentialStore>[0], 'table'>),
      ...common,
      ...parseDynamoLocation(chosen),
    });
    if (options.createTables) await store.ensureTable();
    return store;
  }
  throw new InvalidInputError(
    `unsupported credential store scheme "${scheme}:" (use memory:, a directory path, file:///dir, s3://bucket/prefix, postgres://… or dynamodb://table)`,
  );
}
