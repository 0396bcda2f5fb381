/**
 * {@link CredentialManager}: hands out access tokens that are valid, refreshing them through
 * google-auth-library's `OAuth2Client` when needed: once per user at a time in a process, once per
 * race across replicas (compare-and-swap on the store), saved before the caller gets the token, and
 * never at the cost of a refresh token.
 *
 * @module
 */
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Credentials, OAuth2Client, type OAuth2ClientOptions } from 'google-auth-library';
import { LRUCache } from 'lru-cache';
import { type Clock, systemClock } from '../clock.js';
import {
  type CredentialsSummary,
  describeCredentials,
  mergeRefreshedTokens,
  type StoredCredentials,
  splitScopes,
  subjectOf,
  type VersionedCredentials,
} from '../credentials.js';
import {
  AccessDeniedError,
  ConfigurationError,
  ConflictError,
  CorruptCredentialsError,
  CredentialError,
  InvalidInputError,
  NotFoundError,
  ProviderError,
  ReauthRequiredError,
  StorageUnavailableError,
} from '../errors.js';
import { logFailure } from '../internal/failure-log.js';
import { deepFreeze } from '../internal/freeze.js';
import { TouchLru } from '../internal/touch-lru.js';
import { type Logger, silentLogger } from '../logger.js';
import type { OAuth21SessionStore } from '../session/session-store.js';
import type { CredentialStore } from '../stores/types.js';
import { normaliseUserId } from '../user-id.js';
import { GOOGLE_JWKS_URL, type OAuthEndpoints } from './discovery.js';
import { IdTokenVerifier } from './id-token.js';
import { Semaphore } from './semaphore.js';
import { SharedValues } from './shared-values.js';

export type { OAuthEndpoints } from './discovery.js';

/** The OAuth client the manager acts as. */
export interface CredentialManagerOAuthOptions {
  clientId: string;
  clientSecret: string;
  /** The redirect URI registered for the authorization code flow. */
  redirectUri?: string;
  /**
   * Where the provider lives. Default: Google's endpoints. For any OpenID Connect provider, spread
   * `await discoverOidcProvider(issuer)` into these options instead of listing endpoints.
   */
  endpoints?: OAuthEndpoints;
  /** Accepted id_token issuers. Default: `accounts.google.com` and `https://accounts.google.com`. */
  issuers?: string[];
  /** Per-request timeout for token, revoke and signing-key requests, ms. Default 10000. */
  requestTimeoutMs?: number;
}

/** Retries of transient provider failures (network errors, timeouts, 408, 429, 5xx, `temporarily_unavailable`). */
export interface RetryOptions {
  /** Attempts including the first. Default 3. */
  attempts?: number;
  /** Delay before the first retry, ms; doubles each retry, with jitter. Default 250. */
  baseDelayMs?: number;
  /** Longest delay between attempts, ms. Default 5000. */
  maxDelayMs?: number;
}

/**
 * How many background store reads (stale-while-revalidate, see
 * {@link CredentialManagerOptions.credentialsCacheTtlMs}) may run at once; further calls read the
 * store before answering, as without a cache.
 */
export const DEFAULT_MAX_BACKGROUND_REVALIDATIONS = 64;

/** The default {@link CredentialManagerOptions.credentialsCacheSize}: as many users as the session store keeps by default. */
export const DEFAULT_CREDENTIALS_CACHE_SIZE = 100_000;

/** Options of {@link CredentialManager}. */
export interface CredentialManagerOptions {
  /** Where credentials live. */
  store: CredentialStore;
  /**
   * Cleared on revoke, on `invalid_grant` and when an address signs in as another Google account.
   * (Sessions are created by the sign-in handlers, not by the manager.)
   */
  sessionStore?: OAuth21SessionStore;
  oauth: CredentialManagerOAuthOptions;
  /**
   * A token is handed out only if it stays valid at least this long, ms; otherwise it is refreshed
   * first. Default 300000 (5 minutes).
   */
  refreshSkewMs?: number;
  /** Time source. Default: the system clock. */
  clock?: Clock;
  /** Default: silent. Logs carry user ids and error codes, never tokens. */
  logger?: Logger;
  /** Most token requests in flight at once, across users. Default 10. */
  maxConcurrentRefreshes?: number;
  retry?: RetryOptions;
  /** How often a refresh that lost a compare-and-swap race tries again before giving up. Default 3. */
  maxConflictRetries?: number;
  /**
   * After `invalid_grant`, how long to wait for another replica's concurrent refresh to be saved before
   * treating the credentials as dead, ms. A provider that rotates refresh tokens refuses the old one as
   * soon as another replica used it; this keeps that race from logging the user out. Default 2000.
   */
  invalidGrantGraceMs?: number;
  /**
   * Most users whose fresh credentials are kept in memory (the hot path), entries. The default
   * matches the session store's default `maxSessions`, so every signed-in user can be served from
   * memory; each entry costs about a kilobyte (the frozen record and its cache node). A user pushed
   * out costs a store read on their next call, nothing more.
   *
   * @defaultValue {@link DEFAULT_CREDENTIALS_CACHE_SIZE} (100000)
   */
  credentialsCacheSize?: number;
  /**
   * How long credentials served from memory may go without a look at the store, ms. After it, a call
   * whose cached access token is still fresh is answered from memory at once while the store is read
   * in the background (one read per user at a time, at most
   * {@link DEFAULT_MAX_BACKGROUND_REVALIDATIONS} at once; beyond that the call waits for its read).
   * So a change made elsewhere (an operator's `delete`, a replica's refresh) is seen by the first
   * call after that read, within `credentialsCacheTtlMs` plus one call. Signing out is not delayed:
   * the session store is checked on every request. Default 60000.
   */
  credentialsCacheTtlMs?: number;
  /** The per-user API client cache of {@link CredentialManager.getService}. */
  serviceCache?: { max?: number; ttlMs?: number };
  /**
   * Write the OAuth client secret into each new record (`client_secret`), as google_workspace_mcp does,
   * so the Python server sharing the store can refresh. Default `false`.
   */
  persistClientSecret?: boolean;
  /** How to wait between retries. Default: a real timer. */
  sleep?: (ms: number) => Promise<void>;
}

/** What {@link CredentialManager.completeAuthorization} takes. */
export interface CompleteAuthorizationInput {
  /** The authorization code from the callback. */
  code: string;
  /** The PKCE verifier of this flow. */
  codeVerifier: string;
  /** The redirect URI the authorization request used. Default: `oauth.redirectUri`. */
  redirectUri?: string;
  /** Refuse (and store nothing) unless the signed-in account is this user. */
  expectedUser?: string;
  /**
   * Refuse (and store nothing) unless the signed-in Google account has this `sub`: an incremental
   * authorization for a known user must not come back as another account with the same address.
   */
  expectedSubject?: string;
  /** Scopes requested; used only if the provider's response omits `scope` (RFC 6749 §5.1). */
  requestedScopes?: string[];
  /** Who may sign in; refused accounts get {@link AccessDeniedError} and nothing is stored. */
  policy?: SignInPolicy;
}

/**
 * Who may sign in. With neither list set, any Google account with a verified email may. With either,
 * an account is admitted when its id_token's hosted domain (`hd`) is in `allowedDomains` or its email
 * is in `allowedUsers`. The email's domain alone never admits anyone (a consumer account can carry
 * any address); Google Workspace accounts carry `hd`.
 */
export interface SignInPolicy {
  /** Google Workspace domains (the id_token's `hd`), lower case. Default: no restriction. */
  allowedDomains?: readonly string[];
  /** Emails admitted whatever their domain. Default: no restriction. */
  allowedUsers?: readonly string[];
}

interface IdTokenClaims {
  sub?: unknown;
  email?: unknown;
  email_verified?: unknown;
  hd?: unknown;
  name?: unknown;
  picture?: unknown;
  iss?: unknown;
}

/** Whether `policy` admits the account (see {@link SignInPolicy}). */
export function admittedBy(policy: SignInPolicy, userId: string, hostedDomain: unknown): boolean {
  const domains = policy.allowedDomains ?? [];
  const users = policy.allowedUsers ?? [];
  if (domains.length === 0 && users.length === 0) return true;
  if (
    typeof hostedDomain === 'string' &&
    domains.some((domain) => domain.toLowerCase() === hostedDomain.toLowerCase())
  ) {
    return true;
  }
  return users.some((user) => user.toLowerCase() === userId);
}

/** What {@link CredentialManager.createAuthorizationUrl} takes. */
export interface AuthorizationUrlInput {
  /** The single-use `state` (see `OAuth21SessionStore.storeOAuthState`). */
  state: string;
  /** The S256 PKCE challenge. */
  codeChallenge: string;
  scopes: string[];
  /** Default: `oauth.redirectUri`. */
  redirectUri?: string;
  /** Suggests the account to sign in with. */
  loginHint?: string;
  /** For example `consent`, to make Google issue a refresh token again. */
  prompt?: string;
}

/** The outcome of an authorization. No tokens. */
export interface AuthorizationResult {
  userId: string;
  /** Scopes actually granted. */
  scopes: string[];
  expiresAt: number | undefined;
  /** Whether a refresh token is on file after this authorization (new, or kept from the same account). */
  hasRefreshToken: boolean;
  /**
   * Whether a record of another Google account (another `sub`) was on file for this address and was
   * replaced: its grant was revoked and its sessions ended.
   */
  replacedAccount: boolean;
  /** Claims of the verified id_token. */
  profile: { sub: string; email: string; name?: string; picture?: string; hd?: string; iss?: string };
}

/** The outcome of {@link CredentialManager.revoke}. */
export interface RevokeResult {
  userId: string;
  /** Whether credentials were in the store and are now removed. */
  removed: boolean;
  /** Whether the provider confirmed the revocation. */
  providerRevoked: boolean;
  /** Why the provider revocation failed (`HTTP 503`, `network error`...), when it did. */
  providerError?: string;
}

/** Events of {@link CredentialManager}, for monitoring. None carries a token. */
export interface CredentialManagerEvents {
  /** A refresh succeeded and was saved. */
  refreshed: { userId: string; durationMs: number; rotated: boolean; attempts: number };
  /** A refresh attempt failed (`willRetry` tells whether another attempt follows). */
  'refresh-failed': {
    userId: string;
    durationMs: number;
    errorCode: string;
    providerCode?: string;
    attempt: number;
    willRetry: boolean;
  };
  /** Another process saved a refresh first; this one used the winner's token. */
  'refresh-conflict': { userId: string };
  /** The user must authorize again; their dead credentials were removed (for `invalid_grant`). */
  'reauth-required': { userId: string; reason: 'invalid_grant' | 'no-refresh-token' };
  /** A user was authorized and their credentials saved. */
  authorized: { userId: string; durationMs: number; scopes: string[]; hasRefreshToken: boolean };
  /** A user's credentials were revoked. */
  revoked: { userId: string; durationMs: number; removed: boolean; providerRevoked: boolean };
}

type ProviderFailure = { kind: 'invalid_grant' | 'invalid_client' | 'transient' | 'rejected' };

const GOOGLE_ISSUERS = ['accounts.google.com', 'https://accounts.google.com'];

/**
 * The refresh-on-expiry wrapper around a {@link CredentialStore}.
 *
 * Guarantees:
 * - `getValidCredentials` returns an access token valid for at least `refreshSkewMs`, or throws.
 * - Concurrent callers for one user in one process share one refresh; at most
 *   `maxConcurrentRefreshes` token requests run at once across users.
 * - The refreshed record is saved with `put(..., { ifVersion })` before any caller sees it; a
 *   replica that loses the race re-reads and returns the winner's token, never overwriting it.
 * - The stored refresh token is kept when the provider does not resend one and replaced when it
 *   rotates one (copied from google-auth-library's `tokens` event, before the library overwrites it).
 * - A save failure reaches the caller. A transient provider failure is retried and deletes nothing.
 * - `invalid_grant` deletes only the version that failed (a login saved meanwhile survives), removes
 *   the session and throws {@link ReauthRequiredError}.
 */
export class CredentialManager {
  readonly #store: CredentialStore;
  readonly #sessionStore: OAuth21SessionStore | undefined;
  readonly #oauth: CredentialManagerOAuthOptions;
  readonly #clientOptions: OAuth2ClientOptions;
  readonly #idTokens: IdTokenVerifier;
  readonly #keysUrl: string;
  readonly #skewMs: number;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #retry: Required<RetryOptions>;
  readonly #maxConflictRetries: number;
  readonly #invalidGrantGraceMs: number;
  readonly #persistClientSecret: boolean;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #limiter: Semaphore;
  readonly #inFlight = new Map<string, Promise<StoredCredentials>>();
  #revalidations = 0;
  readonly #shared = new SharedValues();
  // Entries carry the time they were cached: one clock read per hit covers both the cache lifetime and
  // the token's freshness (an lru-cache TTL would read the clock again).
  readonly #fresh: TouchLru<{ credentials: StoredCredentials; cachedAt: number }>;
  readonly #cacheTtlMs: number;
  readonly #services: LRUCache<string, { value: unknown }>;
  readonly #events = new EventEmitter();

  constructor(options: CredentialManagerOptions) {
    if (!options?.store) throw new ConfigurationError('CredentialManager needs a store');
    if (!options.oauth?.clientId || !options.oauth.clientSecret) {
      throw new ConfigurationError('CredentialManager needs oauth.clientId and oauth.clientSecret');
    }
    this.#store = options.store;
    this.#sessionStore = options.sessionStore;
    this.#oauth = options.oauth;
    this.#skewMs = options.refreshSkewMs ?? 5 * 60 * 1000;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
    this.#retry = {
      attempts: Math.max(1, options.retry?.attempts ?? 3),
      baseDelayMs: options.retry?.baseDelayMs ?? 250,
      maxDelayMs: options.retry?.maxDelayMs ?? 5_000,
    };
    this.#maxConflictRetries = options.maxConflictRetries ?? 3;
    this.#invalidGrantGraceMs = options.invalidGrantGraceMs ?? 2_000;
    this.#persistClientSecret = options.persistClientSecret ?? false;
    this.#sleep = options.sleep ?? ((ms) => sleep(ms));
    this.#limiter = new Semaphore(options.maxConcurrentRefreshes ?? 10);
    this.#fresh = new TouchLru(options.credentialsCacheSize ?? DEFAULT_CREDENTIALS_CACHE_SIZE);
    this.#cacheTtlMs = options.credentialsCacheTtlMs ?? 60_000;
    this.#services = new LRUCache({
      max: options.serviceCache?.max ?? 1_000,
      ttl: options.serviceCache?.ttlMs ?? 30 * 60 * 1000,
      ttlResolution: 0,
      perf: { now: () => this.#clock.now() },
    });
    this.#events.setMaxListeners(100);
    const { jwksUri, ...libraryEndpoints } = options.oauth.endpoints ?? {};
    this.#clientOptions = {
      clientId: options.oauth.clientId,
      clientSecret: options.oauth.clientSecret,
      ...(options.oauth.redirectUri === undefined ? {} : { redirectUri: options.oauth.redirectUri }),
      ...(options.oauth.endpoints === undefined ? {} : { endpoints: libraryEndpoints }),
      issuers: options.oauth.issuers ?? GOOGLE_ISSUERS,
      // Retries are ours (with typed errors and events); the library's own would multiply them.
      transporterOptions: {
        timeout: options.oauth.requestTimeoutMs ?? 10_000,
        retryConfig: { retry: 0, noResponseRetries: 0 },
      },
    };
    this.#keysUrl = String(
      jwksUri ??
        libraryEndpoints.oauth2FederatedSignonJwkCertsUrl ??
        libraryEndpoints.oauth2FederatedSignonPemCertsUrl ??
        GOOGLE_JWKS_URL,
    );
    this.#idTokens = new IdTokenVerifier({
      keysUrl: this.#keysUrl,
      issuers: options.oauth.issuers ?? GOOGLE_ISSUERS,
      audience: options.oauth.clientId,
      requestTimeoutMs: options.oauth.requestTimeoutMs ?? 10_000,
      clock: this.#clock,
      logger: this.#logger,
    });
  }

  /** The URL of the provider's signing keys (JWKS or PEM certificates): what a health check fetches. */
  get keysUrl(): string {
    return this.#keysUrl;
  }

  /** Subscribes to an event; resolves a function that unsubscribes. Listener errors are logged and ignored. */
  on<K extends keyof CredentialManagerEvents>(
    event: K,
    listener: (payload: CredentialManagerEvents[K]) => void,
  ): () => void {
    this.#events.on(event, listener);
    return () => this.#events.off(event, listener);
  }

  #emit<K extends keyof CredentialManagerEvents>(event: K, payload: CredentialManagerEvents[K]): void {
    for (const listener of this.#events.listeners(event)) {
      try {
        (listener as (value: CredentialManagerEvents[K]) => void)(payload);
      } catch (error) {
        this.#logger.warn({ event, error: String(error) }, 'CredentialManager event listener threw; ignored');
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Access tokens
  // -------------------------------------------------------------------------------------------

  /**
   * The user's credentials with an access token valid for at least `refreshSkewMs`, refreshing and
   * saving first if needed. The returned record is frozen.
   *
   * @param options.forceRefresh refresh even if the token looks valid (after the provider refused it).
   * @throws NotFoundError when nothing is stored for the user; ReauthRequiredError when the user must
   *   authorize again; ProviderError when the provider keeps failing; any store error on save.
   */
  async getValidCredentials(
    rawUserId: string,
    options: { forceRefresh?: boolean } = {},
  ): Promise<StoredCredentials> {
    const userId = normaliseUserId(rawUserId);
    if (!options.forceRefresh) {
      const now = this.#clock.now();
      const cached = this.#fresh.get(userId, now);
      if (cached !== undefined && this.#isFresh(cached.credentials, now)) {
        if (now - cached.cachedAt < this.#cacheTtlMs) return cached.credentials;
        // Idle for a while: answer from memory, look at the store in the background.
        if (this.#inFlight.has(userId) || this.#revalidations < DEFAULT_MAX_BACKGROUND_REVALIDATIONS) {
          if (!this.#inFlight.has(userId)) this.#revalidate(userId);
          return cached.credentials;
        }
      }
    }
    const running = this.#inFlight.get(userId);
    if (running) return running;
    return this.#loadOnce(userId, options.forceRefresh === true);
  }

  // One load per user at a time: concurrent callers share it.
  #loadOnce(userId: string, force: boolean): Promise<StoredCredentials> {
    const work = this.#load(userId, force)
      .catch((error: unknown) => {
        logFailure(this.#logger, error, { component: 'manager', operation: 'getValidCredentials', userId });
        throw error;
      })
      .finally(() => {
        this.#inFlight.delete(userId);
      });
    this.#inFlight.set(userId, work);
    return work;
  }

  #revalidate(userId: string): void {
    this.#revalidations++;
    // Failures were logged by #loadOnce; the cached credentials keep serving until a read succeeds
    // (a NotFoundError has already dropped them).
    this.#loadOnce(userId, false)
      .catch(() => {})
      .finally(() => {
        this.#revalidations--;
      });
  }

  #isFresh(credentials: StoredCredentials, now: number = this.#clock.now()): boolean {
    return (
      credentials.accessToken !== '' &&
      credentials.expiresAt !== undefined &&
      credentials.expiresAt - this.#skewMs > now
    );
  }

  async #load(userId: string, force: boolean): Promise<StoredCredentials> {
    const entry = await this.#store.get(userId);
    if (!entry) {
      this.#forget(userId);
      throw new NotFoundError(`no credentials stored for ${userId}; authorize first`, { userId });
    }
    if (!force && this.#isFresh(entry.credentials)) return this.#remember(userId, entry.credentials);
    return this.#refresh(userId, entry);
  }

  async #refresh(userId: string, initial: VersionedCredentials): Promise<StoredCredentials> {
    let entry = initial;
    const startedAt = this.#clock.now();
    for (let round = 0; ; round++) {
      const refreshToken = entry.credentials.refreshToken;
      if (refreshToken === undefined) {
        this.#emit('reauth-required', { userId, reason: 'no-refresh-token' });
        throw new ReauthRequiredError(
          `the access token of ${userId} expired and no refresh token is stored`,
          {
            userId,
          },
        );
      }

      let tokens: Credentials;
      let attempts: number;
      try {
        ({ tokens, attempts } = await this.#limiter.run(() =>
          this.#requestRefresh(userId, refreshToken, startedAt),
        ));
      } catch (error) {
        if (!isProviderFailure(error) || error.kind !== 'invalid_grant') throw toPublicError(error, userId);
        // invalid_grant: dead, unless another replica refreshed first (a rotating provider then
        // refuses the old token) or the user signed in again. Give a concurrent winner time to save.
        let current = await this.#store.get(userId);
        if (current?.version === entry.version) {
          await this.#sleep(this.#invalidGrantGraceMs);
          current = await this.#store.get(userId);
        }
        if (current && current.version !== entry.version && round < this.#maxConflictRetries) {
          if (this.#isFresh(current.credentials)) return this.#remember(userId, current.credentials);
          entry = current;
          continue;
        }
        if (current) await this.#removeDead(userId, entry.version);
        else {
          await this.#sessionStore?.removeSession(userId);
          this.#forget(userId);
          this.#emit('reauth-required', { userId, reason: 'invalid_grant' });
          this.#logger.info(
            { userId, reason: 'invalid_grant' },
            'the refresh token was refused; the user must sign in again',
          );
        }
        throw new ReauthRequiredError(
          `the refresh token of ${userId} was revoked or expired; authorize again`,
          {
            userId,
            cause: error.sanitised,
          },
        );
      }

      const merged = mergeRefreshedTokens(entry.credentials, tokens);
      try {
        await this.#saveWithRetry(userId, merged, entry.version);
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
        this.#emit('refresh-conflict', { userId });
        const current = await this.#store.get(userId);
        if (!current) {
          throw new ReauthRequiredError(`credentials of ${userId} were removed while refreshing`, { userId });
        }
        if (this.#isFresh(current.credentials)) return this.#remember(userId, current.credentials);
        if (round >= this.#maxConflictRetries) {
          throw new ConflictError(`gave up refreshing ${userId} after ${round + 1} lost races`, { userId });
        }
        entry = current;
        continue;
      }
      this.#clearServices(userId);
      const rotated = typeof tokens.refresh_token === 'string' && tokens.refresh_token !== refreshToken;
      this.#emit('refreshed', { userId, durationMs: this.#clock.now() - startedAt, rotated, attempts });
      this.#logger.debug({ userId, rotated, attempts }, 'refreshed access token');
      return this.#remember(userId, merged);
    }
  }

  /** One refresh through google-auth-library, with retries of transient failures. */
  async #requestRefresh(
    userId: string,
    refreshToken: string,
    startedAt: number,
  ): Promise<{ tokens: Credentials; attempts: number }> {
    for (let attempt = 1; ; attempt++) {
      const client = new OAuth2Client(this.#clientOptions);
      client.setCredentials({ refresh_token: refreshToken });
      // google-auth-library emits the provider's tokens, then overwrites a rotated refresh token with
      // the old one before resolving: copy what the event carries, at once.
      let emitted: Credentials | undefined;
      client.once('tokens', (tokens: Credentials) => {
        emitted = { ...tokens };
      });
      try {
        await client.getAccessToken();
        if (!emitted?.access_token) throw new Error('the token response had no access_token');
        return { tokens: this.#toClock(emitted), attempts: attempt };
      } catch (error) {
        const failure = classifyProviderFailure(error);
        const willRetry = failure.kind === 'transient' && attempt < this.#retry.attempts;
        this.#emit('refresh-failed', {
          userId,
          durationMs: this.#clock.now() - startedAt,
          errorCode: failure.kind === 'invalid_grant' ? 'REAUTH_REQUIRED' : 'PROVIDER_ERROR',
          providerCode: failure.providerCode,
          attempt,
          willRetry,
        });
        // One line per attempt at debug; the final failure is logged once where it ends the request.
        this.#logger.debug(
          { userId, providerCode: failure.providerCode, attempt, willRetry },
          'refresh attempt failed',
        );
        if (!willRetry) throw failure;
        await this.#sleep(this.#backoff(attempt));
      }
    }
  }

  #backoff(attempt: number): number {
    const exponential = Math.min(this.#retry.maxDelayMs, this.#retry.baseDelayMs * 2 ** (attempt - 1));
    return exponential / 2 + Math.random() * (exponential / 2);
  }

  /** google-auth-library dates tokens with `Date.now()`; re-date them on the injected clock. */
  #toClock(tokens: Credentials): Credentials {
    if (typeof tokens.expiry_date !== 'number') return tokens;
    return { ...tokens, expiry_date: this.#clock.now() + Math.max(0, tokens.expiry_date - Date.now()) };
  }

  /** Saves a refreshed record; retries a store that is briefly unavailable, never a lost race. */
  async #saveWithRetry(userId: string, record: StoredCredentials, ifVersion: string): Promise<string> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#store.put(userId, record, { ifVersion });
      } catch (error) {
        if (!(error instanceof StorageUnavailableError) || attempt >= this.#retry.attempts) throw error;
        this.#logger.info({ userId, attempt }, 'saving refreshed credentials failed; retrying');
        await this.#sleep(this.#backoff(attempt));
      }
    }
  }

  async #removeDead(userId: string, version: string): Promise<void> {
    try {
      await this.#store.delete(userId, { ifVersion: version });
    } catch (error) {
      // A fresh login saved meanwhile: keep it.
      if (!(error instanceof ConflictError)) throw error;
      this.#logger.info({ userId }, 'kept credentials saved after the refresh token died');
    }
    await this.#sessionStore?.removeSession(userId);
    this.#forget(userId);
    this.#emit('reauth-required', { userId, reason: 'invalid_grant' });
    this.#logger.info(
      { userId, reason: 'invalid_grant' },
      'the refresh token was refused; the user must sign in again',
    );
  }

  #remember(userId: string, credentials: StoredCredentials): StoredCredentials {
    const copy = structuredClone(credentials);
    // What users share (a handful of scope sets, the OAuth client, the token endpoint) is kept once.
    copy.userId = userId;
    copy.scopes = this.#shared.scopes(copy.scopes);
    copy.tokenType = this.#shared.text(copy.tokenType);
    if (copy.clientId !== undefined) copy.clientId = this.#shared.text(copy.clientId);
    if (copy.tokenUri !== undefined) copy.tokenUri = this.#shared.text(copy.tokenUri);
    const frozen = deepFreeze(copy);
    const now = this.#clock.now();
    this.#fresh.set(userId, { credentials: frozen, cachedAt: now }, now);
    return frozen;
  }

  #forget(userId: string): void {
    this.#fresh.delete(userId);
    this.#clearServices(userId);
  }

  // -------------------------------------------------------------------------------------------
  // Authorization and revocation
  // -------------------------------------------------------------------------------------------

  /**
   * Exchanges an authorization code (with its PKCE verifier), identifies the user from the verified
   * id_token (`email` with `email_verified: true`, and `sub`), checks `policy`, and saves the
   * credentials. A refresh token already on file is kept when the provider sends none, but only for
   * the same Google account (`sub`); a record of another account is replaced, its grant revoked at
   * the provider and its sessions ended. The caller creates the user's session.
   *
   * @throws InvalidInputError for a bad, used or expired code; AccessDeniedError when the id_token does
   *   not verify, has no verified email, is not `expectedUser` or is refused by `policy`;
   *   ProviderError when the provider fails.
   */
  async completeAuthorization(input: CompleteAuthorizationInput): Promise<AuthorizationResult> {
    try {
      return await this.#completeAuthorization(input);
    } catch (error) {
      logFailure(this.#logger, error, { component: 'manager', operation: 'completeAuthorization' });
      throw error;
    }
  }

  async #completeAuthorization(input: CompleteAuthorizationInput): Promise<AuthorizationResult> {
    const startedAt = this.#clock.now();
    if (typeof input?.code !== 'string' || input.code.length === 0 || input.code.length > 2048) {
      throw new InvalidInputError('authorization code is missing or malformed');
    }
    const client = new OAuth2Client(this.#clientOptions);
    let tokens: Credentials;
    try {
      const redirectUri = input.redirectUri ?? this.#oauth.redirectUri;
      const response = await client.getToken({
        code: input.code,
        codeVerifier: input.codeVerifier,
        ...(redirectUri === undefined ? {} : { redirect_uri: redirectUri }),
      });
      tokens = this.#toClock({ ...response.tokens });
    } catch (error) {
      const failure = classifyProviderFailure(error);
      if (failure.kind === 'invalid_grant') {
        throw new InvalidInputError('the authorization code is invalid, expired or already used', {
          cause: failure.cause,
        });
      }
      throw toPublicError(failure, undefined);
    }
    if (!tokens.access_token || !tokens.id_token) {
      throw new ProviderError(
        'the token response lacks an access token or id_token (request the openid and email scopes)',
      );
    }

    // ProviderError when the keys cannot be fetched (try again); AccessDeniedError when it is forged.
    const payload = (await this.#idTokens.verify(tokens.id_token)) as IdTokenClaims;
    if (
      typeof payload.email !== 'string' ||
      payload.email_verified !== true ||
      typeof payload.sub !== 'string' ||
      payload.sub === ''
    ) {
      throw new AccessDeniedError('the id_token has no verified email', { reason: 'email-unverified' });
    }
    const userId = normaliseUserId(payload.email);
    const subject = payload.sub;
    if (input.expectedUser !== undefined && normaliseUserId(input.expectedUser) !== userId) {
      throw new AccessDeniedError(`signed in as ${userId}, not as the expected user`, {
        userId,
        reason: 'unexpected-user',
      });
    }
    if (input.expectedSubject !== undefined && input.expectedSubject !== subject) {
      this.#logger.warn(
        { userId },
        'SECURITY: a sign-in bound to one Google account came back as another; refused',
      );
      throw new AccessDeniedError(`signed in with another Google account than ${userId}'s`, {
        userId,
        reason: 'unexpected-account',
      });
    }
    if (input.policy !== undefined && !admittedBy(input.policy, userId, payload.hd)) {
      this.#logger.warn({ userId }, 'sign-in refused: the account is not in the allowed domains or users');
      throw new AccessDeniedError(`${userId} may not sign in to this server`, {
        userId,
        reason: 'not-allowed',
      });
    }
    const scopes = tokens.scope ? splitScopes(tokens.scope) : [...(input.requestedScopes ?? [])];

    let saved: StoredCredentials | undefined;
    let replaced: StoredCredentials | undefined;
    for (let attempt = 0; attempt <= this.#maxConflictRetries && saved === undefined; attempt++) {
      let existing: VersionedCredentials | undefined;
      let corrupt = false;
      try {
        existing = await this.#store.get(userId);
      } catch (error) {
        if (!(error instanceof CorruptCredentialsError)) throw error;
        corrupt = true; // a fresh login replaces an unreadable record
      }
      // A refresh token on file carries over only to the same Google account: an address can move to
      // another account, whose sign-in must not inherit the old grant.
      const sameAccount = existing !== undefined && subjectOf(existing.credentials) === subject;
      const record: StoredCredentials = {
        ...(sameAccount && existing?.credentials.extra ? { extra: { ...existing.credentials.extra } } : {}),
        userId,
        subject,
        accessToken: tokens.access_token,
        scopes,
        tokenType: tokens.token_type ?? 'Bearer',
        idToken: tokens.id_token,
        clientId: this.#oauth.clientId,
        tokenUri: String(client.endpoints.oauth2TokenUrl),
      };
      const refreshToken =
        tokens.refresh_token ?? (sameAccount ? existing?.credentials.refreshToken : undefined);
      if (refreshToken) record.refreshToken = refreshToken;
      if (typeof tokens.expiry_date === 'number') record.expiresAt = Math.trunc(tokens.expiry_date);
      if (this.#persistClientSecret)
        record.extra = { ...record.extra, client_secret: this.#oauth.clientSecret };
      if (record.extra) delete record.extra.expiry;
      try {
        await this.#store.put(
          userId,
          record,
          corrupt ? {} : { ifVersion: existing ? existing.version : null },
        );
        saved = record;
        replaced =
          existing !== undefined && subjectOf(existing.credentials) !== subject
            ? existing.credentials
            : undefined;
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
      }
    }
    if (saved === undefined) {
      throw new ConflictError(`could not save credentials of ${userId}: the record kept changing`, {
        userId,
      });
    }
    this.#forget(userId);
    this.#remember(userId, saved);
    if (replaced !== undefined) await this.#endReplacedAccount(userId, replaced);
    if (saved.refreshToken === undefined) {
      this.#logger.info({ userId }, 'no refresh token granted in this sign-in');
    }
    const result: AuthorizationResult = {
      userId,
      scopes,
      expiresAt: saved.expiresAt,
      hasRefreshToken: saved.refreshToken !== undefined,
      replacedAccount: replaced !== undefined,
      profile: {
        sub: subject,
        email: userId,
        ...(typeof payload.name === 'string' ? { name: payload.name } : {}),
        ...(typeof payload.picture === 'string' ? { picture: payload.picture } : {}),
        ...(typeof payload.hd === 'string' ? { hd: payload.hd } : {}),
        ...(typeof payload.iss === 'string' ? { iss: payload.iss } : {}),
      },
    };
    this.#emit('authorized', {
      userId,
      durationMs: this.#clock.now() - startedAt,
      scopes,
      hasRefreshToken: result.hasRefreshToken,
    });
    return result;
  }

  /**
   * The address now belongs to another Google account: the old account's grant is revoked at the
   * provider (best effort) and its sessions, bindings and tokens end.
   */
  async #endReplacedAccount(userId: string, previous: StoredCredentials): Promise<void> {
    this.#logger.warn(
      { userId },
      'this address now signs in as another Google account; the previous account’s grant was replaced and its sessions ended',
    );
    const token = previous.refreshToken ?? (previous.accessToken || undefined);
    if (token !== undefined) {
      try {
        await new OAuth2Client(this.#clientOptions).revokeToken(token);
      } catch (error) {
        this.#logger.warn(
          { userId, providerCode: classifyProviderFailure(error).providerCode },
          'could not revoke the previous account’s grant at the provider',
        );
      }
    }
    await this.#sessionStore?.removeSession(userId);
  }

  /**
   * Signs a user out everywhere: asks the provider to revoke the grant, then (whatever the provider
   * said) removes the credentials from the store, the session store and the caches. Idempotent.
   * A provider failure is reported in the result and the `revoked` event, not thrown.
   */
  async revoke(rawUserId: string): Promise<RevokeResult> {
    const userId = normaliseUserId(rawUserId);
    try {
      return await this.#revoke(userId);
    } catch (error) {
      logFailure(this.#logger, error, { component: 'manager', operation: 'revoke', userId });
      throw error;
    }
  }

  async #revoke(userId: string): Promise<RevokeResult> {
    const startedAt = this.#clock.now();
    let entry: VersionedCredentials | undefined;
    try {
      entry = await this.#store.get(userId);
    } catch (error) {
      if (!(error instanceof CorruptCredentialsError)) throw error;
    }
    let providerRevoked = false;
    let providerError: string | undefined;
    const token = entry?.credentials.refreshToken ?? (entry?.credentials.accessToken || undefined);
    if (token !== undefined) {
      try {
        await new OAuth2Client(this.#clientOptions).revokeToken(token);
        providerRevoked = true;
      } catch (error) {
        const failure = classifyProviderFailure(error);
        // The provider no longer knows the token: it is as revoked as it gets.
        providerRevoked = failure.providerCode === 'invalid_token';
        providerError = providerRevoked ? undefined : failure.providerCode;
        if (!providerRevoked)
          this.#logger.warn({ userId, providerCode: failure.providerCode }, 'provider revoke failed');
      }
    }
    let removed = false;
    try {
      removed = await this.#store.delete(userId);
    } finally {
      await this.#sessionStore?.removeSession(userId);
      this.#forget(userId);
    }
    this.#emit('revoked', { userId, durationMs: this.#clock.now() - startedAt, removed, providerRevoked });
    return { userId, removed, providerRevoked, ...(providerError === undefined ? {} : { providerError }) };
  }

  /**
   * The provider's authorization URL for a PKCE (S256) code flow with `access_type=offline`, built by
   * google-auth-library from the configured endpoints.
   */
  createAuthorizationUrl(input: AuthorizationUrlInput): string {
    const client = new OAuth2Client(this.#clientOptions);
    const redirectUri = input.redirectUri ?? this.#oauth.redirectUri;
    return client.generateAuthUrl({
      access_type: 'offline',
      scope: input.scopes,
      state: input.state,
      code_challenge: input.codeChallenge,
      code_challenge_method: 'S256' as never,
      include_granted_scopes: true,
      ...(redirectUri === undefined ? {} : { redirect_uri: redirectUri }),
      ...(input.loginHint === undefined ? {} : { login_hint: input.loginHint }),
      ...(input.prompt === undefined ? {} : { prompt: input.prompt }),
    });
  }

  /** What is stored for a user, without tokens and without refreshing; `undefined` when nothing is. */
  async describe(rawUserId: string): Promise<CredentialsSummary | undefined> {
    const entry = await this.#store.get(normaliseUserId(rawUserId));
    return entry && describeCredentials(entry.credentials);
  }

  // -------------------------------------------------------------------------------------------
  // API clients
  // -------------------------------------------------------------------------------------------

  /**
   * An `OAuth2Client` authorised as the user, for googleapis or direct requests. It never sees the
   * refresh token: when its access token nears expiry it asks the manager, so refreshes are shared
   * and saved.
   */
  async getClient(rawUserId: string): Promise<OAuth2Client> {
    const userId = normaliseUserId(rawUserId);
    const credentials = await this.getValidCredentials(userId);
    const { clientSecret: _secret, ...withoutSecret } = this.#clientOptions;
    const client = new OAuth2Client({ ...withoutSecret, eagerRefreshThresholdMillis: this.#skewMs });
    client.setCredentials(this.#forLibrary(credentials));
    client.refreshHandler = async () => {
      const fresh = await this.getValidCredentials(userId);
      const tokens = this.#forLibrary(fresh);
      return { access_token: tokens.access_token as string, expiry_date: tokens.expiry_date as number };
    };
    return client;
  }

  /** The record as google-auth-library `Credentials` dated on `Date.now()`, without the refresh token. */
  #forLibrary(credentials: StoredCredentials): Credentials {
    return {
      access_token: credentials.accessToken,
      token_type: credentials.tokenType,
      scope: credentials.scopes.join(' '),
      ...(credentials.expiresAt === undefined
        ? {}
        : { expiry_date: Date.now() + (credentials.expiresAt - this.#clock.now()) }),
    };
  }

  /**
   * A per-user API client (for example a googleapis service), built once by `factory` and cached
   * (lru-cache, `serviceCache.max` entries, `serviceCache.ttlMs`); emptied for the user on refresh,
   * authorization and revoke.
   */
  async getService<T>(
    rawUserId: string,
    name: string,
    factory: (client: OAuth2Client) => T | Promise<T>,
  ): Promise<T> {
    const userId = normaliseUserId(rawUserId);
    const key = `${userId}\n${name}`;
    const cached = this.#services.get(key);
    if (cached !== undefined) return cached.value as T;
    const value = await factory(await this.getClient(userId));
    this.#services.set(key, { value });
    return value;
  }

  #clearServices(userId: string): void {
    const prefix = `${userId}\n`;
    for (const key of [...this.#services.keys()]) if (key.startsWith(prefix)) this.#services.delete(key);
  }

  /** Sizes of the caches (for monitoring). */
  stats(): {
    cachedCredentials: number;
    cachedServices: number;
    refreshesInFlight: number;
    refreshesQueued: number;
  } {
    return {
      cachedCredentials: this.#fresh.size,
      cachedServices: this.#services.size,
      refreshesInFlight: this.#limiter.active,
      refreshesQueued: this.#limiter.waiting,
    };
  }
}

/** A provider failure reduced to what is safe to keep (internal; callers see typed errors). */
class ProviderFailureError extends Error {
  constructor(
    readonly kind: ProviderFailure['kind'],
    readonly providerCode: string,
    readonly sanitised: Error,
  ) {
    super(`provider failure (${providerCode})`, { cause: sanitised });
  }
}

function isProviderFailure(error: unknown): error is ProviderFailureError {
  return error instanceof ProviderFailureError;
}

/**
 * Reduces a google-auth-library / gaxios error to what is safe to keep: the HTTP status and the OAuth
 * `error` field. The raw error holds the request body (refresh token, client secret) and must never
 * be kept as a cause or logged.
 */
function classifyProviderFailure(error: unknown): ProviderFailureError {
  if (error instanceof ProviderFailureError) return error;
  const response = (error as { response?: { status?: number; data?: unknown } } | undefined)?.response;
  const status = typeof response?.status === 'number' ? response.status : undefined;
  const data = response?.data;
  const oauthError =
    typeof data === 'object' && data !== null && typeof (data as { error?: unknown }).error === 'string'
      ? (data as { error: string }).error
      : undefined;
  const code =
    oauthError ??
    (status !== undefined
      ? `HTTP ${status}`
      : (((error as { code?: unknown } | undefined)?.code as string | undefined) ?? 'network error'));
  const sanitised = sanitise(error, code);
  if (oauthError === 'invalid_grant') return new ProviderFailureError('invalid_grant', code, sanitised);
  if (oauthError === 'invalid_client' || oauthError === 'unauthorized_client') {
    return new ProviderFailureError('invalid_client', code, sanitised);
  }
  if (
    status === undefined ||
    status === 408 ||
    status === 429 ||
    status >= 500 ||
    oauthError === 'temporarily_unavailable'
  ) {
    return new ProviderFailureError('transient', code, sanitised);
  }
  return new ProviderFailureError('rejected', code, sanitised);
}

function sanitise(error: unknown, code?: string): Error {
  const safe = new Error(
    code ?? (error instanceof Error && error.name !== 'Error' ? error.name : 'provider request failed'),
  );
  safe.name = 'ProviderResponse';
  return safe;
}

function toPublicError(error: unknown, userId: string | undefined): Error {
  if (error instanceof CredentialError) return error;
  const failure = classifyProviderFailure(error);
  const who = userId === undefined ? '' : ` for ${userId}`;
  const options = {
    cause: failure.sanitised,
    providerCode: failure.providerCode,
    ...(userId ? { userId } : {}),
  };
  if (failure.kind === 'invalid_client') {
    return new ConfigurationError(`the provider refused the OAuth client (${failure.providerCode})`, {
      ...options,
      hint: 'check oauth.clientId and oauth.clientSecret',
    });
  }
  return new ProviderError(
    failure.kind === 'transient'
      ? `the OAuth provider failed${who} after retries (${failure.providerCode})`
      : `the OAuth provider refused the request${who} (${failure.providerCode})`,
    options,
  );
}
