/**
 * Express request handlers for the browser side of authorization: start (PKCE + state), OAuth
 * callback, revoke and status. They are handlers to mount in your own router, not a router to adopt.
 * They use only the request/response API that Express 4 and 5 share, and import nothing from Express.
 *
 * @module
 */
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { CredentialError, InvalidInputError } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import type { CredentialManager } from '../refresh/manager.js';
import { createPkcePair, randomToken } from '../secrets.js';
import type { OAuth21SessionStore } from '../session/session-store.js';
import { normaliseUserId } from '../user-id.js';
import { renderPage, sendProblem, setNoStore, wantsJson } from './respond.js';

/** Options of {@link createAuthHandlers}. */
export interface AuthHandlersOptions {
  manager: CredentialManager;
  sessionStore: OAuth21SessionStore;
  /** The callback URL registered with the provider (where `oauthCallback` is mounted). */
  redirectUri: string;
  /** Scopes to request. `openid` and `email` are always added (the user is identified by email). */
  scopes: string[];
  /**
   * Where the callback page may send the user afterwards (`return_to`): exact URLs. Anything else is
   * refused, so the flow cannot be used as an open redirect. Default: none.
   */
  allowedReturnTo?: string[];
  /** Lifetime of a pending authorization (state, PKCE verifier, flow cookie), ms. Default 10 minutes. */
  flowTtlMs?: number;
  /** Lifetime of the bearer token the callback issues, ms. Default: the session store's default (30 days). */
  bearerTokenTtlMs?: number;
  /** Refuse a sign-in with another account than `login_hint` asked for. Default false. */
  requireLoginHintMatch?: boolean;
  /** The flow cookie's name. Default `mcpoc_oauth_flow`. */
  cookieName?: string;
  /** Mark the flow cookie `Secure`. Default: true when `redirectUri` is https. */
  secureCookies?: boolean;
  /** Shown on the callback page as the MCP endpoint to configure. */
  mcpEndpoint?: string;
  /** Default: silent. */
  logger?: Logger;
}

/** The handlers {@link createAuthHandlers} returns. */
export interface AuthHandlers {
  /** `GET`: redirects to the provider. Query: `login_hint?`, `return_to?` (must be allow-listed). */
  startAuthorization: RequestHandler;
  /** `GET`: the provider's redirect back. Issues a bearer token; HTML, or JSON when asked. */
  oauthCallback: RequestHandler;
  /** `POST`, after `requireBearerAuth`: revokes the caller's own credentials. */
  revoke: RequestHandler;
  /** `GET`, after `requireBearerAuth`: the caller's scopes and expiry, no tokens. */
  status: RequestHandler;
}

const MAX_PARAM_LENGTH = 2048;

function queryString(req: Request, name: string): string | undefined {
  const value = (req.query as Record<string, unknown>)[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length > MAX_PARAM_LENGTH) {
    throw new InvalidInputError(`query parameter ${name} must be a single short string`);
  }
  return value;
}

function readCookie(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const index = part.indexOf('=');
    if (index > 0 && part.slice(0, index).trim() === name) return part.slice(index + 1).trim();
  }
  return undefined;
}

/** The verified user of a request that went through `requireBearerAuth`, or undefined. */
export function authenticatedUser(req: Request): string | undefined {
  const userId = (req as Request & { auth?: AuthInfo }).auth?.extra?.userId;
  return typeof userId === 'string' ? userId : undefined;
}

function wrap(
  logger: Logger,
  handler: (req: Request, res: Response) => Promise<void>,
): (req: Request, res: Response, next: NextFunction) => void {
  return (req, res, next) => {
    handler(req, res).catch((error: unknown) => {
      if (res.headersSent) return next(error);
      if (!(error instanceof CredentialError))
        logger.error({ error: String(error) }, 'authorization handler failed');
      sendProblem(req, res, error);
    });
  };
}

/**
 * Builds the authorization handlers. Mount them in your own router:
 *
 * ```ts
 * const auth = createAuthHandlers({ manager, sessionStore, redirectUri, scopes });
 * app.get('/auth/start', auth.startAuthorization);
 * app.get('/oauth/callback', auth.oauthCallback);
 * app.post('/auth/revoke', requireBearerAuth({ verifier: sessionStore }), auth.revoke);
 * app.get('/auth/status', requireBearerAuth({ verifier: sessionStore }), auth.status);
 * ```
 */
export function createAuthHandlers(options: AuthHandlersOptions): AuthHandlers {
  const logger = options.logger ?? silentLogger;
  const scopes = [...new Set(['openid', 'email', ...options.scopes])];
  const allowedReturnTo = new Set(options.allowedReturnTo ?? []);
  const flowTtlMs = options.flowTtlMs ?? 10 * 60 * 1000;
  const cookieName = options.cookieName ?? 'mcpoc_oauth_flow';
  const secure = options.secureCookies ?? new URL(options.redirectUri).protocol === 'https:';
  const cookiePath = new URL(options.redirectUri).pathname;

  const startAuthorization = wrap(logger, async (req, res) => {
    const rawHint = queryString(req, 'login_hint');
    const loginHint = rawHint === undefined || rawHint === '' ? undefined : normaliseUserId(rawHint);
    const returnTo = queryString(req, 'return_to');
    if (returnTo !== undefined && !allowedReturnTo.has(returnTo)) {
      throw new InvalidInputError('return_to is not an allowed redirect target');
    }
    // Ask for consent (and so a refresh token) unless one is already on file for the hinted account.
    const onFile =
      loginHint === undefined ? undefined : await options.manager.describe(loginHint).catch(() => undefined);
    const prompt = onFile?.hasRefreshToken ? undefined : 'consent';
    const pkce = createPkcePair();
    const state = randomToken();
    const flowId = randomToken();
    await options.sessionStore.storeOAuthState(state, {
      sessionId: flowId,
      codeVerifier: pkce.codeVerifier,
      redirectUri: options.redirectUri,
      scopes,
      ttlMs: flowTtlMs,
      ...(loginHint === undefined ? {} : { loginHint }),
      ...(returnTo === undefined ? {} : { returnTo }),
    });
    res.cookie(cookieName, flowId, {
      httpOnly: true,
      sameSite: 'lax',
      secure,
      path: cookiePath,
      maxAge: flowTtlMs,
    });
    setNoStore(res);
    res.redirect(
      302,
      options.manager.createAuthorizationUrl({
        state,
        codeChallenge: pkce.codeChallenge,
        scopes,
        redirectUri: options.redirectUri,
        ...(loginHint === undefined ? {} : { loginHint }),
        ...(prompt === undefined ? {} : { prompt }),
      }),
    );
  });

  const oauthCallback = wrap(logger, async (req, res) => {
    const flowId = readCookie(req, cookieName);
    const state = queryString(req, 'state');
    const providerError = queryString(req, 'error');
    if (state === undefined || state === '')
      throw new InvalidInputError('the callback has no state; start again');
    const flow = await options.sessionStore.consumeOAuthState(state, flowId);
    res.clearCookie(cookieName, { httpOnly: true, sameSite: 'lax', secure, path: cookiePath });
    if (providerError !== undefined) {
      throw new InvalidInputError(`the provider did not authorize (${providerError.slice(0, 64)})`);
    }
    const code = queryString(req, 'code');
    if (code === undefined || code === '') throw new InvalidInputError('the callback has no code');
    const result = await options.manager.completeAuthorization({
      code,
      codeVerifier: flow.codeVerifier,
      redirectUri: flow.redirectUri ?? options.redirectUri,
      ...(flow.scopes === undefined ? {} : { requestedScopes: flow.scopes }),
      ...(options.requireLoginHintMatch && flow.loginHint !== undefined
        ? { expectedUser: flow.loginHint }
        : {}),
    });
    await options.sessionStore.storeSession(result.userId, {
      scopes: result.scopes,
      ...(result.expiresAt === undefined ? {} : { expiresAt: result.expiresAt }),
    });
    const issued = await options.sessionStore.issueBearerToken(result.userId, {
      scopes: result.scopes,
      ...(options.bearerTokenTtlMs === undefined ? {} : { ttlMs: options.bearerTokenTtlMs }),
    });
    logger.info({ userId: result.userId, scopes: result.scopes.length }, 'user authorized');
    setNoStore(res);
    const body = {
      user_id: result.userId,
      scopes: result.scopes,
      refresh_token_stored: result.hasRefreshToken,
      access_token: issued.token,
      token_type: 'Bearer',
      expires_at: issued.expiresAt,
      ...(options.mcpEndpoint === undefined ? {} : { mcp_endpoint: options.mcpEndpoint }),
      ...(flow.returnTo === undefined ? {} : { return_to: flow.returnTo }),
    };
    if (wantsJson(req)) {
      res.status(200).json(body);
      return;
    }
    res
      .status(200)
      .type('html')
      .send(
        renderPage('Signed in', [
          ['p', `Signed in as ${result.userId}.`],
          [
            'p',
            'Configure your MCP client to send this header (shown once; it is not stored anywhere readable):',
          ],
          ['code', `Authorization: Bearer ${issued.token}`],
          ...(options.mcpEndpoint === undefined
            ? []
            : ([['p', `MCP endpoint: ${options.mcpEndpoint}`]] as const)),
          ['p', `Granted scopes: ${result.scopes.join(' ')}`],
          ...(result.hasRefreshToken
            ? []
            : ([
                [
                  'p',
                  'No refresh token was granted: you will have to sign in again when the access token expires.',
                ],
              ] as const)),
          ...(flow.returnTo === undefined ? [] : ([['link', flow.returnTo]] as const)),
        ]),
      );
  });

  const revoke = wrap(logger, async (req, res) => {
    const userId = authenticatedUser(req);
    if (userId === undefined)
      throw new InvalidInputError('revoke needs a verified bearer token (mount requireBearerAuth first)');
    const named = namedUser(req.body);
    if (named !== undefined && named !== userId) {
      logger.warn({ userId }, 'SECURITY: revoke request named another user; refused');
      res
        .status(403)
        .json({ error: 'access_denied', error_description: 'you can revoke only your own credentials' });
      return;
    }
    const result = await options.manager.revoke(userId);
    setNoStore(res);
    res.status(200).json({
      user_id: userId,
      revoked: true,
      credentials_removed: result.removed,
      provider_revoked: result.providerRevoked,
    });
  });

  const status = wrap(logger, async (req, res) => {
    const userId = authenticatedUser(req);
    if (userId === undefined)
      throw new InvalidInputError('status needs a verified bearer token (mount requireBearerAuth first)');
    const summary = await options.manager.describe(userId);
    const session = await options.sessionStore.getSession(userId);
    setNoStore(res);
    res.status(200).json({
      user_id: userId,
      scopes: summary?.scopes ?? session?.scopes ?? [],
      access_token_expires_at: summary?.expiresAt ?? null,
      has_refresh_token: summary?.hasRefreshToken ?? false,
      credentials_stored: summary !== undefined,
    });
  });

  return { startAuthorization, oauthCallback, revoke, status };
}

function namedUser(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  for (const key of ['user_id', 'userId', 'user', 'user_email', 'email']) {
    const value = (body as Record<string, unknown>)[key];
    if (value === undefined) continue;
    try {
      return normaliseUserId(value);
    } catch {
      return String(value);
    }
  }
  return undefined;
}
