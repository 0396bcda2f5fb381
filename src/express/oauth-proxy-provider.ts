/**
 * {@link GoogleOAuthProxyProvider}: an MCP SDK `OAuthServerProvider` that lets MCP clients log in by
 * themselves (discovery, dynamic registration, PKCE, resource indicators) while the server signs the
 * user in with Google and keeps their Google credentials through the {@link CredentialManager}.
 *
 * The MCP client never sees a Google token: it gets this server's own opaque access and refresh
 * tokens (only their SHA-256 is stored), bound to the client, the user's session and a token family.
 *
 * @module
 */

import type { OAuthRegisteredClientsStore } from '@modelcontextprotocol/sdk/server/auth/clients.js';
import {
  InvalidClientMetadataError,
  InvalidGrantError,
  InvalidRequestError,
  InvalidScopeError,
  InvalidTargetError,
  InvalidTokenError,
} from '@modelcontextprotocol/sdk/server/auth/errors.js';
import type {
  AuthorizationParams,
  OAuthServerProvider,
} from '@modelcontextprotocol/sdk/server/auth/provider.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type {
  OAuthClientInformationFull,
  OAuthTokenRevocationRequest,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import type { Request, RequestHandler, Response } from 'express';
import { type Clock, systemClock } from '../clock.js';
import { CredentialError } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import type { CredentialManager } from '../refresh/manager.js';
import { createPkcePair, randomToken, sha256 } from '../secrets.js';
import type { SessionBackend } from '../session/backend.js';
import { MemorySessionBackend } from '../session/memory-backend.js';
import type { OAuth21SessionStore } from '../session/session-store.js';
import { renderPage, setNoStore } from './respond.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** Backend namespaces of the provider (next to the session store's). */
export const PROXY_NAMESPACES = {
  client: 'mcp-client',
  transaction: 'mcp-transaction',
  code: 'mcp-code',
  usedCode: 'mcp-code-used',
  access: 'mcp-access',
  refresh: 'mcp-refresh',
  usedRefresh: 'mcp-refresh-used',
  family: 'mcp-family',
} as const;
const NS = PROXY_NAMESPACES;

/** Options of {@link GoogleOAuthProxyProvider}. */
export interface GoogleOAuthProxyProviderOptions {
  /** Does the Google side: authorization URL, code exchange, storage, refresh, revocation. */
  manager: CredentialManager;
  /** The session store the manager updates; issued tokens die with the user's session. */
  sessionStore: OAuth21SessionStore;
  /**
   * Where registrations, transactions, codes and tokens live. Use the same backend as the session
   * store (Redis for replicas) so they survive restarts and are shared. Default: a memory backend.
   */
  backend?: SessionBackend;
  /** This server's Google callback URL (registered with Google), where `googleCallbackHandler` is mounted. */
  googleCallbackUrl: string;
  /** The protected MCP resource (the MCP endpoint URL). A `resource` parameter must name it. */
  resourceServerUrl: URL;
  /** Google scopes to request (`openid` and `email` are always added). */
  googleScopes: string[];
  /** Scopes MCP clients may ask for (advertised as `scopes_supported`). Default: none advertised, any accepted. */
  mcpScopes?: string[];
  /** Lifetime of issued access tokens, ms. Default 1 hour. */
  accessTokenTtlMs?: number;
  /** Lifetime of issued refresh tokens, ms (each rotation starts it again). Default 30 days. */
  refreshTokenTtlMs?: number;
  /** Lifetime of authorization codes, ms. Default 5 minutes. */
  authorizationCodeTtlMs?: number;
  /** Time a user has to sign in with Google after the client's authorization request, ms. Default 10 minutes. */
  transactionTtlMs?: number;
  /** How long a registration is kept after it was made, ms. Default 180 days. */
  clientTtlMs?: number;
  /**
   * Revoking one of our refresh tokens also revokes the user's Google grant and signs them out
   * everywhere (a full sign-out through the manager). Default true.
   */
  fullSignOutOnRefreshTokenRevocation?: boolean;
  clock?: Clock;
  logger?: Logger;
}

interface Transaction {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  clientState?: string;
  scopes: string[];
  resource?: string;
  googleVerifier: string;
  expiresAt: number;
}

interface AuthorizationCode {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  scopes: string[];
  resource?: string;
  userId: string;
  expiresAt: number;
}

interface IssuedToken {
  familyId: string;
  clientId: string;
  userId: string;
  sessionCreatedAt: number;
  scopes: string[];
  resource?: string;
  expiresAt: number;
}

interface Family {
  clientId: string;
  userId: string;
  revoked: boolean;
  accessTokenHashes: string[];
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

function checkRedirectUri(uri: string): void {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new InvalidClientMetadataError(`redirect_uri is not a URL`);
  }
  if (url.hash) throw new InvalidClientMetadataError('redirect_uri must not have a fragment');
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:' && LOOPBACK.has(url.hostname)) return;
  throw new InvalidClientMetadataError('redirect_uri must use https, or http on a loopback address');
}

function comparableResource(value: string | URL): string {
  const url = new URL(String(value));
  url.hash = '';
  return url.href.replace(/\/$/, '');
}

/**
 * The provider, for the MCP SDK's `mcpAuthRouter`:
 *
 * ```ts
 * const provider = new GoogleOAuthProxyProvider({ manager, sessionStore, backend, googleCallbackUrl, resourceServerUrl, googleScopes });
 * app.use(mcpAuthRouter({ provider, issuerUrl, resourceServerUrl }));
 * app.get('/oauth/google/callback', provider.googleCallbackHandler);
 * app.post('/mcp', requireBearerAuth({ verifier: provider, resourceMetadataUrl }), mcpHandler);
 * ```
 *
 * - Registrations are validated (https or loopback redirect URIs) and kept in the backend.
 * - `authorize` keeps the client's PKCE challenge, redirect URI, state, scopes and resource in a
 *   single-use, expiring transaction and sends the user to Google with the server's own PKCE and state.
 * - The Google callback completes the upstream authorization through the manager (credentials saved
 *   in the credential store) and redirects to the client with a code bound to that client, its
 *   redirect URI, its PKCE challenge and the resource.
 * - Codes are single use; a replayed code revokes every token issued from it. Refresh tokens rotate;
 *   reusing an old one revokes the whole family.
 */
export class GoogleOAuthProxyProvider implements OAuthServerProvider {
  readonly #manager: CredentialManager;
  readonly #sessionStore: OAuth21SessionStore;
  readonly #backend: SessionBackend;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #callbackUrl: string;
  readonly #resource: string;
  readonly #googleScopes: string[];
  readonly #mcpScopes: Set<string> | undefined;
  readonly #ttl: { access: number; refresh: number; code: number; transaction: number; client: number };
  readonly #fullSignOut: boolean;
  readonly #clients: OAuthRegisteredClientsStore;

  /** Express handler for the Google redirect back (mount it at `googleCallbackUrl`'s path). */
  readonly googleCallbackHandler: RequestHandler;

  constructor(options: GoogleOAuthProxyProviderOptions) {
    this.#manager = options.manager;
    this.#sessionStore = options.sessionStore;
    this.#clock = options.clock ?? systemClock;
    this.#backend = options.backend ?? new MemorySessionBackend({ clock: this.#clock });
    this.#logger = options.logger ?? silentLogger;
    this.#callbackUrl = options.googleCallbackUrl;
    this.#resource = comparableResource(options.resourceServerUrl);
    this.#googleScopes = [...new Set(['openid', 'email', ...options.googleScopes])];
    this.#mcpScopes = options.mcpScopes ? new Set(options.mcpScopes) : undefined;
    this.#ttl = {
      access: options.accessTokenTtlMs ?? 60 * MINUTE,
      refresh: options.refreshTokenTtlMs ?? 30 * DAY,
      code: options.authorizationCodeTtlMs ?? 5 * MINUTE,
      transaction: options.transactionTtlMs ?? 10 * MINUTE,
      client: options.clientTtlMs ?? 180 * DAY,
    };
    this.#fullSignOut = options.fullSignOutOnRefreshTokenRevocation ?? true;
    const backend = this.#backend;
    const clientTtl = this.#ttl.client;
    this.#clients = {
      async getClient(clientId) {
        if (typeof clientId !== 'string' || clientId.length === 0 || clientId.length > 256) return undefined;
        return backend.get<OAuthClientInformationFull>(NS.client, clientId);
      },
      async registerClient(client) {
        const full = client as OAuthClientInformationFull;
        if (!full.client_id) throw new InvalidClientMetadataError('client_id generation is required');
        if (!Array.isArray(full.redirect_uris) || full.redirect_uris.length === 0) {
          throw new InvalidClientMetadataError('at least one redirect_uri is required');
        }
        for (const uri of full.redirect_uris) checkRedirectUri(String(uri));
        const stored = JSON.parse(JSON.stringify(full)) as OAuthClientInformationFull;
        await backend.set(NS.client, full.client_id, stored, { ttlMs: clientTtl });
        return stored;
      },
    };
    this.googleCallbackHandler = (req, res) => {
      this.#handleGoogleCallback(req, res).catch((error: unknown) => {
        this.#logger.error(
          { error: error instanceof CredentialError ? error.code : String(error) },
          'Google callback failed',
        );
        if (!res.headersSent)
          this.#page(res, 500, 'Sign-in failed', 'The server could not complete the sign-in.');
      });
    };
  }

  /** Dynamic client registrations, persisted in the backend. */
  get clientsStore(): OAuthRegisteredClientsStore {
    return this.#clients;
  }

  // -------------------------------------------------------------------------------------------
  // Authorization
  // -------------------------------------------------------------------------------------------

  async authorize(
    client: OAuthClientInformationFull,
    params: AuthorizationParams,
    res: Response,
  ): Promise<void> {
    const fail = (error: string, description: string) => {
      const target = new URL(params.redirectUri);
      target.searchParams.set('error', error);
      target.searchParams.set('error_description', description);
      if (params.state !== undefined) target.searchParams.set('state', params.state);
      res.redirect(302, target.href);
    };
    if (params.resource !== undefined && comparableResource(params.resource) !== this.#resource) {
      fail('invalid_target', 'the resource is not this server');
      return;
    }
    const scopes = params.scopes ?? [];
    if (this.#mcpScopes && scopes.some((scope) => !this.#mcpScopes!.has(scope))) {
      fail('invalid_scope', 'a requested scope is not supported');
      return;
    }
    const transactionId = randomToken();
    const pkce = createPkcePair();
    const transaction: Transaction = {
      clientId: client.client_id,
      redirectUri: params.redirectUri,
      codeChallenge: params.codeChallenge,
      scopes,
      googleVerifier: pkce.codeVerifier,
      expiresAt: this.#clock.now() + this.#ttl.transaction,
      ...(params.state === undefined ? {} : { clientState: params.state }),
      ...(params.resource === undefined ? {} : { resource: comparableResource(params.resource) }),
    };
    await this.#backend.set(NS.transaction, sha256(transactionId), transaction, {
      ttlMs: this.#ttl.transaction,
    });
    setNoStore(res);
    res.redirect(
      302,
      this.#manager.createAuthorizationUrl({
        state: transactionId,
        codeChallenge: pkce.codeChallenge,
        scopes: this.#googleScopes,
        redirectUri: this.#callbackUrl,
        // No account is known yet: ask for consent, so Google issues a refresh token.
        prompt: 'consent',
      }),
    );
  }

  async #handleGoogleCallback(req: Request, res: Response): Promise<void> {
    const query = req.query as Record<string, unknown>;
    const state = typeof query.state === 'string' ? query.state : undefined;
    if (state === undefined || state.length > 256) {
      this.#page(
        res,
        400,
        'Sign-in failed',
        'The sign-in link is incomplete. Start again from your MCP client.',
      );
      return;
    }
    const transaction = await this.#backend.take<Transaction>(NS.transaction, sha256(state));
    if (!transaction || transaction.expiresAt <= this.#clock.now()) {
      this.#logger.warn({}, 'Google callback with an unknown, used or expired transaction');
      this.#page(
        res,
        400,
        'Sign-in expired',
        'This sign-in has expired or was already used. Start again from your MCP client.',
      );
      return;
    }
    const back = new URL(transaction.redirectUri);
    if (transaction.clientState !== undefined) back.searchParams.set('state', transaction.clientState);
    const code = typeof query.code === 'string' ? query.code : undefined;
    if (typeof query.error === 'string' || code === undefined) {
      back.searchParams.set('error', 'access_denied');
      back.searchParams.set('error_description', 'the user did not authorize with Google');
      res.redirect(302, back.href);
      return;
    }
    let userId: string;
    try {
      ({ userId } = await this.#manager.completeAuthorization({
        code,
        codeVerifier: transaction.googleVerifier,
        redirectUri: this.#callbackUrl,
        requestedScopes: this.#googleScopes,
      }));
    } catch (error) {
      this.#logger.warn(
        { error: error instanceof CredentialError ? error.code : 'unknown' },
        'Google sign-in failed',
      );
      back.searchParams.set(
        'error',
        error instanceof CredentialError && error.code === 'ACCESS_DENIED' ? 'access_denied' : 'server_error',
      );
      back.searchParams.set('error_description', 'the Google sign-in could not be completed');
      res.redirect(302, back.href);
      return;
    }
    const authorizationCode = randomToken();
    const record: AuthorizationCode = {
      clientId: transaction.clientId,
      redirectUri: transaction.redirectUri,
      codeChallenge: transaction.codeChallenge,
      scopes: transaction.scopes,
      userId,
      expiresAt: this.#clock.now() + this.#ttl.code,
      ...(transaction.resource === undefined ? {} : { resource: transaction.resource }),
    };
    await this.#backend.set(NS.code, sha256(authorizationCode), record, { ttlMs: this.#ttl.code });
    back.searchParams.set('code', authorizationCode);
    setNoStore(res);
    res.redirect(302, back.href);
  }

  #page(res: Response, status: number, title: string, message: string): void {
    setNoStore(res);
    res
      .status(status)
      .type('html')
      .send(renderPage(title, [['p', message]]));
  }

  // -------------------------------------------------------------------------------------------
  // Token endpoint
  // -------------------------------------------------------------------------------------------

  async challengeForAuthorizationCode(
    client: OAuthClientInformationFull,
    authorizationCode: string,
  ): Promise<string> {
    const codeHash = sha256(String(authorizationCode));
    const record = await this.#backend.get<AuthorizationCode>(NS.code, codeHash);
    if (!record) return this.#rejectMissingCode(codeHash);
    if (record.clientId !== client.client_id || record.expiresAt <= this.#clock.now()) {
      throw new InvalidGrantError('invalid authorization code');
    }
    return record.codeChallenge;
  }

  /** An unknown code, or a replayed one: then revoke whatever its first exchange issued (OAuth 2.1 §4.1.3). */
  async #rejectMissingCode(codeHash: string): Promise<never> {
    const used = await this.#backend.get<{ familyId: string }>(NS.usedCode, codeHash);
    if (used) {
      this.#logger.warn({}, 'SECURITY: authorization code replayed; revoking its token family');
      await this.#revokeFamily(used.familyId);
    }
    throw new InvalidGrantError('invalid authorization code');
  }

  async exchangeAuthorizationCode(
    client: OAuthClientInformationFull,
    authorizationCode: string,
    _codeVerifier?: string,
    redirectUri?: string,
    resource?: URL,
  ): Promise<OAuthTokens> {
    const codeHash = sha256(String(authorizationCode));
    const record = await this.#backend.take<AuthorizationCode>(NS.code, codeHash);
    if (!record) return this.#rejectMissingCode(codeHash);
    if (record.clientId !== client.client_id)
      throw new InvalidGrantError('the code was issued to another client');
    if (record.expiresAt <= this.#clock.now()) throw new InvalidGrantError('the authorization code expired');
    if (redirectUri !== undefined && redirectUri !== record.redirectUri) {
      throw new InvalidGrantError('redirect_uri does not match the authorization request');
    }
    if (resource !== undefined && comparableResource(resource) !== (record.resource ?? this.#resource)) {
      throw new InvalidTargetError('resource does not match the authorization request');
    }
    const session = await this.#sessionStore.getSession(record.userId);
    if (!session) throw new InvalidGrantError('the user is no longer signed in');
    const familyId = randomToken(16);
    await this.#backend.set(NS.usedCode, codeHash, { familyId }, { ttlMs: this.#ttl.refresh });
    return this.#issue(familyId, {
      clientId: client.client_id,
      userId: record.userId,
      sessionCreatedAt: session.createdAt,
      scopes: record.scopes,
      ...(record.resource === undefined ? {} : { resource: record.resource }),
    });
  }

  async exchangeRefreshToken(
    client: OAuthClientInformationFull,
    refreshToken: string,
    scopes?: string[],
    resource?: URL,
  ): Promise<OAuthTokens> {
    const tokenHash = sha256(String(refreshToken));
    const record = await this.#backend.take<IssuedToken>(NS.refresh, tokenHash);
    if (!record) {
      const used = await this.#backend.get<{ familyId: string }>(NS.usedRefresh, tokenHash);
      if (used) {
        this.#logger.warn({}, 'SECURITY: refresh token reused; revoking its whole family');
        await this.#revokeFamily(used.familyId);
      }
      throw new InvalidGrantError('invalid refresh token');
    }
    await this.#backend.set(
      NS.usedRefresh,
      tokenHash,
      { familyId: record.familyId },
      { ttlMs: this.#ttl.refresh },
    );
    if (record.clientId !== client.client_id) {
      await this.#revokeFamily(record.familyId);
      throw new InvalidGrantError('the refresh token was issued to another client');
    }
    const family = await this.#backend.get<Family>(NS.family, record.familyId);
    if (!family || family.revoked || record.expiresAt <= this.#clock.now()) {
      throw new InvalidGrantError('the refresh token was revoked or expired');
    }
    const session = await this.#sessionStore.getSession(record.userId);
    if (!session || session.createdAt !== record.sessionCreatedAt) {
      await this.#revokeFamily(record.familyId);
      throw new InvalidGrantError('the user signed out');
    }
    if (resource !== undefined && comparableResource(resource) !== (record.resource ?? this.#resource)) {
      throw new InvalidTargetError('resource does not match the original grant');
    }
    const narrowed = scopes && scopes.length > 0 ? scopes : record.scopes;
    if (narrowed.some((scope) => !record.scopes.includes(scope))) {
      throw new InvalidScopeError('a refresh may only narrow the granted scopes');
    }
    return this.#issue(record.familyId, { ...record, scopes: narrowed, clientId: client.client_id });
  }

  async #issue(familyId: string, grant: Omit<IssuedToken, 'familyId' | 'expiresAt'>): Promise<OAuthTokens> {
    const now = this.#clock.now();
    const accessToken = `mcpat_${randomToken()}`;
    const refreshToken = `mcprt_${randomToken()}`;
    const accessHash = sha256(accessToken);
    const existing = await this.#backend.get<Family>(NS.family, familyId);
    const family: Family = {
      clientId: grant.clientId,
      userId: grant.userId,
      revoked: false,
      accessTokenHashes: [...(existing?.accessTokenHashes ?? []).slice(-20), accessHash],
    };
    await this.#backend.set(NS.family, familyId, family, { ttlMs: this.#ttl.refresh });
    await this.#backend.set(
      NS.access,
      accessHash,
      { ...grant, familyId, expiresAt: now + this.#ttl.access },
      {
        ttlMs: this.#ttl.access,
      },
    );
    await this.#backend.set(
      NS.refresh,
      sha256(refreshToken),
      { ...grant, familyId, expiresAt: now + this.#ttl.refresh },
      { ttlMs: this.#ttl.refresh },
    );
    return {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: Math.floor(this.#ttl.access / 1000),
      refresh_token: refreshToken,
      ...(grant.scopes.length > 0 ? { scope: grant.scopes.join(' ') } : {}),
    };
  }

  async #revokeFamily(familyId: string): Promise<void> {
    const family = await this.#backend.get<Family>(NS.family, familyId);
    if (!family) return;
    for (const accessHash of family.accessTokenHashes) await this.#backend.delete(NS.access, accessHash);
    await this.#backend.set(
      NS.family,
      familyId,
      { ...family, revoked: true, accessTokenHashes: [] },
      { ttlMs: this.#ttl.refresh },
    );
  }

  // -------------------------------------------------------------------------------------------
  // Resource server side
  // -------------------------------------------------------------------------------------------

  /**
   * Verifies one of this provider's access tokens: `AuthInfo` with the MCP client id, scopes, expiry
   * (seconds), the resource, and the Google user in `extra.userId`. Throws the SDK's
   * `InvalidTokenError` for unknown, expired or revoked tokens, and once the user signed out.
   */
  async verifyAccessToken(token: string): Promise<AuthInfo> {
    if (typeof token !== 'string' || token.length === 0 || token.length > 512) {
      throw new InvalidTokenError('Invalid access token');
    }
    const record = await this.#backend.get<IssuedToken>(NS.access, sha256(token));
    if (!record) throw new InvalidTokenError('Unknown or revoked access token');
    if (record.expiresAt <= this.#clock.now()) throw new InvalidTokenError('Access token expired');
    const [family, session] = await Promise.all([
      this.#backend.get<Family>(NS.family, record.familyId),
      this.#sessionStore.getSession(record.userId),
    ]);
    if (!family || family.revoked) throw new InvalidTokenError('Access token revoked');
    if (!session || session.createdAt !== record.sessionCreatedAt)
      throw new InvalidTokenError('The user signed out');
    return {
      token,
      clientId: record.clientId,
      scopes: [...record.scopes],
      expiresAt: Math.floor(record.expiresAt / 1000),
      resource: new URL(record.resource ?? this.#resource),
      extra: { userId: record.userId },
    };
  }

  /**
   * RFC 7009 revocation. An access token: that token. A refresh token: its whole family and, with
   * `fullSignOutOnRefreshTokenRevocation`, the user's Google grant through the manager. Unknown
   * tokens and other clients' tokens are ignored, as the RFC asks.
   */
  async revokeToken(client: OAuthClientInformationFull, request: OAuthTokenRevocationRequest): Promise<void> {
    if (typeof request.token !== 'string' || request.token.length > 512)
      throw new InvalidRequestError('invalid token');
    const tokenHash = sha256(request.token);
    const access = await this.#backend.get<IssuedToken>(NS.access, tokenHash);
    if (access) {
      if (access.clientId === client.client_id) await this.#backend.delete(NS.access, tokenHash);
      return;
    }
    const refresh = await this.#backend.get<IssuedToken>(NS.refresh, tokenHash);
    if (!refresh || refresh.clientId !== client.client_id) return;
    await this.#backend.delete(NS.refresh, tokenHash);
    await this.#revokeFamily(refresh.familyId);
    if (this.#fullSignOut) {
      const result = await this.#manager.revoke(refresh.userId);
      this.#logger.info(
        { userId: refresh.userId, providerRevoked: result.providerRevoked },
        'full sign-out on revocation',
      );
    }
  }
}
