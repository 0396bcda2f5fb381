/**
 * A bounded map (lru-cache underneath) for per-request lookups: reading an entry refreshes its
 * recency at most once per `touchEveryMs`, so most reads are a plain `peek` instead of a list
 * reorder. Eviction order is least-recently-used at that granularity.
 *
 * @module
 */
import { LRUCache } from 'lru-cache';

interface Slot<V> {
  value: V;
  touchedAt: number;
}

/** See the module documentation. */
export class TouchLru<V extends {}> {
  readonly #lru: LRUCache<string, Slot<V>>;
  readonly #touchEveryMs: number;

  /**
   * @param onEvict called when the size limit pushes an entry out (not on delete, replace or
   * expiry), with the entry, so the owner can tell a live entry lost to the limit from a dead one.
   */
  constructor(max: number, touchEveryMs = 1_000, onEvict?: (key: string, value: V) => void) {
    this.#lru = new LRUCache<string, Slot<V>>({
      max,
      ...(onEvict === undefined
        ? {}
        : {
            dispose: (slot: Slot<V>, key: string, reason: LRUCache.DisposeReason) => {
              if (reason === 'evict') onEvict(key, slot.value);
            },
          }),
    });
    this.#touchEveryMs = touchEveryMs;
  }

  get size(): number {
    return this.#lru.size;
  }

  /** The value, refreshing its recency if it was last refreshed `touchEveryMs` ago or more. */
  get(key: string, now: number): V | undefined {
    const slot = this.#lru.peek(key);
    if (slot === undefined) return undefined;
    if (now - slot.touchedAt >= this.#touchEveryMs) {
      this.#lru.get(key);
      slot.touchedAt = now;
    }
    return slot.value;
  }

  set(key: string, value: V, now: number): void {
    this.#lru.set(key, { value, touchedAt: now });
  }

  delete(key: string): boolean {
    return this.#lru.delete(key);
  }

  *entries(): IterableIterator<[string, V]> {
    for (const [key, slot] of this.#lru.entries()) yield [key, slot.value];
  }
}
