/**
 * The options of {@link CredentialManager}, their defaults (exported, so operators can size things
 * relative to them) and the check that turns what a caller passed into what the manager runs with.
 *
 * @module
 */
import type { Clock } from '../clock.js';
import { ConfigurationError } from '../errors.js';
import { countOption, durationOption } from '../internal/option-checks.js';
import type { Logger } from '../logger.js';
import type { OAuth21SessionStore } from '../session/session-store.js';
import type { CredentialStore } from '../stores/types.js';
import type { OAuthEndpoints } from './discovery.js';

/** Default {@link CredentialManagerOptions.refreshSkewMs}: 5 minutes. */
export const DEFAULT_REFRESH_SKEW_MS = 5 * 60 * 1000;
/** Default {@link CredentialManagerOAuthOptions.requestTimeoutMs}: 10 seconds. */
export const DEFAULT_PROVIDER_REQUEST_TIMEOUT_MS = 10_000;
/** Default {@link RetryOptions.attempts}. */
export const DEFAULT_RETRY_ATTEMPTS = 3;
/** Default {@link RetryOptions.baseDelayMs}. */
export const DEFAULT_RETRY_BASE_DELAY_MS = 250;
/** Default {@link RetryOptions.maxDelayMs}. */
export const DEFAULT_RETRY_MAX_DELAY_MS = 5_000;
/** Default {@link CredentialManagerOptions.maxConcurrentRefreshes}. */
export const DEFAULT_MAX_CONCURRENT_REFRESHES = 10;
/** Default {@link CredentialManagerOptions.maxConflictRetries}. */
export const DEFAULT_MAX_CONFLICT_RETRIES = 3;
/** Default {@link CredentialManagerOptions.invalidGrantGraceMs}: 2 seconds. */
export const DEFAULT_INVALID_GRANT_GRACE_MS = 2_000;
/** The default {@link CredentialManagerOptions.credentialsCacheSize}: as many users as the session store keeps by default. */
export const DEFAULT_CREDENTIALS_CACHE_SIZE = 100_000;
/** Default {@link CredentialManagerOptions.credentialsCacheTtlMs}: 1 minute. */
export const DEFAULT_CREDENTIALS_CACHE_TTL_MS = 60_000;
/**
 * How many background store reads (stale-while-revalidate, see
 * {@link CredentialManagerOptions.credentialsCacheTtlMs}) may run at once; further calls read the
 * store before answering, as without a cache.
 */
export const DEFAULT_MAX_BACKGROUND_REVALIDATIONS = 64;
/** Default `serviceCache.max` of {@link CredentialManagerOptions.serviceCache}, entries. */
export const DEFAULT_SERVICE_CACHE_MAX = 1_000;
/** Default `serviceCache.ttlMs` of {@link CredentialManagerOptions.serviceCache}: 30 minutes. */
export const DEFAULT_SERVICE_CACHE_TTL_MS = 30 * 60 * 1000;
/** Default {@link CredentialManagerOAuthOptions.issuers}: Google's two spellings. */
export const GOOGLE_ISSUERS: readonly string[] = Object.freeze([
  'accounts.google.com',
  'https://accounts.google.com',
]);

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
  /**
   * Accepted id_token issuers.
   *
   * @defaultValue {@link GOOGLE_ISSUERS} (`accounts.google.com`, `https://accounts.google.com`)
   */
  issuers?: string[];
  /**
   * Per-request timeout for token, revoke and signing-key requests, ms.
   *
   * @defaultValue {@link DEFAULT_PROVIDER_REQUEST_TIMEOUT_MS} (10000)
   */
  requestTimeoutMs?: number;
}

/** Retries of transient provider failures (network errors, timeouts, 408, 429, 5xx, `temporarily_unavailable`). */
export interface RetryOptions {
  /**
   * Attempts including the first, at least 1. Also bounds the retries of a save that found the
   * store unavailable.
   *
   * @defaultValue {@link DEFAULT_RETRY_ATTEMPTS} (3)
   */
  attempts?: number;
  /**
   * Delay before the first retry, ms; doubles each retry, with jitter.
   *
   * @defaultValue {@link DEFAULT_RETRY_BASE_DELAY_MS} (250)
   */
  baseDelayMs?: number;
  /**
   * Longest delay between attempts, ms; not less than `baseDelayMs`.
   *
   * @defaultValue {@link DEFAULT_RETRY_MAX_DELAY_MS} (5000)
   */
  maxDelayMs?: number;
}

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
   * first.
   *
   * @defaultValue {@link DEFAULT_REFRESH_SKEW_MS} (300000)
   */
  refreshSkewMs?: number;
  /** Time source. Default: the system clock. */
  clock?: Clock;
  /** Default: silent. Logs carry user ids and error codes, never tokens. */
  logger?: Logger;
  /**
   * Most token requests in flight at once, across users.
   *
   * @defaultValue {@link DEFAULT_MAX_CONCURRENT_REFRESHES} (10)
   */
  maxConcurrentRefreshes?: number;
  retry?: RetryOptions;
  /**
   * How often a refresh or a sign-in that lost a compare-and-swap race tries again before giving up.
   *
   * @defaultValue {@link DEFAULT_MAX_CONFLICT_RETRIES} (3)
   */
  maxConflictRetries?: number;
  /**
   * After `invalid_grant`, how long to wait for another replica's concurrent refresh to be saved before
   * treating the credentials as dead, ms. A provider that rotates refresh tokens refuses the old one as
   * soon as another replica used it; this keeps that race from logging the user out.
   *
   * @defaultValue {@link DEFAULT_INVALID_GRANT_GRACE_MS} (2000)
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
   * the session store is checked on every request.
   *
   * @defaultValue {@link DEFAULT_CREDENTIALS_CACHE_TTL_MS} (60000)
   */
  credentialsCacheTtlMs?: number;
  /**
   * The per-user API client cache of {@link CredentialManager.getService}: `max` entries (default
   * {@link DEFAULT_SERVICE_CACHE_MAX}), each kept `ttlMs` ms (default
   * {@link DEFAULT_SERVICE_CACHE_TTL_MS}).
   */
  serviceCache?: { max?: number; ttlMs?: number };
  /**
   * Write the OAuth client secret into each new record (`client_secret`), as google_workspace_mcp does,
   * so the Python server sharing the store can refresh. Default `false`.
   */
  persistClientSecret?: boolean;
  /** How to wait between retries. Default: a real timer. */
  sleep?: (ms: number) => Promise<void>;
}

/** {@link CredentialManagerOptions} with every default applied and every number checked. */
export interface ResolvedManagerOptions {
  refreshSkewMs: number;
  requestTimeoutMs: number;
  issuers: readonly string[];
  retry: Required<RetryOptions>;
  maxConcurrentRefreshes: number;
  maxConflictRetries: number;
  invalidGrantGraceMs: number;
  credentialsCacheSize: number;
  credentialsCacheTtlMs: number;
  serviceCacheMax: number;
  serviceCacheTtlMs: number;
}

/**
 * Applies the defaults and refuses what cannot work: a missing store or client, a NaN, negative or
 * fractional number, a retry delay cap below its base.
 *
 * @throws ConfigurationError naming the option.
 */
export function resolveManagerOptions(options: CredentialManagerOptions): ResolvedManagerOptions {
  if (!options?.store) throw new ConfigurationError('CredentialManager needs a store');
  if (!options.oauth?.clientId || !options.oauth.clientSecret) {
    throw new ConfigurationError('CredentialManager needs oauth.clientId and oauth.clientSecret');
  }
  const retry = {
    attempts: countOption('retry.attempts', options.retry?.attempts, DEFAULT_RETRY_ATTEMPTS),
    baseDelayMs: durationOption(
      'retry.baseDelayMs',
      options.retry?.baseDelayMs,
      DEFAULT_RETRY_BASE_DELAY_MS,
      0,
    ),
    maxDelayMs: durationOption('retry.maxDelayMs', options.retry?.maxDelayMs, DEFAULT_RETRY_MAX_DELAY_MS, 0),
  };
  if (retry.maxDelayMs < retry.baseDelayMs) {
    throw new ConfigurationError('retry.maxDelayMs must not be less than retry.baseDelayMs');
  }
  const issuers = options.oauth.issuers ?? GOOGLE_ISSUERS;
  if (
    !Array.isArray(issuers) ||
    issuers.length === 0 ||
    issuers.some((issuer) => typeof issuer !== 'string')
  ) {
    throw new ConfigurationError('oauth.issuers must be a non-empty array of strings');
  }
  return {
    refreshSkewMs: durationOption('refreshSkewMs', options.refreshSkewMs, DEFAULT_REFRESH_SKEW_MS, 0),
    requestTimeoutMs: durationOption(
      'oauth.requestTimeoutMs',
      options.oauth.requestTimeoutMs,
      DEFAULT_PROVIDER_REQUEST_TIMEOUT_MS,
    ),
    issuers,
    retry,
    maxConcurrentRefreshes: countOption(
      'maxConcurrentRefreshes',
      options.maxConcurrentRefreshes,
      DEFAULT_MAX_CONCURRENT_REFRESHES,
    ),
    maxConflictRetries: countOption(
      'maxConflictRetries',
      options.maxConflictRetries,
      DEFAULT_MAX_CONFLICT_RETRIES,
      0,
    ),
    invalidGrantGraceMs: durationOption(
      'invalidGrantGraceMs',
      options.invalidGrantGraceMs,
      DEFAULT_INVALID_GRANT_GRACE_MS,
      0,
    ),
    credentialsCacheSize: countOption(
      'credentialsCacheSize',
      options.credentialsCacheSize,
      DEFAULT_CREDENTIALS_CACHE_SIZE,
    ),
    credentialsCacheTtlMs: durationOption(
      'credentialsCacheTtlMs',
      options.credentialsCacheTtlMs,
      DEFAULT_CREDENTIALS_CACHE_TTL_MS,
      0,
    ),
    serviceCacheMax: countOption('serviceCache.max', options.serviceCache?.max, DEFAULT_SERVICE_CACHE_MAX),
    serviceCacheTtlMs: durationOption(
      'serviceCache.ttlMs',
      options.serviceCache?.ttlMs,
      DEFAULT_SERVICE_CACHE_TTL_MS,
    ),
  };
}
