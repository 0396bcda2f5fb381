/**
 * {@link CredentialManager}: hands out access tokens that are valid, refreshing them through
 * google-auth-library's `OAuth2Client` when needed: once per user at a time in a process, once per
 * race across replicas (compare-and-swap on the store), saved before the caller gets the token, and
 * never at the cost of a refresh token. Signing in and out lives in `authorization.ts`, the provider
 * requests in `provider-client.ts`, the options and their defaults in `options.ts`.
 *
 * @module
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Credentials, OAuth2Client } from 'google-auth-library';
import { type Clock, systemClock } from '../clock.js';
import {
  type CredentialsSummary,
  describeCredentials,
  mergeRefreshedTokens,
  type StoredCredentials,
  type VersionedCredentials,
} from '../credentials.js';
import { ConflictError, NotFoundError, ReauthRequiredError, StorageUnavailableError } from '../errors.js';
import { logFailure } from '../internal/failure-log.js';
import { compareAndSwap, retryWithBackoff, TRY_AGAIN } from '../internal/retry.js';
import { type Logger, silentLogger } from '../logger.js';
import type { OAuth21SessionStore } from '../session/session-store.js';
import type { CredentialStore } from '../stores/types.js';
import { normaliseUserId } from '../user-id.js';
import {
  type AuthorizationContext,
  type AuthorizationResult,
  type CompleteAuthorizationInput,
  completeAuthorization,
  type RevokeResult,
  revokeUser,
} from './authorization.js';
import { CredentialsCache } from './credentials-cache.js';
import { type CredentialManagerEvents, ManagerEvents } from './events.js';
import { IdTokenVerifier } from './id-token.js';
import {
  type CredentialManagerOptions,
  DEFAULT_MAX_BACKGROUND_REVALIDATIONS,
  type ResolvedManagerOptions,
  resolveManagerOptions,
} from './options.js';
import { type AuthorizationUrlInput, ProviderClient } from './provider-client.js';
import { classifyProviderFailure, ProviderFailureError, toPublicError } from './provider-errors.js';
import { Semaphore } from './semaphore.js';
import { ServiceCache } from './service-cache.js';

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
 *
 * @example
 * ```ts
 * const manager = new CredentialManager({ store, sessionStore, oauth: { clientId, clientSecret } });
 * const { accessToken } = await manager.getValidCredentials('ada@example.com');
 * ```
 */
export class CredentialManager {
  readonly #store: CredentialStore;
  readonly #sessionStore: OAuth21SessionStore | undefined;
  readonly #options: ResolvedManagerOptions;
  readonly #provider: ProviderClient;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #limiter: Semaphore;
  readonly #inFlight = new Map<string, Promise<StoredCredentials>>();
  #revalidations = 0;
  readonly #fresh: CredentialsCache;
  readonly #services: ServiceCache;
  readonly #events: ManagerEvents;
  readonly #authorization: AuthorizationContext;

  /** @throws ConfigurationError when an option is missing or out of range (the message names it). */
  constructor(options: CredentialManagerOptions) {
    this.#options = resolveManagerOptions(options);
    this.#store = options.store;
    this.#sessionStore = options.sessionStore;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
    this.#sleep = options.sleep ?? ((ms) => sleep(ms));
    this.#limiter = new Semaphore(this.#options.maxConcurrentRefreshes);
    this.#fresh = new CredentialsCache(this.#options.credentialsCacheSize);
    this.#services = new ServiceCache(
      this.#options.serviceCacheMax,
      this.#options.serviceCacheTtlMs,
      this.#clock,
    );
    this.#events = new ManagerEvents(this.#logger);
    this.#provider = new ProviderClient(options.oauth, this.#options, this.#clock);
    this.#authorization = {
      store: this.#store,
      sessionStore: this.#sessionStore,
      provider: this.#provider,
      idTokens: new IdTokenVerifier({
        keysUrl: this.#provider.keysUrl,
        issuers: [...this.#options.issuers],
        audience: options.oauth.clientId,
        requestTimeoutMs: this.#options.requestTimeoutMs,
        clock: this.#clock,
        logger: this.#logger,
      }),
      events: this.#events,
      logger: this.#logger,
      clock: this.#clock,
      oauth: options.oauth,
      maxConflictRetries: this.#options.maxConflictRetries,
      persistClientSecret: options.persistClientSecret ?? false,
      forget: (userId) => this.#forget(userId),
      remember: (userId, credentials) => {
        this.#remember(userId, credentials);
      },
    };
  }

  /** The URL of the provider's signing keys (JWKS or PEM certificates): what a health check fetches. */
  get keysUrl(): string {
    return this.#provider.keysUrl;
  }

  /** Subscribes to an event; returns a function that unsubscribes. Listener errors are logged and ignored. */
  on<K extends keyof CredentialManagerEvents>(
    event: K,
    listener: (payload: CredentialManagerEvents[K]) => void,
  ): () => void {
    return this.#events.on(event, listener);
  }

  // -------------------------------------------------------------------------------------------
  // Access tokens
  // -------------------------------------------------------------------------------------------

  /**
   * The user's credentials with an access token valid for at least `refreshSkewMs`, refreshing and
   * saving first if needed. The returned record is frozen.
   *
   * @throws NotFoundError when nothing is stored for the user; ReauthRequiredError when the user must
   *   authorize again; ProviderError when the provider keeps failing; any store error on save.
   */
  async getValidCredentials(rawUserId: string): Promise<StoredCredentials> {
    const userId = normaliseUserId(rawUserId);
    const now = this.#clock.now();
    const cached = this.#fresh.get(userId);
    if (cached !== undefined && this.#isFresh(cached.credentials, now)) {
      if (now - cached.cachedAt < this.#options.credentialsCacheTtlMs) return cached.credentials;
      // Idle for a while: answer from memory, look at the store in the background.
      if (this.#inFlight.has(userId) || this.#revalidations < DEFAULT_MAX_BACKGROUND_REVALIDATIONS) {
        if (!this.#inFlight.has(userId)) this.#revalidate(userId);
        return cached.credentials;
      }
    }
    return this.#inFlight.get(userId) ?? this.#loadOnce(userId);
  }

  // One load per user at a time: concurrent callers share it.
  #loadOnce(userId: string): Promise<StoredCredentials> {
    const work = this.#load(userId)
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
    this.#loadOnce(userId)
      .catch(() => {})
      .finally(() => {
        this.#revalidations--;
      });
  }

  #isFresh(credentials: StoredCredentials, now: number = this.#clock.now()): boolean {
    return (
      credentials.accessToken !== '' &&
      // Stryker disable next-line ConditionalExpression: without an expiry the next comparison is NaN > now, false as well
      credentials.expiresAt !== undefined &&
      credentials.expiresAt - this.#options.refreshSkewMs > now
    );
  }

  async #load(userId: string): Promise<StoredCredentials> {
    const entry = await this.#store.get(userId);
    if (!entry) {
      this.#forget(userId);
      throw new NotFoundError(`no credentials stored for ${userId}; authorize first`, { userId });
    }
    if (this.#isFresh(entry.credentials)) return this.#remember(userId, entry.credentials);
    return this.#refresh(userId, entry);
  }

  /**
   * Refreshes and saves with compare-and-swap. A round that loses (the save conflicts, or the
   * provider refused a token another replica has meanwhile replaced) reads the winner's record: its
   * token when fresh, else another round from it.
   */
  async #refresh(userId: string, initial: VersionedCredentials): Promise<StoredCredentials> {
    let entry = initial;
    const startedAt = this.#clock.now();
    const maxRetries = this.#options.maxConflictRetries;
    return compareAndSwap(
      {
        retries: maxRetries,
        // Only a round's own verdict (TRY_AGAIN) starts another round; a conflict thrown elsewhere is the caller's.
        // Stryker disable next-line ArrowFunction: undefined is as false as false
        isConflict: () => false,
        exhausted: () =>
          new ConflictError(`gave up refreshing ${userId} after ${maxRetries + 1} lost races`, { userId }),
      },
      async (round) => {
        const refreshToken = entry.credentials.refreshToken;
        if (refreshToken === undefined) {
          this.#events.emit('reauth-required', { userId, reason: 'no-refresh-token' });
          throw new ReauthRequiredError(
            `the access token of ${userId} expired and no refresh token is stored`,
            {
              userId,
            },
          );
        }
        let refreshed: { tokens: Credentials; attempts: number };
        try {
          refreshed = await this.#limiter.run(() => this.#requestRefresh(userId, refreshToken, startedAt));
        } catch (error) {
          if (!(error instanceof ProviderFailureError) || error.kind !== 'invalid_grant') {
            throw toPublicError(error, userId);
          }
          const winner = await this.#afterInvalidGrant(userId, entry, round < maxRetries, error);
          if (this.#isFresh(winner.credentials)) return this.#remember(userId, winner.credentials);
          entry = winner;
          return TRY_AGAIN;
        }
        const { tokens, attempts } = refreshed;
        const merged = mergeRefreshedTokens(entry.credentials, tokens);
        try {
          await this.#saveWithRetry(userId, merged, entry.version);
        } catch (error) {
          if (!(error instanceof ConflictError)) throw error;
          this.#events.emit('refresh-conflict', { userId });
          const current = await this.#store.get(userId);
          if (!current) {
            throw new ReauthRequiredError(`credentials of ${userId} were removed while refreshing`, {
              userId,
            });
          }
          if (this.#isFresh(current.credentials)) return this.#remember(userId, current.credentials);
          entry = current;
          return TRY_AGAIN;
        }
        this.#services.clear(userId);
        const rotated = (tokens.refresh_token ?? refreshToken) !== refreshToken;
        this.#events.emit('refreshed', {
          userId,
          durationMs: this.#clock.now() - startedAt,
          rotated,
          attempts,
        });
        this.#logger.debug({ userId, rotated, attempts }, 'refreshed access token');
        return this.#remember(userId, merged);
      },
    );
  }

  /**
   * `invalid_grant` means dead, unless another replica refreshed first (a rotating provider then
   * refuses the old token) or the user signed in again. Gives a concurrent winner time to save and
   * returns its record (when `mayRetry`); otherwise removes what failed and throws
   * {@link ReauthRequiredError}.
   */
  async #afterInvalidGrant(
    userId: string,
    entry: VersionedCredentials,
    mayRetry: boolean,
    failure: ProviderFailureError,
  ): Promise<VersionedCredentials> {
    let current = await this.#store.get(userId);
    if (current?.version === entry.version) {
      await this.#sleep(this.#options.invalidGrantGraceMs);
      current = await this.#store.get(userId);
    }
    if (current && current.version !== entry.version && mayRetry) return current;
    if (current) {
      try {
        await this.#store.delete(userId, { ifVersion: entry.version });
      } catch (error) {
        // A fresh login saved meanwhile: keep it.
        if (!(error instanceof ConflictError)) throw error;
        this.#logger.info({ userId }, 'kept credentials saved after the refresh token died');
      }
    }
    await this.#sessionStore?.removeSession(userId);
    this.#forget(userId);
    this.#events.emit('reauth-required', { userId, reason: 'invalid_grant' });
    this.#logger.info(
      { userId, reason: 'invalid_grant' },
      'the refresh token was refused; the user must sign in again',
    );
    throw new ReauthRequiredError(`the refresh token of ${userId} was revoked or expired; authorize again`, {
      userId,
      cause: failure.sanitised,
    });
  }

  /** One refresh through the provider, with retries of transient failures. */
  #requestRefresh(
    userId: string,
    refreshToken: string,
    startedAt: number,
  ): Promise<{ tokens: Credentials; attempts: number }> {
    return retryWithBackoff(
      { ...this.#options.retry, sleep: this.#sleep },
      async (attempt) => ({ tokens: await this.#provider.refresh(refreshToken), attempts: attempt }),
      (error, attempt, attemptsLeft) => {
        const failure = classifyProviderFailure(error);
        const willRetry = failure.kind === 'transient' && attemptsLeft;
        this.#events.emit('refresh-failed', {
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
        return failure.kind === 'transient';
      },
    );
  }

  /** Saves a refreshed record; retries a store that is briefly unavailable, never a lost race. */
  #saveWithRetry(userId: string, record: StoredCredentials, ifVersion: string): Promise<string> {
    return retryWithBackoff(
      { ...this.#options.retry, sleep: this.#sleep },
      () => this.#store.put(userId, record, { ifVersion }),
      (error, attempt, attemptsLeft) => {
        const transient = error instanceof StorageUnavailableError;
        if (transient && attemptsLeft) {
          this.#logger.info({ userId, attempt }, 'saving refreshed credentials failed; retrying');
        }
        return transient;
      },
    );
  }

  #remember(userId: string, credentials: StoredCredentials): StoredCredentials {
    return this.#fresh.remember(userId, credentials, this.#clock.now());
  }

  #forget(userId: string): void {
    this.#fresh.forget(userId);
    this.#services.clear(userId);
  }

  // -------------------------------------------------------------------------------------------
  // Authorization and revocation (authorization.ts)
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
      return await completeAuthorization(this.#authorization, input);
    } catch (error) {
      logFailure(this.#logger, error, { component: 'manager', operation: 'completeAuthorization' });
      throw error;
    }
  }

  /**
   * Signs a user out everywhere: asks the provider to revoke the grant, then (whatever the provider
   * said) removes the credentials from the store, the session store and the caches. Idempotent.
   * A provider failure is reported in the result and the `revoked` event, not thrown.
   */
  async revoke(rawUserId: string): Promise<RevokeResult> {
    const userId = normaliseUserId(rawUserId);
    try {
      return await revokeUser(this.#authorization, userId);
    } catch (error) {
      logFailure(this.#logger, error, { component: 'manager', operation: 'revoke', userId });
      throw error;
    }
  }

  /**
   * The provider's authorization URL for a PKCE (S256) code flow with `access_type=offline`, built by
   * google-auth-library from the configured endpoints.
   */
  createAuthorizationUrl(input: AuthorizationUrlInput): string {
    return this.#provider.authorizationUrl(input);
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
    return this.#provider.userClient(credentials, this.#options.refreshSkewMs, () =>
      this.getValidCredentials(userId),
    );
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
    const cached = this.#services.get(userId, name);
    if (cached !== undefined) return cached.value as T;
    const value = await factory(await this.getClient(userId));
    this.#services.set(userId, name, value);
    return value;
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
