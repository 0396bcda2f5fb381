/**
 * {@link GoogleOAuthProxyProvider}: the MCP authorization server (`McpAuthorizationServer`) for
 * Express with MCP SDK v1. Mount {@link GoogleOAuthProxyProvider.router} and every endpoint is
 * this package's own (the recommended wiring). The class also implements the SDK v1
 * `OAuthServerProvider`, so servers that keep the SDK's `mcpAuthRouter` keep working; see the
 * README for the protections only the package's own endpoints give.
 *
 * @module
 */
import type { AuthInfo } from '../auth-info.js';
import { isCredentialError } from '../errors.js';
import { McpAuthorizationServer } from '../mcp-auth/authorization-server.js';
import type { ClientRecord } from '../mcp-auth/clients.js';
import { OAuthFailure } from '../mcp-auth/oauth-error.js';
import { comparableResource, type McpAuthorizationServerOptions } from '../mcp-auth/options.js';
import type { TokenResponse } from '../mcp-auth/token-families.js';
import type { ExpressHandler, ExpressResponse } from './types.js';
import { expressHandler, sendWebResponse } from './web.js';

/**
 * A client as the MCP SDK v1 router sees it (`OAuthClientInformationFull`), declared structurally
 * so these declarations need no MCP SDK.
 */
export type SdkV1Client = Omit<ClientRecord, 'firstSeenAt' | 'lastTokenAt' | 'clientSecretHash'>;

/** The SDK v1 `AuthorizationParams` (structurally). */
export interface SdkV1AuthorizationParams {
  state?: string;
  scopes?: string[];
  codeChallenge: string;
  redirectUri: string;
  resource?: URL;
}

/** The SDK v1 `OAuthRegisteredClientsStore` (structurally). */
export interface SdkV1ClientsStore {
  /** The registered client with this id, if any. */
  getClient(clientId: string): Promise<SdkV1Client | undefined>;
  /** Registers a client (RFC 7591) and returns it with its id. */
  registerClient(client: Record<string, unknown>): Promise<SdkV1Client>;
}

type SdkV1Errors = typeof import('@modelcontextprotocol/sdk/server/auth/errors.js');
let sdkV1Errors: Promise<SdkV1Errors> | undefined;

/** The SDK v1 error for one of ours (the SDK's router answers `OAuthError`s itself). */
async function toSdkError(failure: OAuthFailure): Promise<Error> {
  sdkV1Errors ??= import('@modelcontextprotocol/sdk/server/auth/errors.js');
  const errors = await sdkV1Errors;
  if (failure.error === 'invalid_token') return new errors.InvalidTokenError(failure.message);
  if (failure.error === 'invalid_grant') return new errors.InvalidGrantError(failure.message);
  return new errors.CustomOAuthError(failure.error, failure.message);
}

async function sdkErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof OAuthFailure) throw await toSdkError(error);
    if (isCredentialError(error, 'INVALID_TOKEN'))
      throw await toSdkError(new OAuthFailure('invalid_token', error.message));
    throw error;
  }
}

function asSdkClient(record: ClientRecord): SdkV1Client {
  const { firstSeenAt: _seen, lastTokenAt: _used, clientSecretHash: _hash, ...client } = record;
  return client;
}

/** Options of {@link GoogleOAuthProxyProvider}: the server's, with the Google callback as a full URL. */
export interface GoogleOAuthProxyProviderOptions
  extends Omit<McpAuthorizationServerOptions, 'issuerUrl' | 'googleCallbackPath'> {
  /** This server's Google callback URL (registered with Google). Its path becomes `googleCallbackPath`. */
  googleCallbackUrl: string;
  /** The issuer. Default: the origin of `googleCallbackUrl`. */
  issuerUrl?: string | URL;
}

/**
 * See the module documentation. Recommended wiring:
 *
 * ```ts
 * const provider = new GoogleOAuthProxyProvider({ manager, sessionStore, serverSecret, googleCallbackUrl, resourceServerUrl, googleScopes });
 * app.use(provider.router); // metadata, /authorize, Google callback, consent, /token, /register, /revoke
 * app.post('/mcp', requireBearerAuth({ verifier: provider, resourceMetadataUrl: provider.server.protectedResourceMetadataUrl }), mcpHandler);
 * ```
 */
export class GoogleOAuthProxyProvider {
  /** The framework-neutral authorization server behind this provider. */
  readonly server: McpAuthorizationServer;
  /** Express middleware answering every endpoint of the server (and passing other requests on). */
  readonly router: ExpressHandler;
  /** Express handler of the Google callback alone (for `mcpAuthRouter` wiring; `router` includes it). */
  readonly googleCallbackHandler: ExpressHandler;
  readonly #clientsStore: SdkV1ClientsStore;

  constructor(options: GoogleOAuthProxyProviderOptions | { server: McpAuthorizationServer }) {
    if ('server' in options) {
      this.server = options.server;
    } else {
      const callback = new URL(options.googleCallbackUrl);
      const issuer = new URL(String(options.issuerUrl ?? `${callback.origin}/`));
      const basePath = issuer.pathname.replace(/\/$/, '');
      if (!callback.pathname.startsWith(`${basePath}/`)) {
        throw new TypeError('googleCallbackUrl must lie below issuerUrl');
      }
      const { googleCallbackUrl: _url, issuerUrl: _issuer, ...rest } = options;
      this.server = new McpAuthorizationServer({
        ...rest,
        issuerUrl: issuer,
        googleCallbackPath: callback.pathname.slice(basePath.length),
      });
    }
    this.router = expressHandler((request, context) => this.server.handle(request, context));
    this.googleCallbackHandler = expressHandler((request) => this.server.googleCallback(request));
    const server = this.server;
    this.#clientsStore = {
      async getClient(clientId) {
        const record = await sdkErrors(() => server.clients.get(clientId));
        return record && asSdkClient(record);
      },
      // The SDK's registration handler: our own validation and limits apply; clients are public.
      async registerClient(client) {
        const { client_id: _id, client_secret: _secret, client_id_issued_at: _at, ...metadata } = client;
        return asSdkClient(await sdkErrors(() => server.clients.register(metadata, { publicOnly: true })));
      },
    };
  }

  /** The provider (Express router and SDK v1 `OAuthServerProvider`) of a server built elsewhere. */
  static wrap(server: McpAuthorizationServer): GoogleOAuthProxyProvider {
    return new GoogleOAuthProxyProvider({ server });
  }

  /** Registrations, for the SDK's router. */
  get clientsStore(): SdkV1ClientsStore {
    return this.#clientsStore;
  }

  /** For `mcpAuthRouter`: the SDK validated the client and redirect URI; we do the rest (pages on error). */
  async authorize(
    client: SdkV1Client,
    params: SdkV1AuthorizationParams,
    res: ExpressResponse,
  ): Promise<void> {
    const record = await this.server.clients.get(client.client_id);
    if (!record) {
      res.status(400);
      res.end('unknown client');
      return;
    }
    const response = await this.server.startTransaction(record, {
      redirectUri: params.redirectUri,
      responseType: 'code',
      codeChallenge: params.codeChallenge,
      codeChallengeMethod: 'S256',
      state: params.state ?? null,
      scope: params.scopes === undefined ? null : params.scopes.join(' '),
      resource: params.resource === undefined ? null : params.resource.href,
    });
    await sendWebResponse(res, response);
  }

  /** The PKCE challenge stored with an authorization code (the SDK checks the verifier against it). */
  async challengeForAuthorizationCode(client: SdkV1Client, authorizationCode: string): Promise<string> {
    return sdkErrors(() => this.server.families.challengeFor(client.client_id, String(authorizationCode)));
  }

  /** Exchanges an authorization code of `client` for tokens (one use; bound to its redirect URI). */
  async exchangeAuthorizationCode(
    client: SdkV1Client,
    authorizationCode: string,
    _codeVerifier?: string,
    redirectUri?: string,
    resource?: URL,
  ): Promise<TokenResponse> {
    return sdkErrors(async () => {
      // The SDK checked PKCE (challengeForAuthorizationCode) before calling this.
      const { tokens } = await this.server.families.exchangeCode(String(authorizationCode), (record) => {
        if (record.clientId !== client.client_id)
          throw new OAuthFailure('invalid_grant', 'the code was issued to another client');
        if (redirectUri !== undefined && redirectUri !== record.redirectUri) {
          throw new OAuthFailure('invalid_grant', 'redirect_uri does not match the authorization request');
        }
        if (resource !== undefined && comparableResource(resource) !== record.resource) {
          throw new OAuthFailure('invalid_target', 'resource does not match the authorization request');
        }
      });
      const record = await this.server.clients.get(client.client_id);
      if (record) await this.server.clients.markUsed(record);
      return tokens;
    });
  }

  /** Rotates a refresh token of `client` into a new pair (never wider scopes). */
  async exchangeRefreshToken(
    client: SdkV1Client,
    refreshToken: string,
    scopes?: string[],
    resource?: URL,
  ): Promise<TokenResponse> {
    return sdkErrors(async () => {
      const { tokens } = await this.server.families.refresh(client.client_id, String(refreshToken), {
        ...(scopes === undefined ? {} : { scopes }),
        ...(resource === undefined ? {} : { resource: comparableResource(resource) }),
      });
      const record = await this.server.clients.get(client.client_id);
      if (record) await this.server.clients.markUsed(record);
      return tokens;
    });
  }

  /**
   * The SDK v1 `OAuthTokenVerifier`: `AuthInfo` with the MCP client id, scopes, expiry (seconds), the
   * resource and the Google user in `extra.userId`; the SDK's `InvalidTokenError` otherwise.
   */
  async verifyAccessToken(token: string): Promise<AuthInfo> {
    return sdkErrors(() => this.server.verifyBearerToken(token));
  }

  /** RFC 7009 through the SDK's router (the package's own /revoke is in `router`). */
  async revokeToken(
    client: SdkV1Client,
    request: { token: string; token_type_hint?: string },
  ): Promise<void> {
    await sdkErrors(() => this.server.revokeToken(client.client_id, String(request.token)));
  }
}
