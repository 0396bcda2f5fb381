/**
 * The one place the manager talks to google-auth-library's `OAuth2Client`: refresh, code exchange,
 * revocation, authorization URLs and per-user API clients. It owns the library's quirks: the
 * `tokens`-event copy that saves a rotated refresh token, re-dating expiries on the injected clock,
 * and turning the library's errors (which carry the request body) into sanitised failures.
 *
 * @module
 */
import { type Credentials, OAuth2Client, type OAuth2ClientOptions } from 'google-auth-library';
import type { Clock } from '../clock.js';
import type { StoredCredentials } from '../credentials.js';
import { GOOGLE_JWKS_URL } from './discovery.js';
import type { CredentialManagerOAuthOptions, ResolvedManagerOptions } from './options.js';
import { classifyProviderFailure } from './provider-errors.js';

/** What {@link CredentialManager.createAuthorizationUrl} takes. */
export interface AuthorizationUrlInput {
  /** The single-use `state` (see `OAuth21SessionStore.storeOAuthState`). */
  state: string;
  /** The S256 PKCE challenge. */
  codeChallenge: string;
  scopes: string[];
  /** Default: `oauth.redirectUri`. */
  redirectUri?: string;
  /** Suggests the account to sign in with. */
  loginHint?: string;
  /** For example `consent`, to make Google issue a refresh token again. */
  prompt?: string;
}

/** See the module documentation. Every method throws a `ProviderFailureError`, never the library's error. */
export class ProviderClient {
  readonly #options: OAuth2ClientOptions;
  readonly #clock: Clock;
  /** The URL of the provider's signing keys (JWKS or PEM certificates). */
  readonly keysUrl: string;
  #tokenUrl: string | undefined;

  constructor(oauth: CredentialManagerOAuthOptions, resolved: ResolvedManagerOptions, clock: Clock) {
    const { jwksUri, ...libraryEndpoints } = oauth.endpoints ?? {};
    // Where a request leaves out the redirect URI, the library uses this default; it fills in its own
    // endpoints where these leave some out. It verifies no id_token for us (IdTokenVerifier does).
    this.#options = {
      clientId: oauth.clientId,
      clientSecret: oauth.clientSecret,
      redirectUri: oauth.redirectUri,
      endpoints: libraryEndpoints,
      // Retries are ours (with typed errors and events); the library's own would multiply them.
      transporterOptions: {
        timeout: resolved.requestTimeoutMs,
        retryConfig: { retry: 0, noResponseRetries: 0 },
      },
    };
    this.#clock = clock;
    this.keysUrl = String(
      jwksUri ??
        libraryEndpoints.oauth2FederatedSignonJwkCertsUrl ??
        libraryEndpoints.oauth2FederatedSignonPemCertsUrl ??
        GOOGLE_JWKS_URL,
    );
  }

  /** The token endpoint, as written into new records (`token_uri`). */
  get tokenUrl(): string {
    this.#tokenUrl ??= String(new OAuth2Client(this.#options).endpoints.oauth2TokenUrl);
    return this.#tokenUrl;
  }

  /** One refresh request. The provider's tokens as sent, `expiry_date` on the injected clock. */
  async refresh(refreshToken: string): Promise<Credentials> {
    const client = new OAuth2Client(this.#options);
    client.setCredentials({ refresh_token: refreshToken });
    // google-auth-library emits the provider's tokens, then overwrites a rotated refresh token with
    // the old one before resolving: copy what the event carries, at once.
    let emitted: Credentials | undefined;
    client.once('tokens', (tokens: Credentials) => {
      emitted = { ...tokens };
    });
    try {
      await client.getAccessToken();
    } catch (error) {
      throw classifyProviderFailure(error);
    }
    // Stryker disable next-line ConditionalExpression,OptionalChaining: google-auth-library 10 and 11 throw first on a response without an access token; kept in case a version does not
    if (!emitted?.access_token)
      throw classifyProviderFailure(new Error('the token response had no access_token'));
    return this.#toClock(emitted);
  }

  /** Exchanges an authorization code and its PKCE verifier for tokens (`expiry_date` on the injected clock). */
  async exchangeCode(input: {
    code: string;
    codeVerifier: string;
    redirectUri?: string;
  }): Promise<Credentials> {
    try {
      const response = await new OAuth2Client(this.#options).getToken({
        code: input.code,
        codeVerifier: input.codeVerifier,
        redirect_uri: input.redirectUri,
      });
      return this.#toClock({ ...response.tokens });
    } catch (error) {
      throw classifyProviderFailure(error);
    }
  }

  /** Asks the provider to revoke a grant (RFC 7009), by its refresh or access token. */
  async revoke(token: string): Promise<void> {
    try {
      await new OAuth2Client(this.#options).revokeToken(token);
    } catch (error) {
      throw classifyProviderFailure(error);
    }
  }

  /** The provider's authorization URL for a PKCE (S256) code flow with `access_type=offline`. */
  authorizationUrl(input: AuthorizationUrlInput): string {
    return new OAuth2Client(this.#options).generateAuthUrl({
      access_type: 'offline',
      scope: input.scopes,
      state: input.state,
      code_challenge: input.codeChallenge,
      code_challenge_method: 'S256' as never,
      include_granted_scopes: true,
      redirect_uri: input.redirectUri,
      ...(input.loginHint === undefined ? {} : { login_hint: input.loginHint }),
      ...(input.prompt === undefined ? {} : { prompt: input.prompt }),
    });
  }

  /**
   * An `OAuth2Client` authorised with `credentials`, without the client secret or any refresh
   * token: when its access token nears expiry (`eagerRefreshMs`) it calls `fresh` instead.
   */
  userClient(
    credentials: StoredCredentials,
    eagerRefreshMs: number,
    fresh: () => Promise<StoredCredentials>,
  ): OAuth2Client {
    const { clientSecret: _secret, ...withoutSecret } = this.#options;
    const client = new OAuth2Client({ ...withoutSecret, eagerRefreshThresholdMillis: eagerRefreshMs });
    client.setCredentials(this.#forLibrary(credentials));
    client.refreshHandler = async () => {
      const tokens = this.#forLibrary(await fresh());
      return { access_token: tokens.access_token as string, expiry_date: tokens.expiry_date as number };
    };
    return client;
  }

  /** google-auth-library dates tokens with `Date.now()`; re-date them on the injected clock. */
  #toClock(tokens: Credentials): Credentials {
    if (typeof tokens.expiry_date !== 'number') return tokens;
    return { ...tokens, expiry_date: this.#clock.now() + Math.max(0, tokens.expiry_date - Date.now()) };
  }

  /** The record as google-auth-library `Credentials` dated on `Date.now()`, without the refresh token. */
  #forLibrary(credentials: StoredCredentials): Credentials {
    return {
      access_token: credentials.accessToken,
      token_type: credentials.tokenType,
      scope: credentials.scopes.join(' '),
      ...(credentials.expiresAt === undefined
        ? {}
        : { expiry_date: Date.now() + (credentials.expiresAt - this.#clock.now()) }),
    };
  }
}
