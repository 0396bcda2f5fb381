/**
 * The manager's in-memory copy of each active user's credentials (the hot path): frozen records
 * that share what users have in common, each stamped with when it was read from the store.
 *
 * @module
 */
import { LRUCache } from 'lru-cache';
import type { StoredCredentials } from '../credentials.js';
import { deepFreeze } from '../internal/freeze.js';
import { SharedValues } from '../internal/shared-values.js';

/** A cached record and when it was cached (epoch ms on the manager's clock). */
export interface CachedCredentials {
  readonly credentials: StoredCredentials;
  readonly cachedAt: number;
}

/** See the module documentation. Bounded to `maxUsers` entries, least recently used out first. */
export class CredentialsCache {
  // Entries carry the time they were cached: one clock read per hit covers both the cache lifetime and
  // the token's freshness (an lru-cache TTL would read the clock again).
  readonly #entries: LRUCache<string, CachedCredentials>;
  readonly #shared = new SharedValues();

  constructor(maxUsers: number) {
    this.#entries = new LRUCache<string, CachedCredentials>({ max: maxUsers });
  }

  get size(): number {
    return this.#entries.size;
  }

  get(userId: string): CachedCredentials | undefined {
    return this.#entries.get(userId);
  }

  /**
   * Keeps a frozen copy of `credentials` (the caller's object stays theirs), filed under `userId`,
   * and returns it.
   */
  remember(userId: string, credentials: StoredCredentials, now: number): StoredCredentials {
    const copy = structuredClone(credentials);
    // What users share (a handful of scope sets, the OAuth client, the token endpoint) is kept once.
    copy.userId = userId;
    copy.scopes = this.#shared.scopes(copy.scopes);
    copy.tokenType = this.#shared.text(copy.tokenType);
    // Stryker disable next-line ConditionalExpression: skipping the sharing is not observable (strings compare by value); it costs memory only, which the benchmark measures
    if (copy.clientId !== undefined) copy.clientId = this.#shared.text(copy.clientId);
    // Stryker disable next-line ConditionalExpression: as above
    if (copy.tokenUri !== undefined) copy.tokenUri = this.#shared.text(copy.tokenUri);
    const frozen = deepFreeze(copy);
    this.#entries.set(userId, { credentials: frozen, cachedAt: now });
    return frozen;
  }

  forget(userId: string): void {
    this.#entries.delete(userId);
  }
}
