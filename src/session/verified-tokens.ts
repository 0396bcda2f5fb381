/**
 * What the two token verifiers (the session store's bearer tokens and the MCP authorization
 * server's access tokens) share: the shape check of a presented token, whether the backend is in
 * process, and the in-process memory of recent verifications with its defaults.
 *
 * @module
 */
import { LRUCache } from 'lru-cache';
import { ConfigurationError } from '../errors.js';
import { countOption, durationOption } from '../internal/option-checks.js';
import type { SessionBackend } from './backend.js';

/** Longest token either verifier looks at, characters; longer ones are refused unread. */
export const MAX_BEARER_TOKEN_LENGTH = 512;

/**
 * Default lifetime of a remembered verification, ms: 60 s when the backend is in process (a revoke
 * there clears the memory at once, and there are no other replicas), 5 s with a shared backend
 * (the bound within which another replica's revocation of a single token takes effect here).
 */
export const DEFAULT_VERIFIED_TOKEN_CACHE_TTL_MS = Object.freeze({ inProcess: 60_000, shared: 5_000 });

/** Default most remembered verifications, entries. */
export const DEFAULT_VERIFIED_TOKEN_CACHE_MAX = 100_000;

/** The `verifiedTokenCache` option of both verifiers. */
export type VerifiedTokenCacheOption = { max?: number; ttlMs?: number } | false;

/** Whether a presented token is worth a lookup: a non-empty string of at most {@link MAX_BEARER_TOKEN_LENGTH}. */
export function isTokenShaped(token: unknown): token is string {
  return typeof token === 'string' && token.length > 0 && token.length <= MAX_BEARER_TOKEN_LENGTH;
}

/** Whether `backend` declares that it keeps its entries in this process (see `SessionBackend.locality`). */
export function isInProcess(backend: SessionBackend): boolean {
  return backend.locality === 'in-process';
}

/**
 * The `verifiedTokenCache` option with its defaults for `backend`; `false` when off (`false`, or a
 * `ttlMs` of 0).
 *
 * @throws ConfigurationError naming `verifiedTokenCache.max` or `verifiedTokenCache.ttlMs`.
 */
export function resolveVerifiedTokenCache(
  option: VerifiedTokenCacheOption | undefined,
  backend: SessionBackend,
): { max: number; ttlMs: number } | false {
  if (option === false) return false;
  if (option !== undefined && (typeof option !== 'object' || option === null)) {
    throw new ConfigurationError('verifiedTokenCache must be an object or false');
  }
  const ttlMs = durationOption(
    'verifiedTokenCache.ttlMs',
    option?.ttlMs,
    isInProcess(backend)
      ? DEFAULT_VERIFIED_TOKEN_CACHE_TTL_MS.inProcess
      : DEFAULT_VERIFIED_TOKEN_CACHE_TTL_MS.shared,
    0,
  );
  const max = countOption('verifiedTokenCache.max', option?.max, DEFAULT_VERIFIED_TOKEN_CACHE_MAX);
  return ttlMs === 0 ? false : { max, ttlMs };
}

/**
 * Verifications made in the last `ttlMs`, keyed by what was verified (a presented token, an MCP
 * session id), bounded to `max` entries. A verification older than `ttlMs` is not recalled: the
 * caller reads the backend again. Expired entries are dropped on time, not only when the limit
 * pushes them out: the first verification remembered `ttlMs` or more after the last sweep sweeps
 * them (one pass over the entries, so at most once per `ttlMs`; no timer keeps the process alive).
 */
export class RecentVerifications<V extends { readonly verifiedAt: number }> {
  readonly #entries: LRUCache<string, V>;
  #sweptAt = Number.NEGATIVE_INFINITY;
  /** How long a verification is recalled, ms. */
  readonly ttlMs: number;

  constructor(options: { max: number; ttlMs: number }) {
    this.#entries = new LRUCache<string, V>({ max: options.max });
    this.ttlMs = options.ttlMs;
  }

  /** Entries held, expired ones included until the next sweep. */
  get size(): number {
    return this.#entries.size;
  }

  /** The verification of `key` made less than `ttlMs` before `now` (epoch ms), if any. */
  recall(key: string, now: number): V | undefined {
    const entry = this.#entries.get(key);
    return entry !== undefined && now - entry.verifiedAt < this.ttlMs ? entry : undefined;
  }

  /** Remembers `verification` (made at its `verifiedAt`, epoch ms), sweeping expired entries when due. */
  remember(key: string, verification: V): void {
    const now = verification.verifiedAt;
    if (now - this.#sweptAt >= this.ttlMs) this.#sweep(now);
    this.#entries.set(key, verification);
  }

  #sweep(now: number): void {
    this.#sweptAt = now;
    // Stryker disable next-line ArrayDeclaration: a key nobody remembered, forgotten, changes nothing
    const expired: string[] = [];
    for (const [key, entry] of this.#entries.entries())
      if (now - entry.verifiedAt >= this.ttlMs) expired.push(key);
    for (const key of expired) this.#entries.delete(key);
  }

  forget(key: string): void {
    this.#entries.delete(key);
  }
}
