/**
 * `mcp-oauth-credentials/express`: handlers and middleware to mount in your own Express router for an
 * MCP server (authorization start and callback, revoke, status, an MCP session guard, and credentials
 * for tool handlers). Works with Express 4.21+ and 5; imports nothing from Express at run time.
 *
 * @packageDocumentation
 */
export type { AuthHandlers, AuthHandlersOptions } from './auth-handlers.js';
export { authenticatedUser, createAuthHandlers } from './auth-handlers.js';
export type {
  McpSessionGuard,
  McpSessionGuardOptions,
  ToolAuth,
  ToolAuthOptions,
  ToolRequestExtra,
  ToolUserContext,
} from './mcp.js';
export { createMcpSessionGuard, createToolAuth, toolErrorMessage } from './mcp.js';
export type { GoogleOAuthProxyProviderOptions } from './oauth-proxy-provider.js';
export { GoogleOAuthProxyProvider, PROXY_NAMESPACES } from './oauth-proxy-provider.js';
