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
import { compareAndSwap, TRY_AGAIN } from '../internal/retry.js';
import { type Logger, silentLogger } from '../logger.js';
import { isPkceVerifier, randomToken, secretsEqual, sha256 } from '../secrets.js';
import { normaliseUserId } from '../user-id.js';
import type { SessionBackend } from './backend.js';
import { MemorySessionBackend } from './memory-backend.js';
import type { BindingRecord, SessionRecord, StateRecord, TokenRecord, VerifiedToken } from './records.js';
import { RequestReads } from './request-reads.js';
import {
  isInProcess,
  isTokenShaped,
  RecentVerifications,
  resolveVerifiedTokenCache,
} from './verified-tokens.js';
import { compact, recordOfInfo, toAuthInfo, toSessionInfo, toValidatedAccess } from './views.js';

const DAY_MS = 24 * 60 * 60 * 1000;

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

/** What {@link OAuth21SessionStore.storeSession} records about a signed-in user. No tokens. */
export interface StoreSessionInput {
  /** Scopes granted upstream. */
  scopes?: string[];
  /** When the upstream access token expires, epoch ms (informational). */
  expiresAt?: number;
  /** Token issuer, e.g. `https://accounts.google.com`. */
  issuer?: string;
  /** The OAuth client the user signed in through. */
  clientId?: string;
  /** An MCP session to bind to this user at once (see {@link OAuth21SessionStore.bindMcpSession}). */
  mcpSessionId?: string;
}

/** A signed-in user, as the session store knows them. Frozen: read it, do not change it. */
export interface SessionInfo {
  userId: string;
  scopes: string[];
  expiresAt?: number;
  issuer?: string;
  clientId?: string;
  mcpSessionId?: string;
  /** First sign-in of this session, epoch ms. */
  createdAt: number;
  /**
   * The session's identity: changes when the user signs out and in again (never on a refresh), so
   * anything issued for an earlier generation can be told apart. Opaque.
   */
  generation: string;
  /** Last {@link OAuth21SessionStore.storeSession}, epoch ms. */
  updatedAt: number;
}

/** Options of {@link OAuth21SessionStore.issueBearerToken}. */
export interface IssueBearerTokenOptions {
  /** Lifetime, milliseconds. Default: the store's `bearerTokenTtlMs` (30 days). */
  ttlMs?: number;
  /** Scopes carried by the token. Default: the session's scopes. */
  scopes?: string[];
  /** `AuthInfo.clientId`. Default: the store's `defaultClientId`. */
  clientId?: string;
  /** RFC 8707 resource the token is for, reported as `AuthInfo.resource`. */
  resource?: string;
}

/** A freshly issued bearer token. Show it to its user once; it cannot be recovered. */
export interface IssuedBearerToken {
  token: string;
  /** Epoch ms. */
  expiresAt: number;
}

/** Options of {@link OAuth21SessionStore.storeOAuthState}. */
export interface StoreOAuthStateInput {
  /**
   * The browser or MCP session that started the flow. When set, {@link OAuth21SessionStore.consumeOAuthState}
   * must be given the same value. Only its hash is stored.
   */
  sessionId?: string;
  /** The PKCE code verifier of this flow (43 to 128 characters of `[A-Za-z0-9-._~]`). */
  codeVerifier: string;
  /** The redirect URI the authorization request used. */
  redirectUri?: string;
  /** Where to send the user afterwards (already checked against an allow-list by the caller). */
  returnTo?: string;
  /** Scopes requested. */
  scopes?: string[];
  /** The account hint given, if any. */
  loginHint?: string;
  /** Lifetime, milliseconds. Default: the store's `stateTtlMs` (10 minutes). */
  ttlMs?: number;
}

/** What a consumed OAuth state gives back. */
export interface OAuthStateData {
  codeVerifier: string;
  redirectUri?: string;
  returnTo?: string;
  scopes?: string[];
  loginHint?: string;
  createdAt: number;
  expiresAt: number;
}

/** The identities a request presents, for {@link OAuth21SessionStore.getCredentialsWithValidation}. */
export interface CredentialAccessRequest {
  /** Whose credentials the request wants. */
  requestedUser: string;
  /** The MCP session id of the request, if any. */
  mcpSessionId?: string;
  /** The user of a verified token (`authInfo.extra.userId`), if any. Never an unverified claim. */
  tokenUser?: string;
  /**
   * The request's verified token as {@link OAuth21SessionStore.verifyBearerToken} returned it: on a
   * shared backend, what was read to verify it (under a second ago) is reused instead of read again.
   */
  authInfo?: AuthInfo;
}

/**
 * An allowed access: whose credentials, by which rule, and their session. A new object per call
 * (nothing else holds it). `session` is a getter that builds its frozen view on first read, so
 * spreading the object leaves it out; `JSON.stringify` includes it.
 */
export interface ValidatedAccess {
  userId: string;
  /** `token`: the verified token's user matched; `mcp-session`: the MCP session is bound to the user. */
  via: 'token' | 'mcp-session';
  session: SessionInfo;
}

/** Counts only: no ids, no tokens. */
export interface SessionStoreStats {
  sessions: number;
  mcpBindings: number;
  bearerTokens: number;
  oauthStates: number;
}

/** Options of {@link OAuth21SessionStore}. */
export interface OAuth21SessionStoreOptions {
  /**
   * Where state lives. Default: a {@link MemorySessionBackend} bounded by the `max*` options below.
   * Use `RedisSessionBackend` (`mcp-oauth-credentials/redis`) when several replicas serve one audience.
   */
  backend?: SessionBackend;
  /** Time source. Default: the system clock. */
  clock?: Clock;
  /** Default: silent. Denials are logged at `warn` with user ids, never tokens. */
  logger?: Logger;
  /** How long a session lives after its last `storeSession`, ms. Default 30 days. */
  sessionTtlMs?: number;
  /** How long an MCP session binding lives after binding, ms. Default 30 days. */
  bindingTtlMs?: number;
  /** Default bearer token lifetime, ms. Default 30 days. */
  bearerTokenTtlMs?: number;
  /** Default OAuth state lifetime, ms. Default 10 minutes. */
  stateTtlMs?: number;
  /** Memory backend only: most sessions kept (least recently used dropped). Default 100000. */
  maxSessions?: number;
  /** Memory backend only: most MCP session bindings kept. Default 100000. */
  maxBindings?: number;
  /** Memory backend only: most bearer tokens kept. Default 100000. */
  maxBearerTokens?: number;
  /** Memory backend only: most pending OAuth states kept. Default 10000. */
  maxStates?: number;
  /** Prefix of issued bearer tokens (helps secret scanners). Default `mcpoc_`. */
  tokenPrefix?: string;
  /** `AuthInfo.clientId` of tokens issued without one. Default `mcp-oauth-credentials`. */
  defaultClientId?: string;
  /**
   * Remembers recent successful verifications in process, keyed by the presented token, so a request
   * costs no SHA-256 (the backend still holds only hashes). The user's session is still checked on
   * every verification, so signing out takes effect at once everywhere; revoking a single token
   * takes effect at once in this process and within `ttlMs` in other replicas. With a shared backend
   * (Redis, PostgreSQL), MCP session bindings found valid are remembered the same way, so a request
   * costs one read (its user's session); a binding removed on another replica (its MCP session
   * closed there) may still pass this replica's guard within `ttlMs`, a sign-out never does.
   * `false` turns both off.
   * Default: `{ max: 100000, ttlMs: 60000 }` with the memory backend, `{ max: 100000, ttlMs: 5000 }` otherwise.
   */
  verifiedTokenCache?: { max?: number; ttlMs?: number } | false;
}

const MAX_ID_LENGTH = 256;
const PRINTABLE_ID = /^[\x21-\x7e]+$/;

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
  readonly #defaultClientId: string;
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
          [NS.session]: options.maxSessions ?? 100_000,
          [NS.userBindings]: options.maxSessions ?? 100_000,
          [NS.userTokens]: options.maxSessions ?? 100_000,
          [NS.binding]: options.maxBindings ?? 100_000,
          [NS.token]: options.maxBearerTokens ?? 100_000,
          [NS.state]: options.maxStates ?? 10_000,
        },
      });
    this.#ttl = {
      session: positive(options.sessionTtlMs ?? 30 * DAY_MS, 'sessionTtlMs'),
      binding: positive(options.bindingTtlMs ?? 30 * DAY_MS, 'bindingTtlMs'),
      token: positive(options.bearerTokenTtlMs ?? 30 * DAY_MS, 'bearerTokenTtlMs'),
      state: positive(options.stateTtlMs ?? 10 * 60 * 1000, 'stateTtlMs'),
    };
    this.#tokenPrefix = options.tokenPrefix ?? 'mcpoc_';
    this.#defaultClientId = options.defaultClientId ?? 'mcp-oauth-credentials';
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
    // Cloned into a compact object of exactly its fields (the spread leaves slack), then frozen so an
    // in-process backend keeps it as is.
    const fresh: SessionRecord = compact({
      ...fields,
      scopes: fields.scopes ?? [],
      userId,
      createdAt: now,
      updatedAt: now,
      liveUntil,
      epoch: randomToken(12),
    });
    let record = fresh;
    if (
      !(await this.#backend.set(NS.session, userId, fresh, { ttlMs: this.#ttl.session, onlyIfAbsent: true }))
    ) {
      const existing = await this.#session(userId);
      record = existing
        ? compact({
            ...existing,
            ...fields,
            scopes: fields.scopes ?? existing.scopes,
            updatedAt: now,
            liveUntil,
          })
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
    const record: SessionRecord = compact({ ...existing, liveUntil: now + this.#ttl.session });
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
      boundAt: now,
      liveUntil: now + this.#ttl.binding,
    });
    const bindingRound = async (): Promise<void | typeof TRY_AGAIN> => {
      if (
        await this.#backend.set(NS.binding, mcpSessionId, binding, {
          ttlMs: this.#ttl.binding,
          onlyIfAbsent: true,
        })
      ) {
        await this.#backend.addMember(NS.userBindings, userId, mcpSessionId, this.#ttl.binding);
        return;
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
    };
    await compareAndSwap(
      {
        retries: 2,
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
    if (remembered?.binding !== binding)
      this.#rememberedBindings?.remember(mcpSessionId, { binding, verifiedAt: now }, now);
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
      scopes:
        options.scopes === undefined ? session.scopes : (Object.freeze([...options.scopes]) as string[]),
      clientId: options.clientId ?? this.#defaultClientId,
      issuedAt: now,
      expiresAt: now + ttlMs,
    };
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
        info: toAuthInfo(token, record),
        epoch: record.epoch,
        expiresAt: record.expiresAt,
        verifiedAt: now,
      };
      this.#verified?.remember(token, verified, now);
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
    checkState(state);
    if (!isPkceVerifier(input.codeVerifier)) {
      throw new InvalidInputError('codeVerifier must be 43 to 128 characters of [A-Za-z0-9-._~]');
    }
    if (input.sessionId !== undefined) checkId(input.sessionId, 'session id');
    const ttlMs = positive(input.ttlMs ?? this.#ttl.state, 'ttlMs');
    const now = this.#clock.now();
    const record: StateRecord = {
      codeVerifier: input.codeVerifier,
      createdAt: now,
      expiresAt: now + ttlMs,
      ...(input.sessionId === undefined ? {} : { sessionIdHash: sha256(input.sessionId) }),
      ...(input.redirectUri === undefined ? {} : { redirectUri: input.redirectUri }),
      ...(input.returnTo === undefined ? {} : { returnTo: input.returnTo }),
      ...(input.scopes === undefined ? {} : { scopes: [...input.scopes] }),
      ...(input.loginHint === undefined ? {} : { loginHint: input.loginHint }),
    };
    if (!(await this.#backend.set(NS.state, sha256(state), record, { ttlMs, onlyIfAbsent: true }))) {
      throw new InvalidInputError('this OAuth state is already pending; generate a new one');
    }
  }

  /**
   * Consumes an OAuth state exactly once: of several concurrent callers, one gets it. The state is
   * consumed even when it is then rejected (expired, or started by another session), so it can never
   * be replayed.
   *
   * @throws InvalidInputError for an unknown, used, expired or foreign-session state.
   */
  async consumeOAuthState(state: string, sessionId?: string): Promise<OAuthStateData> {
    if (typeof state !== 'string' || state.length < 16 || state.length > MAX_ID_LENGTH) {
      throw new InvalidInputError('unknown, expired or already used OAuth state');
    }
    const record = await this.#backend.take<StateRecord>(NS.state, sha256(state));
    if (!record) {
      this.#logger.warn({}, 'SECURITY: OAuth callback with an unknown, expired or already used state');
      throw new InvalidInputError('unknown, expired or already used OAuth state');
    }
    if (record.expiresAt <= this.#clock.now()) {
      throw new InvalidInputError('OAuth state expired; start the authorization again');
    }
    if (
      record.sessionIdHash !== undefined &&
      (sessionId === undefined || !secretsEqual(record.sessionIdHash, sha256(sessionId)))
    ) {
      this.#logger.warn(
        {},
        'SECURITY: OAuth state presented by a different session than the one that started it',
      );
      throw new InvalidInputError('OAuth state does not belong to this session');
    }
    const { sessionIdHash: _hidden, ...data } = record;
    return structuredClone(data) as OAuthStateData;
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
    if (this.#getSync) return this.#getSync<T>(namespace, key, now);
    return this.#backend.get<T>(namespace, key).catch((error: unknown) => {
      logFailure(this.#logger, error, { component: 'session-store', operation: `read ${namespace}` });
      throw error;
    });
  }
}

function sessionFields(input: StoreSessionInput): StoreSessionInput {
  const fields: StoreSessionInput = {};
  if (input.scopes !== undefined) {
    if (!Array.isArray(input.scopes) || input.scopes.some((scope) => typeof scope !== 'string')) {
      throw new InvalidInputError('scopes must be an array of strings');
    }
    fields.scopes = [...input.scopes];
  }
  if (input.expiresAt !== undefined) fields.expiresAt = input.expiresAt;
  if (input.issuer !== undefined) fields.issuer = input.issuer;
  if (input.clientId !== undefined) fields.clientId = input.clientId;
  if (input.mcpSessionId !== undefined) {
    checkId(input.mcpSessionId, 'MCP session id');
    fields.mcpSessionId = input.mcpSessionId;
  }
  return fields;
}

function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0)
    throw new InvalidInputError(`${name} must be a positive number of milliseconds`);
  return Math.ceil(value);
}

function isId(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_ID_LENGTH && PRINTABLE_ID.test(value);
}

function checkId(value: unknown, what: string): asserts value is string {
  if (!isId(value))
    throw new InvalidInputError(`${what} must be 1 to ${MAX_ID_LENGTH} printable ASCII characters`);
}

function checkState(state: unknown): asserts state is string {
  if (
    typeof state !== 'string' ||
    state.length < 16 ||
    state.length > MAX_ID_LENGTH ||
    !PRINTABLE_ID.test(state)
  ) {
    throw new InvalidInputError(
      'OAuth state must be 16 to 256 printable ASCII characters (use randomToken())',
    );
  }
}
