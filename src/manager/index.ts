/**
 * `mcp-oauth-credentials/manager`: {@link CredentialManager}, which keeps access tokens fresh
 * (refreshed once, saved once, across replicas) and completes, checks and revokes Google sign-ins.
 * Needs `google-auth-library` (a required peer).
 *
 * @packageDocumentation
 */

export type {
  AuthorizationResult,
  CompleteAuthorizationInput,
  RevokeResult,
  SignInPolicy,
} from '../refresh/authorization.js';
export { admittedBy } from '../refresh/authorization.js';
export type {
  DiscoveredOidcProvider,
  DiscoverOidcProviderOptions,
  OAuthEndpoints,
} from '../refresh/discovery.js';
export { discoverOidcProvider, GOOGLE_JWKS_URL } from '../refresh/discovery.js';
export type { CredentialManagerEvents } from '../refresh/events.js';
export { CredentialManager } from '../refresh/manager.js';
export type {
  CredentialManagerOAuthOptions,
  CredentialManagerOptions,
  RetryOptions,
} from '../refresh/options.js';
export {
  DEFAULT_CREDENTIALS_CACHE_SIZE,
  DEFAULT_CREDENTIALS_CACHE_TTL_MS,
  DEFAULT_INVALID_GRANT_GRACE_MS,
  DEFAULT_MAX_BACKGROUND_REVALIDATIONS,
  DEFAULT_MAX_CONCURRENT_REFRESHES,
  DEFAULT_MAX_CONFLICT_RETRIES,
  DEFAULT_PROVIDER_REQUEST_TIMEOUT_MS,
  DEFAULT_REFRESH_SKEW_MS,
  DEFAULT_RETRY_ATTEMPTS,
  DEFAULT_RETRY_BASE_DELAY_MS,
  DEFAULT_RETRY_MAX_DELAY_MS,
  DEFAULT_SERVICE_CACHE_MAX,
  DEFAULT_SERVICE_CACHE_TTL_MS,
  GOOGLE_ISSUERS,
} from '../refresh/options.js';
export type { AuthorizationUrlInput } from '../refresh/provider-client.js';
