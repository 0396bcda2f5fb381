/**
 * {@link createCredentialStore}: builds a store from a string, the way operators configure one.
 *
 * @module
 */
import { fileURLToPath } from 'node:url';
import { KEYS_ENV_VAR, type KeyProvider, keyringFromEnv } from '../encryption/keyring.js';
import { ConfigurationError, InvalidInputError } from '../errors.js';
import type { Logger } from '../logger.js';
import { EncryptedCredentialStore } from './encrypted.js';
import { defaultCredentialsDirectory, FileCredentialStore, type FileCredentialStoreOptions } from './file.js';
import { loadS3Store } from './load-s3.js';
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
  /** Passed to the store (see README "Monitoring"). */
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
  throw new InvalidInputError(
    `unsupported credential store scheme "${scheme}:" (use memory:, a directory path, file:///dir or s3://bucket/prefix)`,
  );
}
