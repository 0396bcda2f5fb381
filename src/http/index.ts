/**
 * `mcp-oauth-credentials/http`: the HTTP core, written once against web-standard `Request` →
 * `Response` (Node's own `fetch` types): the bearer-mode sign-in handlers and the MCP authorization
 * server. Framework adapters (`/express`) only translate. Loads no framework and no MCP SDK.
 *
 * @packageDocumentation
 */
export type { SealingKeySource, ServerSecret } from '../internal/seal.js';
export { MIN_SERVER_SECRET_LENGTH } from '../internal/seal.js';
export type { McpAuthorizationServerPaths, Transaction } from '../mcp-auth/authorization-server.js';
export { McpAuthorizationServer } from '../mcp-auth/authorization-server.js';
export type { ClientMetadataOptions } from '../mcp-auth/client-metadata.js';
export {
  DEFAULT_CLIENT_METADATA_MAX_BYTES,
  DEFAULT_CLIENT_METADATA_TIMEOUT_MS,
  DEFAULT_CLIENT_METADATA_TTL_MS,
  isPublicAddress,
} from '../mcp-auth/client-metadata.js';
export type { ClientRecord, TokenEndpointAuthMethod } from '../mcp-auth/clients.js';
export type { OAuthErrorCode } from '../mcp-auth/oauth-error.js';
export { OAuthFailure } from '../mcp-auth/oauth-error.js';
export type { McpAuthorizationServerOptions } from '../mcp-auth/options.js';
export {
  DEFAULT_ACCESS_TOKEN_TTL_MS,
  DEFAULT_AUTHORIZATION_CODE_TTL_MS,
  DEFAULT_AUTHORIZE_RATE_LIMIT,
  DEFAULT_CLIENT_TTL_MS,
  DEFAULT_CONSENT_TTL_MS,
  DEFAULT_MAX_PENDING_CLIENTS,
  DEFAULT_PENDING_CLIENT_TTL_MS,
  DEFAULT_REFRESH_REUSE_GRACE_MS,
  DEFAULT_REFRESH_TOKEN_TTL_MS,
  DEFAULT_REGISTER_RATE_LIMIT,
  DEFAULT_TRANSACTION_TTL_MS,
} from '../mcp-auth/options.js';
export type { VerifiedAccess } from '../mcp-auth/token-families.js';
export type { ElicitingServer, UrlElicitationParams } from './elicitation.js';
export { ElicitationCompletions, supportsUrlElicitation, urlElicitationParams } from './elicitation.js';
export type {
  CheckHealthOptions,
  ComponentHealth,
  HealthHandlerOptions,
  HealthReport,
  SessionsProbe,
} from './health.js';
export { checkHealth, createHealthHandler, HEALTH_PROBE_USER } from './health.js';
export type { McpSessionGuardCore, McpSessionGuardOptions } from './mcp-session-guard.js';
export { createMcpSessionGuard } from './mcp-session-guard.js';
export type { RateLimit } from './rate-limit.js';
export { DEFAULT_RATE_LIMIT_MAX_KEYS } from './rate-limit.js';
export { HTTP_STATUS_BY_CODE } from './responses.js';
export type {
  ConnectedEvent,
  ConnectLink,
  ConnectLinkRequest,
  RequestContext,
  SignInHandlers,
  SignInHandlersOptions,
} from './sign-in-handlers.js';
export {
  createSignInHandlers,
  DEFAULT_CONNECT_LINK_TTL_MS,
  DEFAULT_FLOW_TTL_MS,
  DEFAULT_SIGN_IN_RATE_LIMIT,
} from './sign-in-handlers.js';
export type {
  ToolAuth,
  ToolAuthOptions,
  ToolAuthRequest,
  ToolRequestExtra,
  ToolUserContext,
} from './tool-auth.js';
export { authInfoOf, createToolAuth, ToolUser, toolErrorMessage } from './tool-auth.js';
