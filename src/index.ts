/**
 * mcp-oauth-credentials: per-user Google OAuth credentials for Node MCP servers.
 *
 * The root entry point is light: the credentials record and its codecs, typed errors, and the
 * stores (memory, file, encrypted, `createCredentialStore`). It loads no google-auth-library, no MCP
 * SDK, no AWS SDK, Redis client or framework: the refresh manager (`/manager`), sessions
 * (`/session`), the HTTP core (`/http`), the S3 store (`/s3`), the Redis backend (`/redis`), the
 * Express adapter (`/express`) and the MCP SDK adapters (`/sdk-v1`) live behind their own subpaths.
 *
 * @packageDocumentation
 */
export type { AuthInfo, BearerTokenVerifier } from './auth-info.js';
export type { Clock } from './clock.js';
export { systemClock } from './clock.js';
export type {
  CredentialsSummary,
  GoogleTokens,
  PythonCredentialsDocument,
  ShapeIssue,
  ShapeSchema,
  StoredCredentials,
  VersionedCredentials,
} from './credentials.js';
export {
  describeCredentials,
  formatPythonExpiry,
  fromGoogleTokens,
  fromPythonDocument,
  mergeRefreshedTokens,
  parsePythonExpiry,
  parseStoredCredentials,
  pythonCredentialsDocumentSchema,
  splitScopes,
  storedCredentialsSchema,
  toGoogleTokens,
  toPythonDocument,
} from './credentials.js';
export type { EncryptionKey, KeyProvider } from './encryption/keyring.js';
export { KEYS_ENV_VAR, Keyring, keyringFromEnv } from './encryption/keyring.js';
export type {
  AccessDeniedReason,
  AnyCredentialError,
  CredentialErrorCode,
  CredentialErrorOptions,
} from './errors.js';
export {
  AccessDeniedError,
  AuthorizationRequiredError,
  ConfigurationError,
  ConflictError,
  CorruptCredentialsError,
  CREDENTIAL_ERROR_BRAND,
  CredentialError,
  InvalidInputError,
  InvalidTokenError,
  isCredentialError,
  NotFoundError,
  ProviderError,
  ReauthRequiredError,
  SanitisedCause,
  StorageForbiddenError,
  StorageUnavailableError,
} from './errors.js';
export type { Logger, LogMethod } from './logger.js';
export { silentLogger } from './logger.js';
export type { PkcePair } from './secrets.js';
export { createPkcePair, pkceChallenge, randomToken } from './secrets.js';
export type { CreateCredentialStoreOptions } from './stores/create.js';
export { createCredentialStore } from './stores/create.js';
export type { EncryptedCredentialStoreOptions, RotationOutcome } from './stores/encrypted.js';
export { EncryptedCredentialStore, isSealed } from './stores/encrypted.js';
export type { FileCredentialStoreOptions } from './stores/file.js';
export {
  DEFAULT_LOCK_STALE_MS,
  DEFAULT_LOCK_TIMEOUT_MS,
  defaultCredentialsDirectory,
  FileCredentialStore,
} from './stores/file.js';
export { validateDelete, validateWrite } from './stores/input.js';
export type { MemoryCredentialStoreOptions } from './stores/memory.js';
export { MemoryCredentialStore } from './stores/memory.js';
export type { ObserveStoreOptions } from './stores/observe.js';
export { observeStore } from './stores/observe.js';
export type {
  CredentialStore,
  DeleteOptions,
  PutOptions,
  StoreOperation,
  StoreOperationEvent,
  StoreOperationListener,
  StoreOperationOutcome,
} from './stores/types.js';
export {
  decodeUserIdFromStorage,
  encodeUserIdForStorage,
  isValidUserId,
  normaliseUserId,
} from './user-id.js';
