/**
 * `mcp-oauth-credentials/sdk-v1`: wiring for the MCP TypeScript SDK v1 (`@modelcontextprotocol/sdk`
 * 1.24 or later). `bearerVerifier` turns this package's verifiers into the SDK's
 * `OAuthTokenVerifier`, so `requireBearerAuth` answers unknown, expired and revoked tokens with 401
 * and a `WWW-Authenticate` challenge (never 500).
 *
 * ```ts
 * import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
 * import { bearerVerifier } from 'mcp-oauth-credentials/sdk-v1';
 * app.post('/mcp', requireBearerAuth({ verifier: bearerVerifier(sessionStore) }), mcpHandler);
 * ```
 *
 * @packageDocumentation
 */
import { InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import type { OAuthTokenVerifier } from '@modelcontextprotocol/sdk/server/auth/provider.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { UrlElicitationRequiredError } from '@modelcontextprotocol/sdk/types.js';
import type { BearerTokenVerifier } from '../auth-info.js';
import { isCredentialError } from '../errors.js';
import { type ElicitingServer, urlElicitationParams } from '../http/elicitation.js';

export { ElicitationCompletions } from '../http/elicitation.js';

/**
 * The SDK v1 `OAuthTokenVerifier` for a verifier of this package (`OAuth21SessionStore`,
 * `McpAuthorizationServer`): its `InvalidTokenError` becomes the SDK's, which `requireBearerAuth`
 * answers with 401.
 */
export function bearerVerifier(verifier: BearerTokenVerifier): OAuthTokenVerifier {
  return {
    async verifyAccessToken(token: string): Promise<AuthInfo> {
      try {
        return await verifier.verifyBearerToken(token);
      } catch (error) {
        if (isCredentialError(error, 'INVALID_TOKEN')) throw new InvalidTokenError(error.message);
        throw error;
      }
    },
  };
}

/**
 * The SDK's URL-elicitation-required error (-32042) for an `AuthorizationRequiredError` of the tool
 * helper, when the session's client declared URL elicitation; `undefined` otherwise (answer with
 * `toolErrorMessage` instead). Throw it from the tool handler: `McpServer` passes it to the client,
 * which opens the link and retries after `notifications/elicitation/complete`.
 *
 * ```ts
 * } catch (error) {
 *   const elicitation = urlElicitationError(error, mcp.server);
 *   if (elicitation) throw elicitation;
 *   return { isError: true, content: [{ type: 'text', text: toolErrorMessage(error) }] };
 * }
 * ```
 */
export function urlElicitationError(
  error: unknown,
  server: ElicitingServer,
): UrlElicitationRequiredError | undefined {
  const params = urlElicitationParams(error, server);
  return params === undefined ? undefined : new UrlElicitationRequiredError([params]);
}
