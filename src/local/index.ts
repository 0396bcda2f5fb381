/**
 * `mcp-oauth-credentials/local`: Google sign-in for MCP servers that run on the user's own machine
 * over stdio: a loopback callback listener (RFC 8252), URL elicitation or the system browser, and a
 * single-user tool helper that asks for missing scopes on demand. Needs `google-auth-library` (through
 * the manager) and, to open the browser, `open` (an optional peer).
 *
 * @packageDocumentation
 */
export type {
  LocalSignInOptions,
  LocalSignInRequest,
  PendingLocalSignIn,
} from './local-sign-in.js';
export { DEFAULT_LOCAL_SIGN_IN_TIMEOUT_MS, LocalSignIn } from './local-sign-in.js';
export type { LocalToolAuth, LocalToolAuthOptions, LocalToolRequest } from './local-tool-auth.js';
export { createLocalToolAuth } from './local-tool-auth.js';
