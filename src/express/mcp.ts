/**
 * Glue between the MCP SDK's Streamable HTTP transport and the session store: an MCP session guard
 * (bind on initialize; refuse a session id bound to someone else) and a helper that gives tool
 * handlers an API client for the request's own user.
 *
 * @module
 */
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { Request, RequestHandler } from 'express';
import type { OAuth2Client } from 'google-auth-library';
import { AccessDeniedError, CredentialError } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import type { CredentialManager } from '../refresh/manager.js';
import type { OAuth21SessionStore } from '../session/session-store.js';
import { authenticatedUser } from './auth-handlers.js';

/** Options of {@link createMcpSessionGuard}. */
export interface McpSessionGuardOptions {
  sessionStore: OAuth21SessionStore;
  /** Refusals are logged at `warn` (user ids only). Default: silent. */
  logger?: Logger;
}

/** What {@link createMcpSessionGuard} returns. */
export interface McpSessionGuard {
  /**
   * Middleware for the MCP endpoint, after `requireBearerAuth`: a request carrying an
   * `Mcp-Session-Id` that is not bound to the authenticated user gets 404 (as the MCP spec asks for
   * unknown sessions), whoever it is bound to.
   */
  middleware: RequestHandler;
  /**
   * The `onsessioninitialized` callback for the transport created for this (initialize) request: binds
   * the new session id to the request's authenticated user.
   */
  bindOnInitialize(req: Request): (sessionId: string) => Promise<void>;
  /** The `onsessionclosed` callback: forgets the binding. */
  unbind(sessionId: string): Promise<void>;
}

const SESSION_NOT_FOUND = { jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null };

/** Builds the MCP session guard. */
export function createMcpSessionGuard(options: McpSessionGuardOptions): McpSessionGuard {
  const logger = options.logger ?? silentLogger;
  const middleware: RequestHandler = (req, res, next) => {
    const header = req.headers['mcp-session-id'];
    if (header === undefined) {
      next();
      return;
    }
    const userId = authenticatedUser(req);
    const clientId = (req as typeof req & { auth?: AuthInfo }).auth?.clientId;
    const refuse = (reason: string) => {
      logger.warn(
        { userId, clientId, reason },
        'SECURITY: refused an MCP request for a session that is not the caller’s',
      );
      res.status(404).json(SESSION_NOT_FOUND);
    };
    if (typeof header !== 'string' || userId === undefined) {
      refuse(userId === undefined ? 'unauthenticated' : 'malformed-session-id');
      return;
    }
    options.sessionStore.getUserByMcpSession(header).then(
      (boundUser) => {
        if (boundUser === userId) next();
        else refuse(boundUser === undefined ? 'unbound-session' : 'session-bound-to-other-user');
      },
      (error: unknown) => next(error),
    );
  };
  return {
    middleware,
    bindOnInitialize(req) {
      const userId = authenticatedUser(req);
      return async (sessionId) => {
        if (userId === undefined)
          throw new AccessDeniedError('cannot bind an MCP session without a verified user');
        await options.sessionStore.bindMcpSession(sessionId, userId);
      };
    },
    async unbind(sessionId) {
      await options.sessionStore.unbindMcpSession(sessionId);
    },
  };
}

/** The `extra` argument MCP SDK tool handlers receive (the parts used here). */
export interface ToolRequestExtra {
  authInfo?: AuthInfo;
  sessionId?: string;
}

/** A tool handler's view of its user: who, which scopes, and authorised clients. No tokens. */
export interface ToolUserContext {
  userId: string;
  scopes: string[];
  /**
   * An `OAuth2Client` for googleapis (`google.drive({ version: 'v3', auth: await user.client })`) or
   * `client.request`; built on first access.
   */
  readonly client: Promise<OAuth2Client>;
  /** `fetch` with the user's fresh access token in the Authorization header. */
  fetch(input: string | URL, init?: RequestInit): Promise<Response>;
}

/** Options of {@link createToolAuth}. */
export interface ToolAuthOptions {
  manager: CredentialManager;
  sessionStore: OAuth21SessionStore;
}

/** What {@link createToolAuth} returns. */
export interface ToolAuth {
  /**
   * The context of the request's user: checks the access rules (the verified token's user, and the
   * MCP session bound to that same user) and hands out clients holding a fresh access token.
   *
   * @throws AccessDeniedError, NotFoundError or ReauthRequiredError (see {@link toolErrorMessage}).
   */
  forRequest(extra: ToolRequestExtra): Promise<ToolUserContext>;
}

/** Builds the tool helper. */
export function createToolAuth(options: ToolAuthOptions): ToolAuth {
  return {
    async forRequest(extra) {
      const userId = extra.authInfo?.extra?.userId;
      if (typeof userId !== 'string') throw new AccessDeniedError('this request carries no verified user');
      const access = await options.sessionStore.getCredentialsWithValidation({
        requestedUser: userId,
        tokenUser: userId,
        ...(extra.sessionId === undefined ? {} : { mcpSessionId: extra.sessionId }),
      });
      // Fails now (not inside the tool) if the user's credentials are gone or dead; cached otherwise.
      const credentials = await options.manager.getValidCredentials(access.userId);
      let client: Promise<OAuth2Client> | undefined;
      return {
        userId: access.userId,
        scopes: [...credentials.scopes],
        // Built on first use: a tool that only fetches never pays for an OAuth2Client.
        get client() {
          client ??= options.manager.getClient(access.userId);
          return client;
        },
        async fetch(input, init = {}) {
          const fresh = await options.manager.getValidCredentials(access.userId);
          const headers = new Headers(init.headers);
          headers.set('authorization', `Bearer ${fresh.accessToken}`);
          return fetch(input, { ...init, headers });
        },
      };
    },
  };
}

/**
 * A message for the MCP client when a tool cannot get credentials: what happened and what to do,
 * never a token.
 */
export function toolErrorMessage(error: unknown, signInUrl?: string): string {
  const again = signInUrl === undefined ? 'Sign in again.' : `Sign in again at ${signInUrl}.`;
  if (error instanceof CredentialError) {
    switch (error.code) {
      case 'NOT_FOUND':
      case 'REAUTH_REQUIRED':
        return `Google authorization is needed for this account. ${again}`;
      case 'ACCESS_DENIED':
        return 'This request may not use these credentials.';
      case 'STORAGE_UNAVAILABLE':
      case 'PROVIDER_ERROR':
        return 'Google credentials are temporarily unavailable; try again shortly.';
      default:
        return 'The server could not get Google credentials for this request.';
    }
  }
  return 'The server could not get Google credentials for this request.';
}
