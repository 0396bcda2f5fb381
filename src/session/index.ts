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
export { OAuth21SessionStore } from './session-store.js';
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
} from './types.js';
export {
  DEFAULT_BEARER_TOKEN_CLIENT_ID,
  DEFAULT_BEARER_TOKEN_PREFIX,
  DEFAULT_BEARER_TOKEN_TTL_MS,
  DEFAULT_BINDING_TTL_MS,
  DEFAULT_MAX_BEARER_TOKENS,
  DEFAULT_MAX_BINDINGS,
  DEFAULT_MAX_SESSIONS,
  DEFAULT_MAX_STATES,
  DEFAULT_SESSION_TTL_MS,
  DEFAULT_STATE_TTL_MS,
} from './types.js';
export {
  DEFAULT_VERIFIED_TOKEN_CACHE_MAX,
  DEFAULT_VERIFIED_TOKEN_CACHE_TTL_MS,
} from './verified-tokens.js';
