/**
 * The per-user API client cache behind {@link CredentialManager.getService}: lru-cache bounded by
 * entries and age, with an index by user so that clearing one user's clients (on every refresh,
 * sign-in and revoke) touches only that user's entries.
 *
 * @module
 */
import { LRUCache } from 'lru-cache';
import type { Clock } from '../clock.js';

/** See the module documentation. */
export class ServiceCache {
  readonly #entries: LRUCache<string, { userId: string; value: unknown }>;
  readonly #keysByUser = new Map<string, Set<string>>();

  /** `max` entries, each kept `ttlMs` ms on `clock`. */
  constructor(max: number, ttlMs: number, clock: Clock) {
    this.#entries = new LRUCache({
      max,
      ttl: ttlMs,
      ttlResolution: 0,
      perf: { now: () => clock.now() },
      dispose: (entry, key) => {
        const keys = this.#keysByUser.get(entry.userId);
        // Stryker disable next-line OptionalChaining: every cached entry's key is in its user's set (set() files it, dispose is the only removal)
        keys?.delete(key);
        // Stryker disable next-line OptionalChaining: (the same)
        if (keys?.size === 0) this.#keysByUser.delete(entry.userId);
      },
    });
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Users with at least one cached client: the index shrinks as their entries go. */
  get userCount(): number {
    return this.#keysByUser.size;
  }

  get(userId: string, name: string): { value: unknown } | undefined {
    return this.#entries.get(`${userId}\n${name}`);
  }

  set(userId: string, name: string, value: unknown): void {
    const key = `${userId}\n${name}`;
    this.#entries.set(key, { userId, value });
    let keys = this.#keysByUser.get(userId);
    if (keys === undefined) {
      keys = new Set();
      this.#keysByUser.set(userId, keys);
    }
    keys.add(key);
  }

  /** Drops every client of `userId`. */
  clear(userId: string): void {
    const keys = this.#keysByUser.get(userId);
    if (keys === undefined) return;
    // Each delete disposes its entry, which drops the key from the index (and the user, at the last).
    for (const key of [...keys]) this.#entries.delete(key);
  }
}
