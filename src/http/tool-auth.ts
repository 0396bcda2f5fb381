/**
 * {@link createToolAuth}: gives an MCP tool handler its request's user: checks the access rules and
 * hands out a `fetch` and an `OAuth2Client` carrying that user's fresh Google token. Accepts the MCP
 * SDK v1 handler's `extra` (`authInfo`, `sessionId`) and the v2 handler's `ctx` (`http.authInfo`,
 * `sessionId`).
 *
 * @module
 */
import type { OAuth2Client } from 'google-auth-library';
import type { AuthInfo } from '../auth-info.js';
import { type StoredCredentials, subjectOf } from '../credentials.js';
import { AccessDeniedError, AuthorizationRequiredError, isCredentialError } from '../errors.js';
import { logFailure } from '../internal/failure-log.js';
import { missingScopes } from '../internal/scopes.js';
import { type Logger, silentLogger } from '../logger.js';
import type { CredentialManager } from '../refresh/manager.js';
import type { OAuth21SessionStore } from '../session/session-store.js';
import type { CredentialAccessRequest, ValidatedAccess } from '../session/types.js';
import type { SignInHandlers } from './sign-in-handlers.js';

/**
 * What a tool handler receives from an MCP SDK, the parts used here: v1's `extra`
 * (`{ authInfo, sessionId }`) or v2's `ctx` (`{ http: { authInfo }, sessionId }`).
 */
export interface ToolRequestExtra {
  authInfo?: AuthInfo | undefined;
  http?: { authInfo?: AuthInfo | undefined } | undefined;
  sessionId?: string | undefined;
}

/** A tool handler's view of its user: who, which scopes, and authorised clients. No tokens. */
export interface ToolUserContext {
  userId: string;
  /** The Google scopes the user granted. Frozen (the cached record's own array): read it, do not change it. */
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
  /**
   * Makes incremental-authorization links (the bearer-mode sign-in handlers, with `connectUrl`):
   * with it, a tool that needs scopes the user has not granted, or a user without credentials,
   * gets an {@link AuthorizationRequiredError} carrying a link for exactly the missing scopes,
   * which the SDK adapters turn into MCP URL elicitation. Without it, those are plain errors.
   */
  connect?: Pick<SignInHandlers, 'connectLink'>;
  /**
   * Where failures that leave a tool without credentials are logged (once; the manager and the
   * session store log the ones they decide with their own loggers). Default: silent.
   */
  logger?: Logger;
}

/** What {@link createToolAuth} returns. */
export interface ToolAuth {
  /**
   * The context of the request's user: checks the access rules (the verified token's user, and the
   * MCP session bound to that same user) and hands out clients holding a fresh access token.
   *
   * @throws AccessDeniedError, NotFoundError or ReauthRequiredError (see {@link toolErrorMessage}).
   */
  forRequest(extra: ToolRequestExtra, options?: ToolAuthRequest): Promise<ToolUserContext>;
}

/** What a tool asks of {@link ToolAuth.forRequest}. */
export interface ToolAuthRequest {
  /**
   * Google scopes the tool needs. When the user's grant lacks any (or the user has no credentials),
   * `forRequest` throws {@link AuthorizationRequiredError} with a link for the missing ones (with
   * the `connect` option), else `AccessDeniedError` (`reason: 'missing-scopes'`). When the grant
   * covers them, nothing more happens: no request, no write.
   */
  scopes?: readonly string[];
}

/** The verified token of a v1 `extra` or a v2 `ctx`. */
export function authInfoOf(extra: ToolRequestExtra): AuthInfo | undefined {
  return extra.authInfo ?? extra.http?.authInfo;
}

/** Builds the tool helper. */
export function createToolAuth(options: ToolAuthOptions): ToolAuth {
  const logger = options.logger ?? silentLogger;
  const connect = options.connect;
  const authorizationRequired = async (
    userId: string,
    scopes: readonly string[],
    extra: ToolRequestExtra,
    credentials: StoredCredentials | undefined,
    cause?: unknown,
  ): Promise<never> => {
    const subject = credentials === undefined ? undefined : subjectOf(credentials);
    const link = await connect!.connectLink({
      userId,
      scopes,
      ...(subject === undefined ? {} : { subject }),
      ...(extra.sessionId === undefined ? {} : { mcpSessionId: extra.sessionId }),
    });
    throw new AuthorizationRequiredError(
      credentials === undefined
        ? `connect your Google account (${userId}) to use this tool`
        : `this tool needs more Google access from ${userId}: ${scopes.join(' ')}`,
      {
        userId,
        url: link.url,
        elicitationId: link.elicitationId,
        scopes,
        cause,
      },
    );
  };
  return {
    async forRequest(extra, request = {}) {
      const authInfo = authInfoOf(extra);
      const userId = authInfo?.extra?.userId;
      if (typeof userId !== 'string')
        throw new AccessDeniedError('this request carries no verified user', { reason: 'no-verified-user' });
      // One async frame on the per-request path: validation, the cached credentials, the scope check.
      let access: ValidatedAccess;
      let credentials: StoredCredentials;
      try {
        // A user id was read from this very token, so it is there.
        const accessRequest: CredentialAccessRequest = {
          requestedUser: userId,
          tokenUser: userId,
          authInfo: authInfo as AuthInfo,
        };
        // Stryker disable next-line ConditionalExpression: an mcpSessionId set to undefined is read as absent
        if (extra.sessionId !== undefined) accessRequest.mcpSessionId = extra.sessionId;
        access = await options.sessionStore.getCredentialsWithValidation(accessRequest);
        const required = request.scopes ?? NO_SCOPES;
        try {
          // Fails now (not inside the tool) if the credentials are gone or dead; cached otherwise.
          credentials = await options.manager.getValidCredentials(access.userId);
        } catch (error) {
          const noGrant =
            isCredentialError(error, 'NOT_FOUND') || isCredentialError(error, 'REAUTH_REQUIRED');
          if (!noGrant || connect === undefined) throw error;
          return await authorizationRequired(
            access.userId,
            ['openid', 'email', ...required],
            extra,
            undefined,
            error,
          );
        }
        // Stryker disable next-line ConditionalExpression,EqualityOperator: no scopes asked means none missing; this only skips the check
        if (required.length > 0) {
          const missing = missingScopes(credentials.scopes, required);
          if (missing.length > 0) {
            if (connect === undefined) {
              throw new AccessDeniedError(`this tool needs Google scopes ${access.userId} has not granted`, {
                userId: access.userId,
                reason: 'missing-scopes',
              });
            }
            return await authorizationRequired(access.userId, missing, extra, credentials);
          }
        }
      } catch (error) {
        logFailure(logger, error, { component: 'tool-auth', operation: 'forRequest', userId });
        throw error;
      }
      // The cached record is deep-frozen, so its scopes can be handed out without a copy.
      return new ToolUser(options.manager, access.userId, credentials.scopes);
    },
  };
}

const NO_SCOPES: readonly string[] = Object.freeze([]);

/**
 * The context a tool gets. A class, not an object literal with a getter and closures: one is built
 * per tool call, and the literal cost several times the rest of the tool helper.
 */
export class ToolUser implements ToolUserContext {
  readonly #manager: Pick<CredentialManager, 'getClient' | 'getValidCredentials'>;
  #client: Promise<OAuth2Client> | undefined;

  constructor(
    manager: Pick<CredentialManager, 'getClient' | 'getValidCredentials'>,
    readonly userId: string,
    readonly scopes: string[],
  ) {
    this.#manager = manager;
  }

  // Built on first use: a tool that only fetches never pays for an OAuth2Client.
  get client(): Promise<OAuth2Client> {
    this.#client ??= this.#manager.getClient(this.userId);
    return this.#client;
  }

  async fetch(input: string | URL, init: RequestInit = {}): Promise<Response> {
    const fresh = await this.#manager.getValidCredentials(this.userId);
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${fresh.accessToken}`);
    return fetch(input, { ...init, headers });
  }
}

/**
 * A message for the MCP client when a tool cannot get credentials: what happened and what to do,
 * never a token.
 */
export function toolErrorMessage(error: unknown, signInUrl?: string): string {
  const again = signInUrl === undefined ? 'Sign in again.' : `Sign in again at ${signInUrl}.`;
  if (isCredentialError(error)) {
    switch (error.code) {
      case 'NOT_FOUND':
      case 'REAUTH_REQUIRED':
        return `Google authorization is needed for this account. ${again}`;
      case 'ACCESS_DENIED':
        return 'This request may not use these credentials.';
      case 'INVALID_INPUT':
        // Describes the request itself (an expired or refused sign-in): safe and useful to show.
        return `${error.message.charAt(0).toUpperCase()}${error.message.slice(1)}. Try again.`;
      case 'AUTHORIZATION_REQUIRED':
        return `${error.message}. Open this link in your browser (it works once and expires in a few minutes), then try again: ${(error as AuthorizationRequiredError).url}`;
      case 'STORAGE_UNAVAILABLE':
      case 'STORAGE_FORBIDDEN':
      case 'PROVIDER_ERROR':
        return 'Google credentials are temporarily unavailable; try again shortly.';
      // Stryker disable next-line ConditionalExpression: without this case the same message is returned after the switch
      default:
        return 'The server could not get Google credentials for this request.';
    }
  }
  return 'The server could not get Google credentials for this request.';
}
