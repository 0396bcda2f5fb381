/**
 * {@link OAuth21SessionStore}: answers "which user is this request, and may it touch these
 * credentials?". It binds MCP sessions to users (first binding wins), issues and verifies opaque
 * bearer tokens (only their SHA-256 is stored; `verifyBearerToken`, wrapped for an MCP SDK by
 * `bearerVerifier` from `mcp-oauth-credentials/sdk-v1` or `/sdk-v2`) and keeps single-use OAuth
 * `state`.
 *
 * It never holds Google tokens: those live only in the credential store.
 *
 * @module
 */

import type { AuthInfo, BearerTokenVerifier } from '../auth-info.js';
import { type Clock, systemClock } from '../clock.js';
import {
  AccessDeniedError,
  type AccessDeniedReason,
  InvalidInputError,
  InvalidTokenError,
  NotFoundError,
} from '../errors.js';
import { logFailure } from '../internal/failure-log.js';
import { countOption, durationOption } from '../internal/option-checks.js';
import { compareAndSwap, TRY_AGAIN } from '../internal/retry.js';
import { SharedValues } from '../internal/shared-values.js';
import { type Logger, silentLogger } from '../logger.js';
import { randomToken, sha256 } from '../secrets.js';
import { normaliseUserId } from '../user-id.js';
import type { SessionBackend } from './backend.js';
import { checkId, isId, MAX_ID_LENGTH, positive, sessionFields } from './input.js';
import { MemorySessionBackend } from './memory-backend.js';
import {
  consumeOAuthState as consumeState,
  type OAuthStateContext,
  storeOAuthState as storeState,
} from './oauth-state.js';
import type { BindingRecord, SessionRecord, TokenRecord, VerifiedToken } from './records.js';
import { RequestReads } from './request-reads.js';
import {
  type CredentialAccessRequest,
  DEFAULT_BEARER_TOKEN_CLIENT_ID,
  DEFAULT_BEARER_TOKEN_PREFIX,
  DEFAULT_BEARER_TOKEN_TTL_MS,
  DEFAULT_BINDING_TTL_MS,
  DEFAULT_MAX_BEARER_TOKENS,
  DEFAULT_MAX_BINDINGS,
  DEFAULT_MAX_SESSIONS,
  DEFAULT_MAX_STATES,
  DEFAULT_SESSION_TTL_MS,
  DEFAULT_STATE_TTL_MS,
  type IssueBearerTokenOptions,
  type IssuedBearerToken,
  type OAuth21SessionStoreOptions,
  type OAuthStateData,
  type SessionInfo,
  type SessionStoreStats,
  type StoreOAuthStateInput,
  type StoreSessionInput,
  type ValidatedAccess,
} from './types.js';
import {
  isInProcess,
  isTokenShaped,
  RecentVerifications,
  resolveVerifiedTokenCache,
} from './verified-tokens.js';
import {
  compactBinding,
  compactSession,
  recordOfInfo,
  sharingValues,
  toAuthInfo,
  toSessionInfo,
  toValidatedAccess,
} from './views.js';

// Storage namespaces of the session store (shared by every backend).
const SESSION_NAMESPACES = {
  session: 'session',
  binding: 'binding',
  token: 'token',
  state: 'state',
  userBindings: 'user-bindings',
  userTokens: 'user-tokens',
  once: 'once',
} as const;
const NS = SESSION_NAMESPACES;

/**
 * The security core: session binding, bearer tokens, OAuth state and the access rules.
 *
 * Rules of {@link getCredentialsWithValidation} (after the Python server, made stricter):
 *
 * | request presents | allowed when | otherwise |
 * | --- | --- | --- |
 * | a verified token user | token user = requested user (and a given MCP session is not bound to someone else) | denied |
 * | only an MCP session id | the session is bound to the requested user | denied (unbound sessions too) |
 * | neither | never | denied |
 *
 * In every case the user must have a live session. Nothing falls through to "allow".
 */
export class OAuth21SessionStore implements BearerTokenVerifier {
  readonly #backend: SessionBackend;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #ttl: { session: number; binding: number; token: number; state: number };
  readonly #tokenPrefix: string;
  readonly #stateContext: OAuthStateContext;
  readonly #defaultClientId: string;
  // What sessions and tokens have in common (scope sets, issuers, client ids) is kept once.
  readonly #shared = new SharedValues();
  readonly #verified: RecentVerifications<VerifiedToken> | undefined;
  // The backend's getSync, when it keeps its entries in process: no promise per lookup.
  readonly #getSync: (<T>(namespace: string, key: string, now?: number) => T | undefined) | undefined;
  // Only for backends that answer over the network; in-process reads cost less than carrying them.
  readonly #requestReads: RequestReads<SessionRecord, BindingRecord> | undefined;
  // Shared backends only, under the verified-token cache's lifetime: a binding changes only by
  // being removed, and the session it belongs to is still read on every request.
  readonly #rememberedBindings:
    | RecentVerifications<{ binding: BindingRecord; verifiedAt: number }>
    | undefined;

  constructor(options: OAuth21SessionStoreOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
    this.#backend =
      options.backend ??
      new MemorySessionBackend({
        clock: this.#clock,
        logger: this.#logger,
        maxEntriesByNamespace: {
          [NS.session]: countOption('maxSessions', options.maxSessions, DEFAULT_MAX_SESSIONS),
          [NS.userBindings]: countOption('maxSessions', options.maxSessions, DEFAULT_MAX_SESSIONS),
          [NS.userTokens]: countOption('maxSessions', options.maxSessions, DEFAULT_MAX_SESSIONS),
          [NS.binding]: countOption('maxBindings', options.maxBindings, DEFAULT_MAX_BINDINGS),
          [NS.token]: countOption('maxBearerTokens', options.maxBearerTokens, DEFAULT_MAX_BEARER_TOKENS),
          [NS.state]: countOption('maxStates', options.maxStates, DEFAULT_MAX_STATES),
        },
      });
    const ttl = (name: string, value: number | undefined, fallback: number) =>
      Math.ceil(durationOption(name, value, fallback));
    this.#ttl = {
      session: ttl('sessionTtlMs', options.sessionTtlMs, DEFAULT_SESSION_TTL_MS),
      binding: ttl('bindingTtlMs', options.bindingTtlMs, DEFAULT_BINDING_TTL_MS),
      token: ttl('bearerTokenTtlMs', options.bearerTokenTtlMs, DEFAULT_BEARER_TOKEN_TTL_MS),
      state: ttl('stateTtlMs', options.stateTtlMs, DEFAULT_STATE_TTL_MS),
    };
    this.#stateContext = {
      backend: this.#backend,
      clock: this.#clock,
      logger: this.#logger,
      ttlMs: this.#ttl.state,
    };
    this.#tokenPrefix = options.tokenPrefix ?? DEFAULT_BEARER_TOKEN_PREFIX;
    this.#defaultClientId = options.defaultClientId ?? DEFAULT_BEARER_TOKEN_CLIENT_ID;
    const inProcess = isInProcess(this.#backend);
    this.#getSync = inProcess ? this.#backend.getSync?.bind(this.#backend) : undefined;
    const cache = resolveVerifiedTokenCache(options.verifiedTokenCache, this.#backend);
    this.#verified = cache === false ? undefined : new RecentVerifications(cache);
    this.#requestReads = inProcess ? undefined : new RequestReads();
    this.#rememberedBindings =
      this.#requestReads === undefined || cache === false ? undefined : new RecentVerifications(cache);
  }

  // -------------------------------------------------------------------------------------------
  // Sessions
  // -------------------------------------------------------------------------------------------

  /**
   * Records (or refreshes) a signed-in user. Keeps the session's identity if one exists, so tokens
   * and bindings issued earlier stay valid. With `mcpSessionId`, also binds that MCP session.
   */
  async storeSession(rawUserId: string, input: StoreSessionInput = {}): Promise<SessionInfo> {
    const userId = normaliseUserId(rawUserId);
    const now = this.#clock.now();
    const fields = sessionFields(input);
    const liveUntil = now + this.#ttl.session;
    const fresh: SessionRecord = compactSession(
      {
        ...fields,
        scopes: fields.scopes ?? [],
        userId,
        createdAt: now,
        updatedAt: now,
        liveUntil,
        epoch: randomToken(12),
      },
      this.#shared,
    );
    let record = fresh;
    if (
      !(await this.#backend.set(NS.session, userId, fresh, { ttlMs: this.#ttl.session, onlyIfAbsent: true }))
    ) {
      const existing = await this.#session(userId);
      record = existing
        ? compactSession(
            { ...existing, ...fields, scopes: fields.scopes ?? existing.scopes, updatedAt: now, liveUntil },
            this.#shared,
          )
        : fresh;
      await this.#backend.set(NS.session, userId, record, { ttlMs: this.#ttl.session });
    }
    if (input.mcpSessionId !== undefined) await this.bindMcpSession(input.mcpSessionId, userId);
    return toSessionInfo(record);
  }

  /** The backend this store keeps its state in (other components may share it, in their own namespaces). */
  get backend(): SessionBackend {
    return this.#backend;
  }

  /**
   * Extends a live session by `sessionTtlMs` from now, keeping its generation (so tokens and bindings
   * stay valid). Resolves the session, or `undefined` when the user has none.
   */
  async touchSession(rawUserId: string): Promise<SessionInfo | undefined> {
    const userId = normaliseUserId(rawUserId);
    const existing = await this.#session(userId);
    if (!existing) return undefined;
    const now = this.#clock.now();
    const record = compactSession({ ...existing, liveUntil: now + this.#ttl.session }, this.#shared);
    await this.#backend.set(NS.session, userId, record, { ttlMs: this.#ttl.session });
    return toSessionInfo(record);
  }

  /**
   * Records that a single-use value (a flow nonce, a consent form) was used, for `ttlMs`. Resolves
   * `true` the first time, `false` on every later call for the same value: of concurrent callers,
   * exactly one gets `true`. Only the value's hash is stored.
   */
  async recordSingleUse(value: string, ttlMs: number): Promise<boolean> {
    if (typeof value !== 'string' || value.length < 16 || value.length > MAX_ID_LENGTH) {
      throw new InvalidInputError('a single-use value must be 16 to 256 characters');
    }
    return this.#backend.set(NS.once, sha256(value), 1, {
      ttlMs: positive(ttlMs, 'ttlMs'),
      onlyIfAbsent: true,
    });
  }

  /** The user's session, or `undefined`. */
  async getSession(rawUserId: string): Promise<SessionInfo | undefined> {
    const record = await this.#session(normaliseUserId(rawUserId));
    if (record === undefined) return undefined;
    const info = toSessionInfo(record);
    if (this.#requestReads !== undefined) recordOfInfo.set(info, record);
    return info;
  }

  /**
   * For a verifier other than this store (`McpAuthorizationServer`): lets the MCP session guard and
   * the tool helper of one request reuse the session read while verifying its token, as this store's
   * own {@link verifyBearerToken} does. `auth` must be an object made for this request alone;
   * `session` what {@link getSession} resolved for its user just now (anything else is ignored).
   * Does nothing with an in-process backend.
   */
  rememberVerifiedSession(auth: AuthInfo, session: SessionInfo): void {
    const record = recordOfInfo.get(session);
    if (record === undefined || this.#requestReads === undefined) return;
    this.#requestReads.keep(auth, record.userId, record, this.#clock.now());
  }

  /**
   * Signs a user out of this store: removes the session, every MCP session binding and every bearer
   * token of the user. Tokens and bindings that escaped the indexes (evicted) die too, because they
   * belong to the removed session's identity. Resolves whether a session existed.
   */
  async removeSession(rawUserId: string): Promise<boolean> {
    const userId = normaliseUserId(rawUserId);
    const existed = await this.#backend.delete(NS.session, userId);
    for (const mcpSessionId of await this.#backend.takeMembers(NS.userBindings, userId)) {
      this.#rememberedBindings?.forget(mcpSessionId);
      await this.#backend.delete(NS.binding, mcpSessionId);
    }
    for (const tokenHash of await this.#backend.takeMembers(NS.userTokens, userId)) {
      await this.#backend.delete(NS.token, tokenHash);
    }
    this.#logger.info({ userId, existed }, 'session removed');
    return existed;
  }

  // -------------------------------------------------------------------------------------------
  // MCP session binding
  // -------------------------------------------------------------------------------------------

  /**
   * Binds an MCP session id to a user. The first binding wins: binding it again to the same user is
   * a no-op; binding it to another user throws {@link AccessDeniedError} and changes nothing.
   *
   * @throws NotFoundError when the user has no session.
   */
  async bindMcpSession(mcpSessionId: string, rawUserId: string): Promise<void> {
    checkId(mcpSessionId, 'MCP session id');
    const userId = normaliseUserId(rawUserId);
    const session = await this.#session(userId);
    if (!session) throw new NotFoundError(`no session for ${userId}; store the session first`, { userId });
    const now = this.#clock.now();
    const binding: BindingRecord = Object.freeze({
      userId: session.userId,
      epoch: session.epoch,
      liveUntil: now + this.#ttl.binding,
    });
    const bindingRound = async (): Promise<'bound' | typeof TRY_AGAIN> => {
      if (
        await this.#backend.set(NS.binding, mcpSessionId, binding, {
          ttlMs: this.#ttl.binding,
          onlyIfAbsent: true,
        })
      ) {
        await this.#backend.addMember(NS.userBindings, userId, mcpSessionId, this.#ttl.binding);
        return 'bound';
      }
      const existing = await this.#backend.get<BindingRecord>(NS.binding, mcpSessionId);
      if (existing === undefined) return TRY_AGAIN; // expired in between
      if (existing.liveUntil <= now) {
        await this.#backend.delete(NS.binding, mcpSessionId);
        return TRY_AGAIN;
      }
      if (existing.userId !== userId) {
        this.#logger.warn(
          { userId, boundUserId: existing.userId },
          'SECURITY: refused to rebind an MCP session to another user',
        );
        throw new AccessDeniedError(`MCP session is already bound to another user`, {
          userId,
          reason: 'session-bound-to-other-user',
        });
      }
      if (existing.epoch !== session.epoch) {
        // Same user, signed in again: carry the binding over to the new session.
        await this.#backend.set(NS.binding, mcpSessionId, binding, { ttlMs: this.#ttl.binding });
        await this.#backend.addMember(NS.userBindings, userId, mcpSessionId, this.#ttl.binding);
      }
      return 'bound';
    };
    await compareAndSwap(
      {
        retries: 2,
        // Stryker disable next-line ArrowFunction: undefined is as falsy as false
        isConflict: () => false,
        exhausted: () =>
          new AccessDeniedError('could not bind the MCP session; try again', {
            userId,
            reason: 'bind-contention',
          }),
      },
      bindingRound,
    );
  }

  /**
   * The user an MCP session is bound to, or `undefined` (unbound, expired, or its user signed out).
   * `verified`, the same request's token as {@link verifyBearerToken} returned it, lets a shared
   * backend skip reading the user's session again (and remembers the binding for the tool helper).
   */
  async getUserByMcpSession(mcpSessionId: string, verified?: AuthInfo): Promise<string | undefined> {
    if (!isId(mcpSessionId)) return undefined;
    const now = this.#clock.now();
    const remembered = this.#rememberedBindings?.recall(mcpSessionId, now);
    let binding: BindingRecord | undefined;
    if (remembered !== undefined) {
      binding = remembered.binding;
    } else {
      const pendingBinding = this.#read<BindingRecord>(NS.binding, mcpSessionId, now);
      binding = pendingBinding instanceof Promise ? await pendingBinding : pendingBinding;
    }
    if (!binding || binding.liveUntil <= now) {
      this.#rememberedBindings?.forget(mcpSessionId);
      return undefined;
    }
    let session = this.#requestReads?.session(verified, binding.userId, now);
    if (session === undefined) {
      const pendingSession = this.#read<SessionRecord>(NS.session, binding.userId, now);
      session = pendingSession instanceof Promise ? await pendingSession : pendingSession;
    }
    if (!session || session.liveUntil <= now || session.epoch !== binding.epoch) {
      this.#rememberedBindings?.forget(mcpSessionId);
      return undefined;
    }
    if (remembered?.binding !== binding) {
      this.#rememberedBindings?.remember(mcpSessionId, {
        binding: compactBinding(binding, verified),
        verifiedAt: now,
      });
    }
    // Stryker disable next-line ConditionalExpression: keepBinding finds nothing kept for an undefined request (a WeakMap lookup), so the check only skips a call
    if (verified !== undefined) this.#requestReads?.keepBinding(verified, mcpSessionId, binding);
    return binding.userId;
  }

  /** Forgets a binding (for example when the MCP session closes). Resolves whether one existed. */
  async unbindMcpSession(mcpSessionId: string): Promise<boolean> {
    if (!isId(mcpSessionId)) return false;
    this.#rememberedBindings?.forget(mcpSessionId);
    const binding = await this.#backend.take<BindingRecord>(NS.binding, mcpSessionId);
    if (!binding) return false;
    await this.#backend.removeMember(NS.userBindings, binding.userId, mcpSessionId);
    return true;
  }

  // -------------------------------------------------------------------------------------------
  // Bearer tokens
  // -------------------------------------------------------------------------------------------

  /**
   * Issues a random 256-bit opaque bearer token for a user with a session. Only its SHA-256 is kept.
   *
   * @throws NotFoundError when the user has no session.
   */
  async issueBearerToken(
    rawUserId: string,
    options: IssueBearerTokenOptions = {},
  ): Promise<IssuedBearerToken> {
    const userId = normaliseUserId(rawUserId);
    const session = await this.#session(userId);
    if (!session) throw new NotFoundError(`no session for ${userId}; store the session first`, { userId });
    const ttlMs = positive(options.ttlMs ?? this.#ttl.token, 'ttlMs');
    const now = this.#clock.now();
    const token = `${this.#tokenPrefix}${randomToken(32)}`;
    const tokenHash = sha256(token);
    // Frozen, and sharing the session's strings and scopes: an in-process backend keeps it as is.
    const record: TokenRecord = {
      userId: session.userId,
      epoch: session.epoch,
      scopes: options.scopes === undefined ? session.scopes : this.#shared.scopes([...options.scopes]),
      clientId: options.clientId === undefined ? this.#defaultClientId : this.#shared.text(options.clientId),
      issuedAt: now,
      expiresAt: now + ttlMs,
    };
    // Stryker disable next-line ConditionalExpression: an undefined resource reads as none (toAuthInfo adds it only when set)
    if (options.resource !== undefined) record.resource = options.resource;
    Object.freeze(record);
    await this.#backend.set(NS.token, tokenHash, record, { ttlMs });
    await this.#backend.addMember(NS.userTokens, userId, tokenHash, ttlMs);
    return { token, expiresAt: record.expiresAt };
  }

  /**
   * Verifies a bearer token: resolves `AuthInfo` (`expiresAt` in seconds, the user id in
   * `extra.userId`) or rejects with {@link InvalidTokenError} for an unknown, expired or revoked
   * token, or one whose user signed out. The `AuthInfo` is frozen: read it, do not change it. With
   * an in-process backend, one object serves every request presenting the token while it is
   * remembered; with a shared backend each verification returns its own, which carries what was read
   * to the same request's session guard and tool helper (pass it on as `authInfo`).
   */
  async verifyBearerToken(token: string): Promise<AuthInfo> {
    if (!isTokenShaped(token)) throw new InvalidTokenError('Invalid access token');
    const now = this.#clock.now();
    let verified = this.#verified?.recall(token, now);
    if (verified === undefined) {
      const pendingRecord = this.#read<TokenRecord>(NS.token, sha256(token), now);
      const record = pendingRecord instanceof Promise ? await pendingRecord : pendingRecord;
      if (!record) {
        this.#verified?.forget(token);
        throw new InvalidTokenError('Unknown or revoked access token');
      }
      // Only what a later verification needs: the token record itself is not kept.
      verified = {
        info: toAuthInfo(token, sharingValues(record, this.#shared)),
        epoch: record.epoch,
        expiresAt: record.expiresAt,
        verifiedAt: now,
      };
      this.#verified?.remember(token, verified);
    }
    if (verified.expiresAt <= now) throw new InvalidTokenError('Access token expired');
    const { info } = verified;
    const userId = info.extra!.userId as string;
    const pendingSession = this.#read<SessionRecord>(NS.session, userId, now);
    const session = pendingSession instanceof Promise ? await pendingSession : pendingSession;
    if (!session || session.liveUntil <= now || session.epoch !== verified.epoch) {
      throw new InvalidTokenError('Access token revoked');
    }
    if (this.#requestReads === undefined) return info;
    // Its own object per request, so the session read here can travel with this request only.
    const forThisRequest = Object.freeze({ ...info });
    this.#requestReads.keep(forThisRequest, userId, session, now);
    return forThisRequest;
  }

  /** Revokes one bearer token. Resolves whether it existed. */
  async revokeBearerToken(token: string): Promise<boolean> {
    if (!isTokenShaped(token)) return false;
    this.#verified?.forget(token);
    const tokenHash = sha256(token);
    const record = await this.#backend.take<TokenRecord>(NS.token, tokenHash);
    if (!record) return false;
    await this.#backend.removeMember(NS.userTokens, record.userId, tokenHash);
    return true;
  }

  // -------------------------------------------------------------------------------------------
  // OAuth state
  // -------------------------------------------------------------------------------------------

  /**
   * Stores an OAuth `state` (at least 16 characters; use `randomToken()`) with the flow's PKCE
   * verifier. Only the state's hash is used as a key.
   *
   * @throws InvalidInputError for a short state, a malformed verifier, or a state already pending.
   */
  async storeOAuthState(state: string, input: StoreOAuthStateInput): Promise<void> {
    return storeState(this.#stateContext, state, input);
  }

  /**
   * Consumes an OAuth state exactly once: of several concurrent callers, one gets it. The state is
   * consumed even when it is then rejected (expired, or started by another session), so it can never
   * be replayed.
   *
   * @throws InvalidInputError for an unknown, used, expired or foreign-session state.
   */
  async consumeOAuthState(state: string, sessionId?: string): Promise<OAuthStateData> {
    return consumeState(this.#stateContext, state, sessionId);
  }

  // -------------------------------------------------------------------------------------------
  // The access rule
  // -------------------------------------------------------------------------------------------

  /**
   * Decides whether a request may use `requestedUser`'s credentials; see the table in the class
   * documentation. Resolves the validated access, or throws {@link AccessDeniedError} (with a
   * `reason`). Never falls through to allow.
   */
  async getCredentialsWithValidation(request: CredentialAccessRequest): Promise<ValidatedAccess> {
    const requestedUser = normaliseUserId(request.requestedUser);
    const now = this.#clock.now();
    let via: ValidatedAccess['via'];
    if (request.tokenUser !== undefined && request.tokenUser !== null) {
      let tokenUser: string;
      try {
        tokenUser = normaliseUserId(request.tokenUser);
      } catch {
        return this.#deny(requestedUser, 'invalid-token-user', 'the token user is not a valid user id');
      }
      if (tokenUser !== requestedUser) {
        return this.#deny(
          requestedUser,
          'token-user-mismatch',
          "a token may only use its own user's credentials",
        );
      }
      if (request.mcpSessionId !== undefined) {
        if (!isId(request.mcpSessionId)) {
          return this.#deny(requestedUser, 'invalid-session-id', 'the MCP session id is malformed');
        }
        let bound = this.#requestReads?.binding(request.authInfo, request.mcpSessionId, now);
        if (bound === undefined) {
          const pendingBinding = this.#read<BindingRecord>(NS.binding, request.mcpSessionId, now);
          bound = pendingBinding instanceof Promise ? await pendingBinding : pendingBinding;
        }
        if (bound && bound.liveUntil > now && bound.userId !== requestedUser) {
          return this.#deny(
            requestedUser,
            'session-bound-to-other-user',
            'this MCP session belongs to another user',
          );
        }
      }
      via = 'token';
    } else if (request.mcpSessionId !== undefined) {
      const boundUser = await this.getUserByMcpSession(request.mcpSessionId, request.authInfo);
      if (boundUser === undefined) {
        return this.#deny(requestedUser, 'unbound-session', 'this MCP session is not bound to any user');
      }
      if (boundUser !== requestedUser) {
        return this.#deny(
          requestedUser,
          'session-bound-to-other-user',
          'this MCP session belongs to another user',
        );
      }
      via = 'mcp-session';
    } else {
      return this.#deny(
        requestedUser,
        'no-identity',
        'the request presents neither a verified token nor a bound MCP session',
      );
    }

    let session = this.#requestReads?.session(request.authInfo, requestedUser, now);
    if (session === undefined) {
      const pendingSession = this.#read<SessionRecord>(NS.session, requestedUser, now);
      session = pendingSession instanceof Promise ? await pendingSession : pendingSession;
    }
    if (!session || session.liveUntil <= now) {
      return this.#deny(requestedUser, 'no-session', 'the user has no session; authorize first');
    }
    return toValidatedAccess(session, via);
  }

  #deny(requestedUser: string, reason: AccessDeniedReason, message: string): never {
    this.#logger.warn({ requestedUser, reason }, `SECURITY: credential access denied (${reason})`);
    throw new AccessDeniedError(message, { userId: requestedUser, reason });
  }

  /** Counts of live entries. No ids, no tokens. */
  async stats(): Promise<SessionStoreStats> {
    const [sessions, mcpBindings, bearerTokens, oauthStates] = await Promise.all([
      this.#backend.count(NS.session),
      this.#backend.count(NS.binding),
      this.#backend.count(NS.token),
      this.#backend.count(NS.state),
    ]);
    return { sessions, mcpBindings, bearerTokens, oauthStates };
  }

  async #session(userId: string): Promise<SessionRecord | undefined> {
    const record = await this.#backend.get<SessionRecord>(NS.session, userId);
    return record && record.liveUntil > this.#clock.now() ? record : undefined;
  }

  // The per-request path: synchronous when the backend can answer synchronously (memory), so a
  // lookup costs no promise; a promise otherwise (Redis).
  /**
   * Reads an entry: synchronously from an in-process backend, else through its promise, whose
   * failure (the backend is down) is logged once here, where a request's answer is decided.
   */
  #read<T>(namespace: string, key: string, now: number): T | undefined | Promise<T | undefined> {
    // Stryker disable next-line ConditionalExpression: the promise path answers the same, only slower
    if (this.#getSync) return this.#getSync<T>(namespace, key, now);
    return this.#backend.get<T>(namespace, key).catch((error: unknown) => {
      logFailure(this.#logger, error, { component: 'session-store', operation: `read ${namespace}` });
      throw error;
    });
  }
}
