/**
 * The public types of {@link OAuth21SessionStore}: what it takes, what it hands out, its options and
 * their defaults.
 *
 * @module
 */
import type { AuthInfo } from '../auth-info.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { SessionBackend } from './backend.js';
import type {
  DEFAULT_VERIFIED_TOKEN_CACHE_MAX,
  DEFAULT_VERIFIED_TOKEN_CACHE_TTL_MS,
} from './verified-tokens.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Default {@link OAuth21SessionStoreOptions.sessionTtlMs}: 30 days. */
export const DEFAULT_SESSION_TTL_MS = 30 * DAY_MS;
/** Default {@link OAuth21SessionStoreOptions.bindingTtlMs}: 30 days. */
export const DEFAULT_BINDING_TTL_MS = 30 * DAY_MS;
/** Default {@link OAuth21SessionStoreOptions.bearerTokenTtlMs}: 30 days. */
export const DEFAULT_BEARER_TOKEN_TTL_MS = 30 * DAY_MS;
/** Default {@link OAuth21SessionStoreOptions.stateTtlMs}: 10 minutes. */
export const DEFAULT_STATE_TTL_MS = 10 * 60 * 1000;
/** Default {@link OAuth21SessionStoreOptions.maxSessions}. */
export const DEFAULT_MAX_SESSIONS = 100_000;
/** Default {@link OAuth21SessionStoreOptions.maxBindings}. */
export const DEFAULT_MAX_BINDINGS = 100_000;
/** Default {@link OAuth21SessionStoreOptions.maxBearerTokens}. */
export const DEFAULT_MAX_BEARER_TOKENS = 100_000;
/** Default {@link OAuth21SessionStoreOptions.maxStates}. */
export const DEFAULT_MAX_STATES = 10_000;
/** Default {@link OAuth21SessionStoreOptions.tokenPrefix}. */
export const DEFAULT_BEARER_TOKEN_PREFIX = 'mcpoc_';
/** Default {@link OAuth21SessionStoreOptions.defaultClientId}. */
export const DEFAULT_BEARER_TOKEN_CLIENT_ID = 'mcp-oauth-credentials';

/** What {@link OAuth21SessionStore.storeSession} records about a signed-in user. No tokens. */
export interface StoreSessionInput {
  /** Scopes granted upstream. */
  scopes?: string[];
  /** When the upstream access token expires, epoch ms (informational). Undefined: not known. */
  expiresAt?: number | undefined;
  /** Token issuer, e.g. `https://accounts.google.com`. Undefined: not known. */
  issuer?: string | undefined;
  /** The OAuth client the user signed in through. */
  clientId?: string;
  /** An MCP session to bind to this user at once (see {@link OAuth21SessionStore.bindMcpSession}). */
  mcpSessionId?: string;
}

/** A signed-in user, as the session store knows them. Frozen: read it, do not change it. */
export interface SessionInfo {
  userId: string;
  scopes: string[];
  /** When the upstream access token expires, epoch milliseconds (informational). */
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
  /** When it expires, epoch milliseconds. */
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
  /** When the state was stored, epoch milliseconds. */
  createdAt: number;
  /** When it stops being accepted, epoch milliseconds. */
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
  /**
   * How long a session lives after its last `storeSession`, ms.
   *
   * @defaultValue {@link DEFAULT_SESSION_TTL_MS} (30 days)
   */
  sessionTtlMs?: number;
  /**
   * How long an MCP session binding lives after binding, ms.
   *
   * @defaultValue {@link DEFAULT_BINDING_TTL_MS} (30 days)
   */
  bindingTtlMs?: number;
  /**
   * Default bearer token lifetime, ms (`issueBearerToken` may set its own).
   *
   * @defaultValue {@link DEFAULT_BEARER_TOKEN_TTL_MS} (30 days)
   */
  bearerTokenTtlMs?: number;
  /**
   * Default OAuth state lifetime, ms.
   *
   * @defaultValue {@link DEFAULT_STATE_TTL_MS} (10 minutes)
   */
  stateTtlMs?: number;
  /**
   * Memory backend only: most sessions kept (least recently used dropped), entries.
   *
   * @defaultValue {@link DEFAULT_MAX_SESSIONS} (100000)
   */
  maxSessions?: number;
  /**
   * Memory backend only: most MCP session bindings kept, entries.
   *
   * @defaultValue {@link DEFAULT_MAX_BINDINGS} (100000)
   */
  maxBindings?: number;
  /**
   * Memory backend only: most bearer tokens kept, entries.
   *
   * @defaultValue {@link DEFAULT_MAX_BEARER_TOKENS} (100000)
   */
  maxBearerTokens?: number;
  /**
   * Memory backend only: most pending OAuth states kept, entries.
   *
   * @defaultValue {@link DEFAULT_MAX_STATES} (10000)
   */
  maxStates?: number;
  /**
   * Prefix of issued bearer tokens (helps secret scanners).
   *
   * @defaultValue {@link DEFAULT_BEARER_TOKEN_PREFIX} (`mcpoc_`)
   */
  tokenPrefix?: string;
  /**
   * `AuthInfo.clientId` of tokens issued without one.
   *
   * @defaultValue {@link DEFAULT_BEARER_TOKEN_CLIENT_ID} (`mcp-oauth-credentials`)
   */
  defaultClientId?: string;
  /**
   * Remembers recent successful verifications in process, keyed by the presented token, so a request
   * costs no SHA-256 (the backend still holds only hashes). The user's session is still checked on
   * every verification, so signing out takes effect at once everywhere; revoking a single token
   * takes effect at once in this process and within `ttlMs` in other replicas. With a shared backend
   * (Redis, PostgreSQL), MCP session bindings found valid are remembered the same way, so a request
   * costs one read (its user's session); a binding removed on another replica (its MCP session
   * closed there) may still pass this replica's guard within `ttlMs`, a sign-out never does.
   * Entries older than `ttlMs` are dropped at the first verification `ttlMs` after the last sweep
   * (one pass, at most once per `ttlMs`), so idle users hold no memory here for long; `max` bounds
   * the rest (a few hundred bytes per entry). `false` turns both off.
   *
   * @defaultValue `max` {@link DEFAULT_VERIFIED_TOKEN_CACHE_MAX} (100000), `ttlMs`
   * {@link DEFAULT_VERIFIED_TOKEN_CACHE_TTL_MS}: 60000 when the backend is in process (memory), 5000
   * when it is shared (see `SessionBackend.locality`).
   */
  verifiedTokenCache?: { max?: number; ttlMs?: number } | false;
}
