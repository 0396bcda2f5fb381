/**
 * `mcp-oauth-credentials/express`: the HTTP core mounted in Express (4.21+ and 5) for MCP SDK v1
 * servers: bearer-mode sign-in handlers, the MCP authorization server (`GoogleOAuthProxyProvider`,
 * whose `router` answers every endpoint), an MCP session guard and credentials for tool handlers.
 * Imports nothing from Express at run time.
 *
 * @packageDocumentation
 */

export type {
  ToolAuth,
  ToolAuthOptions,
  ToolRequestExtra,
  ToolUserContext,
} from '../http/tool-auth.js';
export { createToolAuth, toolErrorMessage } from '../http/tool-auth.js';
export type { AuthHandlers, AuthHandlersOptions } from './auth-handlers.js';
export { authenticatedUser, createAuthHandlers } from './auth-handlers.js';
export { expressHealthCheck } from './health.js';
export type { McpSessionGuard, McpSessionGuardOptions } from './mcp.js';
export { createMcpSessionGuard } from './mcp.js';
export type {
  GoogleOAuthProxyProviderOptions,
  SdkV1AuthorizationParams,
  SdkV1Client,
  SdkV1ClientsStore,
} from './oauth-proxy-provider.js';
export { GoogleOAuthProxyProvider } from './oauth-proxy-provider.js';
export type { ExpressHandler, ExpressNext, ExpressRequest, ExpressResponse } from './types.js';
export { contextOf, expressHandler, sendWebResponse, toWebRequest } from './web.js';
