/**
 * {@link createSignInHandlers}: the browser sign-in of the bearer mode, written once against
 * web-standard `Request` → `Response`: start (sealed flow cookie, rate-limited), the Google callback
 * (issues a bearer token), revoke and status. Framework adapters (`/express`, `/hono`) only translate.
 *
 * @module
 */
import { type Clock, systemClock } from '../clock.js';
import { ConfigurationError, InvalidInputError } from '../errors.js';
import { Sealer, type SealingKeySource } from '../internal/seal.js';
import { type Logger, silentLogger } from '../logger.js';
import type { AuthorizationResult, SignInPolicy } from '../refresh/authorization.js';
import type { CredentialManager } from '../refresh/manager.js';
import { randomToken } from '../secrets.js';
import type { OAuth21SessionStore } from '../session/session-store.js';
import { normaliseUserId } from '../user-id.js';
import { GoogleSignIn, loginHintFrom } from './google-sign-in.js';
import { type RateLimit, RateLimiter } from './rate-limit.js';
import {
  failureResponse,
  htmlResponse,
  jsonResponse,
  type PageBlock,
  problemResponse,
  readFormFields,
  tooManyRequests,
  wantsJson,
} from './responses.js';

/** What the adapter knows about the request that `Request` does not carry. */
export interface RequestContext {
  /** The client's address (Express `req.ip`, Hono's connection info), for rate limits. Default `unknown`. */
  clientAddress?: string;
}

/** The default lifetime of a pending sign-in (flow cookie), milliseconds: 10 minutes. */
export const DEFAULT_FLOW_TTL_MS = 10 * 60 * 1000;
/** The default budget of `/auth/start` per client address: 30 per 10 minutes. */
export const DEFAULT_SIGN_IN_RATE_LIMIT: RateLimit = Object.freeze({ limit: 30, windowMs: 10 * 60 * 1000 });

/** Options of {@link createSignInHandlers}. */
export interface SignInHandlersOptions {
  manager: CredentialManager;
  sessionStore: OAuth21SessionStore;
  /** The callback URL registered with Google (where `callback` is mounted). */
  redirectUri: string;
  /** Scopes to request. `openid` and `email` are always added (the user is identified by email). Default: none more. */
  scopes?: readonly string[];
  /**
   * Seals the pending flow into the browser's cookie: a random string of at least 32 characters, the
   * same on every replica (several: the first seals, all open), or the encrypted store's keyring.
   * Required.
   */
  serverSecret: SealingKeySource;
  /** Who may sign in (Google Workspace domains by `hd`, and single users). Default: anyone. */
  policy?: SignInPolicy;
  /**
   * Where the callback page may send the user afterwards (`return_to`): exact URLs. Anything else is
   * refused, so the flow cannot be used as an open redirect. Default: none.
   */
  allowedReturnTo?: readonly string[];
  /** Lifetime of a pending sign-in, milliseconds. Default {@link DEFAULT_FLOW_TTL_MS}. */
  flowTtlMs?: number;
  /** Lifetime of the bearer token the callback issues, ms. Default: the session store's (30 days). */
  bearerTokenTtlMs?: number;
  /** Refuse a sign-in with another account than `login_hint` asked for. Default false. */
  requireLoginHintMatch?: boolean;
  /** Base name of the flow cookies. Default `mcpoc_signin`. */
  cookieName?: string;
  /** Mark cookies `Secure` with the `__Host-` prefix. Default: true when `redirectUri` is https. */
  secureCookies?: boolean;
  /** Shown on the callback page as the MCP endpoint to configure. */
  mcpEndpoint?: string;
  /** Budget of `start` per client address; `false` turns it off. Default {@link DEFAULT_SIGN_IN_RATE_LIMIT}. */
  rateLimit?: RateLimit | false;
  /**
   * Where `connect` is mounted (absolute URL, e.g. `https://mcp.example.com/auth/connect`): the
   * links `connectLink` makes for incremental authorization (a tool needs scopes the user has not
   * granted, or the user has no credentials yet). Without it `connectLink` throws
   * `ConfigurationError`.
   */
  connectUrl?: string;
  /** Lifetime of a connect link, ms. Default {@link DEFAULT_CONNECT_LINK_TTL_MS}. */
  connectLinkTtlMs?: number;
  /**
   * Called after a connect link's authorization was saved: tell the MCP client (send
   * `notifications/elicitation/complete` for `elicitationId` on `mcpSessionId`). Errors are logged
   * and ignored (the grant is saved either way).
   */
  onConnected?: (event: ConnectedEvent) => unknown;
  clock?: Clock;
  /** Default: silent. */
  logger?: Logger;
}

/** The default lifetime of a connect link, ms: 5 minutes (it can be forwarded: keep it short). */
export const DEFAULT_CONNECT_LINK_TTL_MS = 5 * 60 * 1000;

/** What {@link SignInHandlers.connectLink} takes: a known user and the scopes to ask for. */
export interface ConnectLinkRequest {
  /** The user (already known: the verified bearer token's, or the bound MCP session's). */
  userId: string;
  /** The user's Google account (`sub`), when credentials are on file: another account is refused. */
  subject?: string;
  /** The scopes to ask for (the missing ones; `openid` and `email` are added; granted ones are kept). */
  scopes: readonly string[];
  /** The MCP session the request came from, passed back to `onConnected`. */
  mcpSessionId?: string;
}

/** A connect link: single use, expiring, bound to one user. */
export interface ConnectLink {
  url: string;
  /** A fresh id, for MCP URL elicitation. */
  elicitationId: string;
  /** When it expires, epoch milliseconds. */
  expiresAt: number;
}

/** What `onConnected` receives. */
export interface ConnectedEvent {
  userId: string;
  elicitationId: string;
  mcpSessionId?: string;
  /** Every scope the user has now granted. */
  scopes: readonly string[];
}

/** The handlers {@link createSignInHandlers} returns. */
export interface SignInHandlers {
  /**
   * A link that sends `userId` to Google for `scopes` (incremental authorization): single use,
   * expiring after `connectLinkTtlMs`, bound to that user and (when known) Google account; the first
   * hop binds the flow to the browser that opened it. Writes nothing on the server.
   */
  connectLink(request: ConnectLinkRequest): Promise<ConnectLink>;
  /** `GET` at `connectUrl`: opens a connect link (once) and redirects to Google. */
  connect(request: Request, context?: RequestContext): Promise<Response>;
  /** `GET`: redirects to Google. Query: `login_hint?`, `return_to?` (must be allow-listed). */
  start(request: Request, context?: RequestContext): Promise<Response>;
  /** `GET`: Google's redirect back. Issues a bearer token; HTML, or JSON when asked. */
  callback(request: Request, context?: RequestContext): Promise<Response>;
  /** `POST`, for a verified user: revokes that user's own credentials everywhere. */
  revoke(request: Request, user: { userId: string }): Promise<Response>;
  /** `GET`, for a verified user: scopes and expiry, no tokens. */
  status(request: Request, user: { userId: string }): Promise<Response>;
}

interface BearerFlow {
  returnTo?: string;
  /** An incremental authorization: no bearer token; `onConnected` afterwards. */
  connect?: { e: string; m?: string };
}

/** The sealed content of a connect link. */
interface ConnectToken {
  /** Nonce, recorded once when the link is opened. */
  n: string;
  u: string;
  g?: string;
  o: string[];
  m?: string;
  e: string;
  x: number;
}

const CONNECT_PURPOSE = 'connect-link';

const MAX_PARAM_LENGTH = 2048;

function queryParam(request: Request, name: string): string | null {
  const value = new URL(request.url).searchParams.get(name);
  if (value !== null && value.length > MAX_PARAM_LENGTH) {
    throw new InvalidInputError(`query parameter ${name} is too long`);
  }
  return value;
}

/** Builds the bearer-mode sign-in handlers. */
export function createSignInHandlers(options: SignInHandlersOptions): SignInHandlers {
  if (!options?.manager || !options.sessionStore) {
    throw new ConfigurationError('createSignInHandlers needs manager and sessionStore');
  }
  const logger = options.logger ?? silentLogger;
  const clock = options.clock ?? systemClock;
  const sealer = new Sealer(options.serverSecret, 'serverSecret');
  const allowedReturnTo = new Set(options.allowedReturnTo);
  const secure = options.secureCookies ?? new URL(options.redirectUri).protocol === 'https:';
  const limiter =
    options.rateLimit === false
      ? undefined
      : new RateLimiter(options.rateLimit ?? DEFAULT_SIGN_IN_RATE_LIMIT, { clock, option: 'rateLimit' });
  const google = new GoogleSignIn({
    manager: options.manager,
    sessionStore: options.sessionStore,
    sealer,
    callbackUrl: options.redirectUri,
    scopes: options.scopes ?? [],
    flowTtlMs: options.flowTtlMs ?? DEFAULT_FLOW_TTL_MS,
    cookies: { secure },
    cookieBase: options.cookieName ?? 'mcpoc_signin',
    policy: options.policy,
    // Stryker disable next-line ConditionalExpression: undefined reads as false where it is used (`requireLoginHintMatch && …`)
    ...(options.requireLoginHintMatch === undefined
      ? {}
      : { requireLoginHintMatch: options.requireLoginHintMatch }),
    clock,
    logger,
  });

  const guarded =
    (operation: string, handler: (request: Request, context: RequestContext) => Promise<Response>) =>
    async (request: Request, context: RequestContext = {}): Promise<Response> => {
      try {
        return await handler(request, context);
      } catch (error) {
        return failureResponse(request, error, { logger, component: 'sign-in', operation });
      }
    };

  const start = guarded('start', async (request, context) => {
    if (limiter) {
      const decision = limiter.take(context.clientAddress ?? 'unknown');
      if (!decision.allowed) return tooManyRequests(request, decision.retryAfterSeconds);
    }
    const loginHint = loginHintFrom(queryParam(request, 'login_hint'));
    const returnTo = queryParam(request, 'return_to') ?? undefined;
    if (returnTo !== undefined && !allowedReturnTo.has(returnTo)) {
      throw new InvalidInputError('return_to is not an allowed redirect target');
    }
    // Stryker disable next-line ConditionalExpression: the flow is sealed as JSON, which drops an undefined returnTo
    const flow: BearerFlow = returnTo === undefined ? {} : { returnTo };
    // Stryker disable next-line ConditionalExpression: the Google sign-in leg treats an undefined loginHint as none (`loginHint === undefined`)
    return google.start(flow, loginHint === undefined ? {} : { loginHint });
  });

  const connectTtlMs = options.connectLinkTtlMs ?? DEFAULT_CONNECT_LINK_TTL_MS;
  const connectLink = async (link: ConnectLinkRequest): Promise<ConnectLink> => {
    if (options.connectUrl === undefined) {
      throw new ConfigurationError(
        'connect links need the connectUrl option (where the connect handler is mounted)',
      );
    }
    const userId = normaliseUserId(link.userId);
    const scopes = [...new Set(link.scopes)];
    if (
      scopes.length === 0 ||
      scopes.length > 50 ||
      scopes.some((scope) => typeof scope !== 'string' || scope.length > 256)
    ) {
      throw new InvalidInputError('a connect link needs 1 to 50 scopes');
    }
    const expiresAt = clock.now() + connectTtlMs;
    const token: ConnectToken = {
      n: randomToken(),
      u: userId,
      o: scopes,
      e: randomToken(16),
      x: expiresAt,
      // Stryker disable next-line ConditionalExpression: the link is sealed as JSON, which drops an undefined field
      ...(link.subject === undefined ? {} : { g: link.subject }),
      // Stryker disable next-line ConditionalExpression: as above
      ...(link.mcpSessionId === undefined ? {} : { m: link.mcpSessionId }),
    };
    const url = new URL(options.connectUrl);
    url.searchParams.set('t', await sealer.seal(CONNECT_PURPOSE, token));
    return { url: url.href, elicitationId: token.e, expiresAt };
  };

  const connect = guarded('connect', async (request) => {
    const token = await sealer.open<ConnectToken>(CONNECT_PURPOSE, queryParam(request, 't') ?? undefined);
    const now = clock.now();
    if (token === undefined || token.x <= now) {
      return problemResponse(
        request,
        new InvalidInputError('this link expired or is not valid; ask your MCP client to try the tool again'),
      );
    }
    if (!(await options.sessionStore.recordSingleUse(token.n, token.x - now + 60_000))) {
      logger.warn({ userId: token.u }, 'SECURITY: a connect link was opened twice; refused');
      return problemResponse(
        request,
        new InvalidInputError('this link was already used; ask your MCP client to try the tool again'),
      );
    }
    // Stryker disable next-line ConditionalExpression: the flow is sealed as JSON, which drops an undefined field
    const flow: BearerFlow = { connect: { e: token.e, ...(token.m === undefined ? {} : { m: token.m }) } };
    return google.start(flow, {
      loginHint: token.u,
      scopes: token.o,
      expectedUser: token.u,
      // Stryker disable next-line ConditionalExpression: the Google sign-in leg treats an undefined expectedSubject as none
      ...(token.g === undefined ? {} : { expectedSubject: token.g }),
    });
  });

  const connected = async (
    request: Request,
    result: AuthorizationResult,
    flow: NonNullable<BearerFlow['connect']>,
    headers: Record<string, string>,
  ) => {
    await options.sessionStore.storeSession(result.userId, {
      scopes: result.scopes,
      // Stryker disable next-line ConditionalExpression: storeSession reads an undefined expiresAt as none (sessionFields)
      ...(result.expiresAt === undefined ? {} : { expiresAt: result.expiresAt }),
    });
    logger.info({ userId: result.userId, scopes: result.scopes.length }, 'user granted more Google access');
    try {
      await options.onConnected?.({
        userId: result.userId,
        elicitationId: flow.e,
        scopes: result.scopes,
        ...(flow.m === undefined ? {} : { mcpSessionId: flow.m }),
      });
    } catch (error) {
      logger.warn(
        { userId: result.userId, error: String((error as Error)?.name) },
        'onConnected failed; ignored',
      );
    }
    const body = { user_id: result.userId, scopes: result.scopes, connected: true };
    if (wantsJson(request)) return jsonResponse(200, body, { headers });
    return htmlResponse(
      200,
      'Google access granted',
      [
        ['p', `${result.userId} granted: ${result.scopes.join(' ')}`],
        ['p', 'You can close this page and return to your MCP client.'],
      ],
      { headers },
    );
  };

  const callback = guarded('callback', async (request) => {
    const outcome = await google.finish<BearerFlow>(request);
    if (outcome.kind === 'response') return outcome.response;
    const headers = { 'set-cookie': outcome.setCookie };
    if (outcome.kind === 'declined') {
      return problemResponse(request, new InvalidInputError(`Google did not authorize (${outcome.error})`), {
        headers,
      });
    }
    const { result, payload } = outcome;
    if (payload.connect !== undefined) return connected(request, result, payload.connect, headers);
    await options.sessionStore.storeSession(result.userId, {
      scopes: result.scopes,
      // Stryker disable next-line ConditionalExpression: storeSession reads an undefined expiresAt as none (sessionFields)
      ...(result.expiresAt === undefined ? {} : { expiresAt: result.expiresAt }),
      // Stryker disable next-line ConditionalExpression: storeSession reads an undefined issuer as none (sessionFields)
      ...(result.profile.iss === undefined ? {} : { issuer: result.profile.iss }),
    });
    const issued = await options.sessionStore.issueBearerToken(result.userId, {
      scopes: result.scopes,
      // Stryker disable next-line ConditionalExpression: issueBearerToken reads an undefined ttlMs as its default (`??`)
      ...(options.bearerTokenTtlMs === undefined ? {} : { ttlMs: options.bearerTokenTtlMs }),
    });
    logger.info({ userId: result.userId, scopes: result.scopes.length }, 'user signed in');
    const body = {
      user_id: result.userId,
      scopes: result.scopes,
      refresh_token_stored: result.hasRefreshToken,
      access_token: issued.token,
      token_type: 'Bearer',
      expires_at: issued.expiresAt,
      // Stryker disable next-line ConditionalExpression: the body is JSON, which drops an undefined field
      ...(options.mcpEndpoint === undefined ? {} : { mcp_endpoint: options.mcpEndpoint }),
      // Stryker disable next-line ConditionalExpression: as above
      ...(payload.returnTo === undefined ? {} : { return_to: payload.returnTo }),
    };
    if (wantsJson(request)) return jsonResponse(200, body, { headers });
    const blocks: PageBlock[] = [
      ['p', `Signed in as ${result.userId}.`],
      [
        'p',
        'Configure your MCP client to send this header (shown once; it is not stored anywhere readable):',
      ],
      ['code', `Authorization: Bearer ${issued.token}`],
    ];
    if (options.mcpEndpoint !== undefined) blocks.push(['p', `MCP endpoint: ${options.mcpEndpoint}`]);
    blocks.push(['p', `Granted scopes: ${result.scopes.join(' ')}`]);
    if (!result.hasRefreshToken) {
      blocks.push([
        'p',
        'No refresh token was granted: you will have to sign in again when the access token expires.',
      ]);
    }
    if (payload.returnTo !== undefined) blocks.push(['link', payload.returnTo]);
    return htmlResponse(200, 'Signed in', blocks, { headers });
  });

  const revoke = async (request: Request, user: { userId: string }): Promise<Response> => {
    try {
      const userId = normaliseUserId(user.userId);
      const named = namedUser(await readFormFields(request, 16 * 1024).catch(() => undefined));
      if (named !== undefined && named !== userId) {
        logger.warn({ userId }, 'SECURITY: a revoke request named another user; refused');
        return jsonResponse(403, {
          error: 'access_denied',
          error_description: 'you can revoke only your own credentials',
        });
      }
      const result = await options.manager.revoke(userId);
      return jsonResponse(200, {
        user_id: userId,
        revoked: true,
        credentials_removed: result.removed,
        provider_revoked: result.providerRevoked,
      });
    } catch (error) {
      return failureResponse(request, error, { logger, component: 'sign-in', operation: 'revoke' });
    }
  };

  const status = async (request: Request, user: { userId: string }): Promise<Response> => {
    try {
      const userId = normaliseUserId(user.userId);
      const summary = await options.manager.describe(userId);
      const session = await options.sessionStore.getSession(userId);
      return jsonResponse(200, {
        user_id: userId,
        scopes: summary?.scopes ?? session?.scopes ?? [],
        access_token_expires_at: summary?.expiresAt ?? null,
        has_refresh_token: summary?.hasRefreshToken ?? false,
        credentials_stored: summary !== undefined,
      });
    } catch (error) {
      return failureResponse(request, error, { logger, component: 'sign-in', operation: 'status' });
    }
  };

  return { start, callback, revoke, status, connect, connectLink };
}

function namedUser(fields: Record<string, string> | undefined): string | undefined {
  if (fields === undefined) return undefined;
  for (const key of ['user_id', 'userId', 'user', 'user_email', 'email']) {
    const value = fields[key];
    if (value === undefined) continue;
    try {
      return normaliseUserId(value);
    } catch {
      return value;
    }
  }
  return undefined;
}
