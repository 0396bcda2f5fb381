/**
 * {@link McpAuthorizationServer}: an OAuth 2.1 authorization server for MCP clients that signs users
 * in with Google, written once against web-standard `Request` → `Response`. MCP clients never see a
 * Google token: they get this server's own opaque tokens (see `token-families.ts`).
 *
 * The browser side holds against a client an attacker registered:
 * - errors before consent (unknown client, unregistered redirect URI, `plain` PKCE, foreign
 *   resource, unsupported scope) are pages on this server, never redirects to the client;
 * - the transaction lives in a sealed cookie of the browser that called /authorize, so the Google
 *   callback completes only there, and nothing is written before the user is authenticated;
 * - before any code goes to a client, the user approves that client on this server's consent page
 *   (name, redirect host, scopes, first-seen date, anti-CSRF token), once per (user, client).
 *
 * @module
 */

import type { AuthInfo, BearerTokenVerifier } from '../auth-info.js';
import { InvalidTokenError } from '../errors.js';
import type { CookiePolicy } from '../http/cookies.js';
import { GoogleSignIn } from '../http/google-sign-in.js';
import { RateLimiter } from '../http/rate-limit.js';
import { failureResponse, redirectResponse, tooManyRequests } from '../http/responses.js';
import type { RequestContext } from '../http/sign-in-handlers.js';
import { Sealer } from '../internal/seal.js';
import type { SessionInfo } from '../session/types.js';
import { ClientMetadataDocuments } from './client-metadata.js';
import { type ClientRecord, ClientRegistry } from './clients.js';
import { ConsentApprovals } from './consent.js';
import { ConsentStep, errorPage, type Transaction } from './consent-step.js';
import { TokenEndpoints } from './endpoints.js';
import { OAuthFailure } from './oauth-error.js';
import {
  comparableResource,
  type McpAuthorizationServerOptions,
  type ResolvedOptions,
  resolveOptions,
} from './options.js';
import { TokenFamilies, type VerifiedAccess } from './token-families.js';

export type { Transaction } from './consent-step.js';

/** The endpoint paths of a server (absolute paths on its origin). */
export interface McpAuthorizationServerPaths {
  authorize: string;
  token: string;
  register: string;
  revoke: string;
  googleCallback: string;
  consent: string;
  authorizationServerMetadata: string;
  protectedResourceMetadata: string;
}

/** See the module documentation. */
export class McpAuthorizationServer implements BearerTokenVerifier {
  readonly #o: ResolvedOptions;
  readonly #sealer: Sealer;
  readonly #cookies: CookiePolicy;
  readonly #google: GoogleSignIn;
  readonly #clients: ClientRegistry;
  readonly #families: TokenFamilies;
  readonly #consent: ConsentStep;
  readonly #endpoints: TokenEndpoints;
  readonly #authorizeLimiter: RateLimiter | undefined;
  /** Absolute paths of every endpoint. */
  readonly paths: Readonly<McpAuthorizationServerPaths>;

  constructor(options: McpAuthorizationServerOptions) {
    this.#o = resolveOptions(options);
    const o = this.#o;
    this.#sealer = new Sealer(options.serverSecret, 'serverSecret');
    this.#cookies = { secure: o.secureCookies };
    const resourcePath = new URL(o.resource).pathname.replace(/\/$/, '');
    this.paths = Object.freeze({
      authorize: `${o.basePath}/authorize`,
      token: `${o.basePath}/token`,
      register: `${o.basePath}/register`,
      revoke: `${o.basePath}/revoke`,
      googleCallback: `${o.basePath}${o.googleCallbackPath}`,
      consent: `${o.basePath}${o.consentPath}`,
      authorizationServerMetadata: `/.well-known/oauth-authorization-server${o.basePath}`,
      protectedResourceMetadata: `/.well-known/oauth-protected-resource${resourcePath}`,
    });
    this.#google = new GoogleSignIn({
      manager: o.manager,
      sessionStore: o.sessionStore,
      sealer: this.#sealer,
      callbackUrl: `${o.origin}${this.paths.googleCallback}`,
      scopes: o.googleScopes,
      flowTtlMs: o.transactionTtlMs,
      cookies: this.#cookies,
      cookieBase: 'mcpoc_authz',
      policy: o.policy,
      clock: o.clock,
      logger: o.logger,
    });
    this.#clients = new ClientRegistry({
      backend: o.backend,
      clock: o.clock,
      pendingTtlMs: o.pendingClientTtlMs,
      activeTtlMs: o.clientTtlMs,
      maxPending: o.maxPendingClients,
      metadataDocuments:
        o.clientMetadataDocuments === false
          ? undefined
          : new ClientMetadataDocuments(o.clientMetadataDocuments, {
              backend: o.backend,
              clock: o.clock,
              logger: o.logger,
              firstSeenTtlMs: o.clientTtlMs,
            }),
    });
    this.#families = new TokenFamilies({
      backend: o.backend,
      sessionStore: o.sessionStore,
      clock: o.clock,
      logger: o.logger,
      accessTokenTtlMs: o.accessTokenTtlMs,
      refreshTokenTtlMs: o.refreshTokenTtlMs,
      maxRefreshTokenLifetimeMs: o.maxRefreshTokenLifetimeMs,
      refreshReuseGraceMs: o.refreshReuseGraceMs,
      authorizationCodeTtlMs: o.authorizationCodeTtlMs,
      verifiedTokenCache: o.verifiedTokenCache,
    });
    this.#consent = new ConsentStep({
      sealer: this.#sealer,
      cookies: this.#cookies,
      clock: o.clock,
      logger: o.logger,
      consentUrl: `${o.origin}${this.paths.consent}`,
      transactionTtlMs: o.transactionTtlMs,
      sessionStore: o.sessionStore,
      approvals: new ConsentApprovals(o.backend, o.clock, o.consentTtlMs),
      clients: this.#clients,
      googleScopes: this.#google.scopes,
      resourceName: o.resourceName,
      issueCode: (transaction, userId, generation, headers, status) =>
        this.#issueCode(transaction, userId, generation, headers, status),
      clientRedirect: (transaction, params) => this.#clientRedirect(transaction, params),
    });
    this.#endpoints = new TokenEndpoints(o, this.#clients, this.#families, this.paths);
    this.#authorizeLimiter =
      o.rateLimits.authorize && new RateLimiter(o.rateLimits.authorize, { clock: o.clock });
  }

  /** The issuer (RFC 8414), exactly as advertised and sent as `iss` (RFC 9207). */
  get issuer(): string {
    return this.#o.issuer;
  }

  /** The protected resource (normalised MCP endpoint URL). */
  get resource(): string {
    return this.#o.resource;
  }

  /** The client registry (dynamic registrations). */
  get clients(): ClientRegistry {
    return this.#clients;
  }

  /** The token families (issue, refresh, verify, revoke). */
  get families(): TokenFamilies {
    return this.#families;
  }

  /** The URL of the protected-resource metadata, for `WWW-Authenticate` challenges. */
  get protectedResourceMetadataUrl(): string {
    return `${this.#o.origin}${this.paths.protectedResourceMetadata}`;
  }

  /**
   * Answers a request for one of this server's endpoints, or resolves `undefined` when the request is
   * not for one (so the host routes it elsewhere).
   */
  async handle(request: Request, context: RequestContext = {}): Promise<Response | undefined> {
    const { pathname } = new URL(request.url);
    const method = request.method.toUpperCase();
    const p = this.paths;
    try {
      if (method === 'OPTIONS' && this.#endpoints.isCorsPath(pathname)) return this.#endpoints.preflight();
      if (method === 'GET' && pathname === p.authorizationServerMetadata) return this.#endpoints.metadata();
      if (method === 'GET' && pathname === p.protectedResourceMetadata)
        return this.#endpoints.resourceMetadata();
      if (method === 'GET' && pathname === p.authorize) return await this.authorize(request, context);
      if (method === 'GET' && pathname === p.googleCallback) return await this.googleCallback(request);
      if (method === 'GET' && pathname === p.consent) return await this.consentForm(request);
      if (method === 'POST' && pathname === p.consent) return await this.consentDecision(request);
      if (method === 'POST' && pathname === p.token) return await this.#endpoints.token(request, context);
      if (method === 'POST' && pathname === p.register)
        return await this.#endpoints.register(request, context);
      if (method === 'POST' && pathname === p.revoke) return await this.#endpoints.revoke(request, context);
    } catch (error) {
      // Every endpoint answers its own OAuth errors; what reaches here is a storage or provider failure.
      return failureResponse(request, error, {
        logger: this.#o.logger,
        component: 'authorization-server',
        operation: `${method} ${pathname}`,
      });
    }
    return undefined;
  }

  /** Revokes a token for a client (see the /revoke endpoint); unknown and foreign tokens are ignored. */
  revokeToken(clientId: string, token: string): Promise<void> {
    return this.#endpoints.revokeFor(clientId, token);
  }

  /**
   * Verifies an access token this server issued: `AuthInfo` with the MCP client id, scopes, expiry
   * (seconds), the resource, and the Google user in `extra.userId`; rejects with
   * `InvalidTokenError` for unknown, expired or revoked tokens and once the user signed out.
   */
  async verifyBearerToken(token: string): Promise<AuthInfo> {
    let verified: VerifiedAccess;
    let session: SessionInfo | undefined;
    try {
      verified = await this.#families.verify(token, (live) => {
        session = live;
      });
    } catch (error) {
      if (error instanceof OAuthFailure) throw new InvalidTokenError(error.message);
      throw error;
    }
    const info: AuthInfo = Object.freeze({
      token,
      clientId: verified.clientId,
      scopes: [...verified.scopes],
      expiresAt: Math.floor(verified.expiresAt / 1000),
      resource: new URL(verified.resource),
      resourceMetadataUrl: this.protectedResourceMetadataUrl,
      extra: Object.freeze({ userId: verified.userId }),
    });
    // The session just read travels with this request to the MCP session guard and the tool helper.
    // Stryker disable next-line ConditionalExpression: verify calls `seen` before it resolves, so a verified token always has its session here; the guard only satisfies the type
    if (session !== undefined) this.#o.sessionStore.rememberVerifiedSession(info, session);
    return info;
  }

  // -------------------------------------------------------------------------------------------
  // Browser side: /authorize, the Google callback, consent
  // -------------------------------------------------------------------------------------------

  /** GET /authorize: validates everything, then starts the Google leg in a browser-bound cookie. */
  async authorize(request: Request, context: RequestContext = {}): Promise<Response> {
    if (this.#authorizeLimiter) {
      const decision = this.#authorizeLimiter.take(context.clientAddress ?? 'unknown');
      if (!decision.allowed) return tooManyRequests(request, decision.retryAfterSeconds);
    }
    const params = new URL(request.url).searchParams;
    let client: ClientRecord | undefined;
    try {
      client = await this.#clients.get(params.get('client_id'));
    } catch (error) {
      if (error instanceof OAuthFailure) return errorPage(400, 'Client refused', error.message);
      throw error;
    }
    if (!client)
      return errorPage(
        400,
        'Unknown client',
        'This MCP client is not registered with this server (or its registration expired). Start again from your MCP client.',
      );
    const redirectUri =
      params.get('redirect_uri') ?? (client.redirect_uris.length === 1 ? client.redirect_uris[0]! : '');
    if (!client.redirect_uris.includes(redirectUri)) {
      return errorPage(400, 'Invalid redirect', 'The redirect_uri is not one this client registered.');
    }
    return this.startTransaction(client, {
      redirectUri,
      responseType: params.get('response_type'),
      codeChallenge: params.get('code_challenge'),
      codeChallengeMethod: params.get('code_challenge_method'),
      state: params.get('state'),
      scope: params.get('scope'),
      resource: params.get('resource'),
    });
  }

  /**
   * Validates an authorization request of a known client with a registered redirect URI and sends
   * the browser to Google. Every refusal is a page (RFC 9700 §4.11.2). Used by /authorize and by the
   * MCP SDK v1 compatibility provider.
   */
  async startTransaction(
    client: ClientRecord,
    request: {
      redirectUri: string;
      responseType: string | null;
      codeChallenge: string | null;
      codeChallengeMethod: string | null;
      state: string | null;
      scope: string | null;
      resource: string | null;
    },
  ): Promise<Response> {
    const o = this.#o;
    const refuse = (error: string, description: string) =>
      errorPage(400, 'Authorization request refused', `${error}: ${description}`);
    if (request.responseType !== 'code')
      return refuse('unsupported_response_type', 'response_type must be code');
    if (!request.codeChallenge || !/^[A-Za-z0-9_-]{43}$/.test(request.codeChallenge)) {
      return refuse('invalid_request', 'a PKCE code_challenge (S256) is required');
    }
    if (request.codeChallengeMethod !== 'S256')
      return refuse('invalid_request', 'code_challenge_method must be S256');
    if (request.state !== null && request.state.length > 512)
      return refuse('invalid_request', 'state is too long');
    let resource = o.resource;
    if (request.resource !== null) {
      try {
        resource = comparableResource(request.resource);
      } catch {
        return refuse('invalid_target', 'resource is not a URL');
      }
      if (resource !== o.resource) return refuse('invalid_target', 'the resource is not this server');
    }
    const requested = request.scope === null ? [] : request.scope.split(' ').filter(Boolean);
    const unsupported = requested.find((scope) => !o.mcpScopes.includes(scope));
    if (unsupported !== undefined)
      return refuse('invalid_scope', `scope "${unsupported.slice(0, 64)}" is not supported`);
    const scopes = requested.length > 0 ? [...new Set(requested)] : [...o.defaultMcpScopes];
    const transaction: Transaction = {
      clientId: client.client_id,
      redirectUri: request.redirectUri,
      codeChallenge: request.codeChallenge,
      scopes,
      resource,
      ...(request.state === null ? {} : { state: request.state }),
    };
    return this.#google.start(transaction);
  }

  /** GET Google callback: completes the Google leg in the browser that started it, then consent. */
  async googleCallback(request: Request): Promise<Response> {
    const outcome = await this.#google.finish<Transaction>(request);
    if (outcome.kind === 'response') return outcome.response;
    const headers = new Headers({ 'set-cookie': outcome.setCookie });
    if (outcome.kind === 'declined') {
      return errorPage(
        403,
        'Not authorized',
        'Google sign-in was declined. Return to your MCP client.',
        headers,
      );
    }
    const { result, payload: transaction } = outcome;
    const client = await this.#clients.get(transaction.clientId);
    if (!client) {
      return errorPage(
        400,
        'Unknown client',
        'This MCP client’s registration expired. Start again from your MCP client.',
        headers,
      );
    }
    const session = await this.#o.sessionStore.storeSession(result.userId, {
      scopes: result.scopes,
      expiresAt: result.expiresAt,
      issuer: result.profile.iss,
    });
    return this.#consent.afterSignIn(transaction, client, result.userId, session.generation, headers);
  }

  /** GET consent: the page. Loading it again (prefetch, double click) renders the same form. */
  consentForm(request: Request): Promise<Response> {
    return this.#consent.form(request);
  }

  /** POST consent: approve (code to the client) or deny (`access_denied` to the client). */
  consentDecision(request: Request): Promise<Response> {
    return this.#consent.decision(request);
  }

  async #issueCode(
    transaction: Transaction,
    userId: string,
    generation: string,
    headers: Headers,
    status = 302,
  ): Promise<Response> {
    const code = await this.#families.issueCode({
      clientId: transaction.clientId,
      userId,
      generation,
      scopes: transaction.scopes,
      resource: transaction.resource,
      redirectUri: transaction.redirectUri,
      codeChallenge: transaction.codeChallenge,
    });
    return redirectResponse(this.#clientRedirect(transaction, { code }), status, { headers });
  }

  #clientRedirect(transaction: Transaction, params: Record<string, string>): string {
    const target = new URL(transaction.redirectUri);
    for (const [name, value] of Object.entries(params)) target.searchParams.set(name, value);
    if (transaction.state !== undefined) target.searchParams.set('state', transaction.state);
    target.searchParams.set('iss', this.#o.issuer);
    return target.href;
  }
}
