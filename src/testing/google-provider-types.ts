/**
 * The public types of {@link startGoogleLikeProvider}: its options, its controls and its endpoints.
 *
 * @module
 */

/** Options of {@link startGoogleLikeProvider}. */
export interface GoogleLikeProviderOptions {
  /** The registered OAuth client. Default: a generated pair. */
  clientId?: string;
  clientSecret?: string;
  /** Refresh responses carry a new refresh token and the old one stops working. Default false. */
  rotateRefreshTokens?: boolean;
  /** Delay added to every token request, ms. Default 0. */
  tokenLatencyMs?: number;
  /**
   * Access token lifetime, seconds. Default 3599 (Google's). `null`: the tokens do not expire and
   * token responses carry no `expires_in` (RFC 6749 §5.1 makes it optional).
   */
  accessTokenTtlSeconds?: number | null;
  /**
   * How id_tokens are signed. Default RS256 (Google's; what `verifyIdToken` checks). Load tests that
   * never verify id_tokens can pick a cheaper algorithm so the provider is not the bottleneck.
   */
  signingAlgorithm?: 'RS256' | 'ES256' | 'EdDSA';
}

/** An error the provider answers instead of tokens (see {@link GoogleLikeProvider.failNext}). */
export interface InjectedFailure {
  status: number;
  error: string;
  /** Which grant it applies to. Default: any. */
  grantType?: 'authorization_code' | 'refresh_token';
}

/** The provider's endpoints, in the shape of google-auth-library's `endpoints` option. */
export interface ProviderEndpoints {
  oauth2AuthBaseUrl: string;
  oauth2TokenUrl: string;
  oauth2RevokeUrl: string;
  oauth2FederatedSignonPemCertsUrl: string;
  oauth2FederatedSignonJwkCertsUrl: string;
  tokenInfoUrl: string;
}

/** A running local provider that behaves like Google (see {@link startGoogleLikeProvider}). */
export interface GoogleLikeProvider {
  /** Base URL (also the id_token issuer). */
  readonly url: string;
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Endpoints in the shape google-auth-library's `OAuth2Client({ endpoints })` takes. */
  readonly endpoints: ProviderEndpoints;
  readonly userinfoUrl: string;
  /** Counters since start (or the last `resetCounters`). */
  readonly counters: {
    tokenRequests: number;
    authorizationCodeRequests: number;
    refreshRequests: number;
    /** Distinct refresh tokens presented. */
    refreshTokensUsed: Set<string>;
    peakConcurrentTokenRequests: number;
    revokeRequests: number;
  };
  /** Sets every counter back to zero. */
  resetCounters(): void;
  /** Turns refresh-token rotation on or off (a rotated-away token then gets `invalid_grant`). */
  setRotation(on: boolean): void;
  /** Delay added to every token request from now on, ms. */
  setTokenLatency(ms: number): void;
  /** The next `count` token requests (of `grantType`, if given) fail with this error. */
  failNext(count: number, failure: InjectedFailure): void;
  /** Forget injected failures not used yet. */
  clearFailures(): void;
  /** Make /revoke answer 503 (true) or 200 (false). */
  setRevokeDown(down: boolean): void;
  /** The user revoked access in their Google account: every refresh token of theirs dies. */
  revokeGrantsOf(userId: string): void;
  /** Scopes users decline on the consent screen. */
  setDeclinedScopes(scopes: string[]): void;
  /** Who signs in when the authorization request carries no `login_hint`. */
  setDefaultUser(userId: string): void;
  /**
   * Overrides id_token claims of one user: another `sub` (the address now belongs to another Google
   * account), `email_verified` (false, or `null` to leave it out), a hosted domain `hd`.
   */
  setUserClaims(userId: string, claims: { sub?: string; email_verified?: boolean | null; hd?: string }): void;
  /** Whether a refresh token is still accepted. */
  isRefreshTokenLive(refreshToken: string): boolean;
  /** Creates a grant directly (as if the user had consented) and returns its refresh token; for load tests. */
  issueGrant(userId: string, scopes?: string[]): string;
  /**
   * The `oauth` options of `CredentialManager` for this provider (client, endpoints, issuer), with
   * `redirectUri` when given.
   */
  oauthOptions(redirectUri?: string): {
    clientId: string;
    clientSecret: string;
    redirectUri?: string;
    endpoints: ProviderEndpoints;
    issuers: string[];
  };
  /** The OpenID Connect discovery document's URL (`discoverOidcProvider(provider.issuer)` reads it). */
  readonly discoveryUrl: string;
  /** What a server needs to use this provider instead of Google (the example server's options). */
  clientSettings(): {
    clientId: string;
    clientSecret: string;
    oauthEndpoints: ProviderEndpoints;
    issuers: string[];
    userinfoUrl: string;
  };
  /** Stops the provider. */
  close(): Promise<void>;
}
