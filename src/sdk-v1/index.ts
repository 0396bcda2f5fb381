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
import type { BearerTokenVerifier } from '../auth-info.js';
import { isCredentialError } from '../errors.js';

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
