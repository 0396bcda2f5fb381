/**
 * The verified-token shape shared with both MCP SDK majors, declared here so no module of this
 * package needs an MCP SDK to describe it.
 *
 * @module
 */

/**
 * A verified bearer token, in the shape the MCP SDKs call `AuthInfo` (v1 `extra.authInfo`, v2
 * `ctx.http.authInfo`). Objects handed out by this package are frozen.
 */
export interface AuthInfo {
  /** The token as presented. */
  token: string;
  /** The OAuth client the token was issued to. */
  clientId: string;
  /** Scopes the token carries. */
  scopes: string[];
  /** When the token expires, in epoch **seconds** (as the MCP SDKs expect). */
  expiresAt?: number;
  /** The RFC 8707 resource the token is for. */
  resource?: URL;
  /**
   * The RFC 9728 protected-resource metadata URL of the server that accepted the token (SDK v2 uses
   * it in challenges). Set by `McpAuthorizationServer`, so SDK v2's bearer middleware, given its
   * own `resourceMetadataUrl`, hands this very object to the tool instead of a copy.
   */
  resourceMetadataUrl?: string;
  /** `userId`: the Google account (normalised email) the token acts for. */
  extra?: Record<string, unknown>;
}

/**
 * Verifies bearer tokens: `OAuth21SessionStore` (bearer mode) and `McpAuthorizationServer` (MCP
 * authorization mode). Rejects with `InvalidTokenError` for an unknown, expired or revoked token.
 * Wrap it for an MCP SDK with `bearerVerifier` from `mcp-oauth-credentials/sdk-v1` or `/sdk-v2`.
 */
export interface BearerTokenVerifier {
  /** The token's `AuthInfo` (user id in `extra.userId`); rejects with `InvalidTokenError` when refused. */
  verifyBearerToken(token: string): Promise<AuthInfo>;
}
