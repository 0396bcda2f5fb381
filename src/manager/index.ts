/**
 * `mcp-oauth-credentials/manager`: {@link CredentialManager}, which keeps access tokens fresh
 * (refreshed once, saved once, across replicas) and completes, checks and revokes Google sign-ins.
 * Needs `google-auth-library` (a required peer).
 *
 * @packageDocumentation
 */

export type { DiscoveredOidcProvider, DiscoverOidcProviderOptions } from '../refresh/discovery.js';
export { discoverOidcProvider, GOOGLE_JWKS_URL } from '../refresh/discovery.js';
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
  SignInPolicy,
} from '../refresh/manager.js';
export {
  admittedBy,
  CredentialManager,
  DEFAULT_CREDENTIALS_CACHE_SIZE,
  DEFAULT_MAX_BACKGROUND_REVALIDATIONS,
} from '../refresh/manager.js';
