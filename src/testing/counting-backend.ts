/**
 * {@link CountingSessionBackend}: counts what a code path asks of a session backend.
 *
 * @module
 */
import type { BackendSetOptions, ClaimResult, SessionBackend } from '../session/backend.js';

/**
 * A session backend that forwards to another and counts the calls made through it, keyed
 * `"<method> <namespace>"` (for example `"get session"`). Around `RedisSessionBackend` or
 * `PostgresSessionBackend` each call is one round trip to the server, so the counts are the round
 * trips a request costs. It is `'shared'` (see `SessionBackend.locality`) and has no `getSync`, like Redis.
 *
 * @example
 * ```ts
 * const backend = new CountingSessionBackend(new RedisSessionBackend({ client }));
 * const sessionStore = new OAuth21SessionStore({ backend });
 * // ... one request ...
 * expect(backend.roundTrips()).toBe(1);
 * ```
 */
export class CountingSessionBackend implements SessionBackend {
  /** Calls since the last {@link reset}, by `"<method> <namespace>"`. */
  readonly calls = new Map<string, number>();
  readonly locality = 'shared' as const;
  readonly #inner: SessionBackend;

  constructor(inner: SessionBackend) {
    this.#inner = inner;
  }

  /** Calls since the last {@link reset}: all, or those of one `"method namespace"`. */
  roundTrips(method?: string): number {
    if (method !== undefined) return this.calls.get(method) ?? 0;
    let total = 0;
    for (const value of this.calls.values()) total += value;
    return total;
  }

  /** Forgets the counts. */
  reset(): void {
    this.calls.clear();
  }

  #note(method: string): void {
    this.calls.set(method, (this.calls.get(method) ?? 0) + 1);
  }

  get<T>(namespace: string, key: string): Promise<T | undefined> {
    this.#note(`get ${namespace}`);
    return this.#inner.get<T>(namespace, key);
  }
  set(namespace: string, key: string, value: unknown, options: BackendSetOptions): Promise<boolean> {
    this.#note(`set ${namespace}`);
    return this.#inner.set(namespace, key, value, options);
  }
  claim<T>(
    namespace: string,
    key: string,
    marker: string,
    ttlMs: number,
  ): Promise<ClaimResult<T> | undefined> {
    this.#note(`claim ${namespace}`);
    return this.#inner.claim<T>(namespace, key, marker, ttlMs);
  }
  take<T>(namespace: string, key: string): Promise<T | undefined> {
    this.#note(`take ${namespace}`);
    return this.#inner.take<T>(namespace, key);
  }
  delete(namespace: string, key: string): Promise<boolean> {
    this.#note(`delete ${namespace}`);
    return this.#inner.delete(namespace, key);
  }
  addMember(namespace: string, key: string, member: string, ttlMs: number): Promise<void> {
    this.#note(`addMember ${namespace}`);
    return this.#inner.addMember(namespace, key, member, ttlMs);
  }
  removeMember(namespace: string, key: string, member: string): Promise<void> {
    this.#note(`removeMember ${namespace}`);
    return this.#inner.removeMember(namespace, key, member);
  }
  takeMembers(namespace: string, key: string): Promise<string[]> {
    this.#note(`takeMembers ${namespace}`);
    return this.#inner.takeMembers(namespace, key);
  }
  count(namespace: string): Promise<number> {
    this.#note(`count ${namespace}`);
    return this.#inner.count(namespace);
  }
}
