/**
 * mcp-oauth-credentials: per-user Google OAuth credentials for Node MCP servers.
 *
 * The root entry point has no heavy dependencies: the S3 store (`mcp-oauth-credentials/s3`), the
 * Redis session backend (`mcp-oauth-credentials/redis`) and the Express handlers
 * (`mcp-oauth-credentials/express`) live behind their own subpaths.
 *
 * @packageDocumentation
 */
export type { Clock } from './clock.js';
export { systemClock } from './clock.js';
export type {
  CredentialsSummary,
  GoogleTokens,
  PythonCredentialsDocument,
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
export type { CredentialErrorCode, CredentialErrorOptions } from './errors.js';
export {
  AccessDeniedError,
  ConfigurationError,
  ConflictError,
  CorruptCredentialsError,
  CredentialError,
  InvalidInputError,
  isCredentialError,
  NotFoundError,
  ProviderError,
  ReauthRequiredError,
  StorageUnavailableError,
} from './errors.js';
export type { Logger, LogMethod } from './logger.js';
export { silentLogger } from './logger.js';
export type {
  AuthorizationResult,
  AuthorizationUrlInput,
  CompleteAuthorizationInput,
  CredentialManagerEvents,
  CredentialManagerOAuthOptions,
  CredentialManagerOptions,
  OAuthEndpoints,
  RetryOptions,
  RevokeResult,
} from './refresh/manager.js';
export { CredentialManager } from './refresh/manager.js';
export type { PkcePair } from './secrets.js';
export {
  createPkcePair,
  isPkceVerifier,
  pkceChallenge,
  randomToken,
  secretsEqual,
  sha256,
} from './secrets.js';
export type { BackendSetOptions, SessionBackend } from './session/backend.js';
export { MAX_BACKEND_KEY_LENGTH } from './session/backend.js';
export type { MemorySessionBackendOptions } from './session/memory-backend.js';
export { MemorySessionBackend } from './session/memory-backend.js';
export type {
  CredentialAccessRequest,
  IssueBearerTokenOptions,
  IssuedBearerToken,
  OAuth21SessionStoreOptions,
  OAuthStateData,
  SessionInfo,
  SessionStoreStats,
  StoreOAuthStateInput,
  StoreSessionInput,
  ValidatedAccess,
} from './session/session-store.js';
export { OAuth21SessionStore, SESSION_NAMESPACES } from './session/session-store.js';
export type { CreateCredentialStoreOptions } from './stores/create.js';
export { createCredentialStore } from './stores/create.js';
export type { EncryptedCredentialStoreOptions, RotationOutcome } from './stores/encrypted.js';
export { EncryptedCredentialStore, isSealed } from './stores/encrypted.js';
export type { FileCredentialStoreOptions } from './stores/file.js';
export { defaultCredentialsDirectory, FileCredentialStore } from './stores/file.js';
export { validateDelete, validateWrite } from './stores/input.js';
export type { MemoryCredentialStoreOptions } from './stores/memory.js';
export { MemoryCredentialStore } from './stores/memory.js';
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
