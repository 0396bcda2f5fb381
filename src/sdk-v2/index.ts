/**
 * `mcp-oauth-credentials/sdk-v2`: wiring for the MCP TypeScript SDK v2 (`@modelcontextprotocol/server`
 * 2.x). `bearerVerifier` turns this package's verifiers into the SDK's `OAuthTokenVerifier`, so
 * `requireBearerAuth` (from `@modelcontextprotocol/express`, or the web-standard one from
 * `@modelcontextprotocol/server` for Hono and other `fetch` hosts) answers unknown, expired and
 * revoked tokens with 401 and a `WWW-Authenticate` challenge, never 500. Tool handlers read the
 * verified token from `ctx.http.authInfo`; `createToolAuth(...).forRequest(ctx)` takes `ctx` as is.
 *
 * ```ts
 * import { requireBearerAuth } from '@modelcontextprotocol/express';
 * import { bearerVerifier } from 'mcp-oauth-credentials/sdk-v2';
 * app.post('/mcp', requireBearerAuth({ verifier: bearerVerifier(sessionStore) }), mcpHandler);
 * ```
 *
 * @packageDocumentation
 */
import {
  type AuthInfo,
  OAuthError,
  OAuthErrorCode,
  type OAuthTokenVerifier,
  UrlElicitationRequiredError,
} from '@modelcontextprotocol/server';
import type { BearerTokenVerifier } from '../auth-info.js';
import { isCredentialError } from '../errors.js';
import { type ElicitingServer, urlElicitationParams } from '../http/elicitation.js';

export { ElicitationCompletions } from '../http/elicitation.js';

/**
 * The SDK v2 `OAuthTokenVerifier` for a verifier of this package (`OAuth21SessionStore`,
 * `McpAuthorizationServer`): its `InvalidTokenError` becomes the SDK's `OAuthError` with code
 * `invalid_token`, which the SDK answers with 401.
 */
export function bearerVerifier(verifier: BearerTokenVerifier): OAuthTokenVerifier {
  return {
    async verifyAccessToken(token: string): Promise<AuthInfo> {
      try {
        return await verifier.verifyBearerToken(token);
      } catch (error) {
        if (isCredentialError(error, 'INVALID_TOKEN'))
          throw new OAuthError(OAuthErrorCode.InvalidToken, error.message);
        throw error;
      }
    },
  };
}

/**
 * The SDK's URL-elicitation-required error (-32042) for an `AuthorizationRequiredError` of the tool
 * helper, when the session's client declared URL elicitation and speaks the 2025-11-25 revision;
 * `undefined` otherwise (answer with `toolErrorMessage`: on the 2026-07-28 revision the SDK refuses
 * the -32042 error, and this package does not produce input-required results yet).
 */
export function urlElicitationError(
  error: unknown,
  server: ElicitingServer,
): UrlElicitationRequiredError | undefined {
  const params = urlElicitationParams(error, server);
  return params === undefined ? undefined : new UrlElicitationRequiredError([params]);
}
