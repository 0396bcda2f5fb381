/**
 * `mcp-oauth-credentials/session`: {@link OAuth21SessionStore} (who is calling: sessions, MCP
 * session bindings, opaque bearer tokens, single-use state, the access rules) and its memory
 * backend. The Redis backend is `mcp-oauth-credentials/redis`. Loads no MCP SDK.
 *
 * @packageDocumentation
 */
export type { BackendSetOptions, ClaimResult, SessionBackend } from './backend.js';
export { MAX_BACKEND_KEY_LENGTH } from './backend.js';
export type { MemorySessionBackendOptions } from './memory-backend.js';
export { MemorySessionBackend } from './memory-backend.js';
export { REQUEST_READS_MAX_AGE_MS } from './request-reads.js';
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
} from './session-store.js';
export { OAuth21SessionStore } from './session-store.js';
