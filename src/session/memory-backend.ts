/**
 * {@link MemorySessionBackend}: session state in bounded, expiring in-process maps (lru-cache).
 *
 * @module
 */
import { LRUCache } from 'lru-cache';
import { type Clock, systemClock } from '../clock.js';
import { deepFreeze } from '../internal/freeze.js';
import { type Logger, silentLogger } from '../logger.js';
import type { BackendSetOptions, ClaimResult, SessionBackend } from './backend.js';

/** Options of {@link MemorySessionBackend}. */
export interface MemorySessionBackendOptions {
  /**
   * Most entries kept per namespace; the least recently used go first. Default 100000. Namespaces not
   * listed in `maxEntriesByNamespace` use it.
   */
  maxEntries?: number;
  /** Per-namespace overrides of `maxEntries`, e.g. `{ state: 10_000 }`. */
  maxEntriesByNamespace?: Record<string, number>;
  /** Most members kept per set; the oldest go first. Default 1000. */
  maxMembersPerSet?: number;
  /** Time source for expiry. Default: the system clock. */
  clock?: Clock;
  /**
   * Told (once per namespace, at `warn`) when the size limit pushes out an entry that had not
   * expired: with sessions, bindings or tokens that signs someone out. Default: silent.
   */
  logger?: Logger;
}

// Entries carry their own expiry (checked on read against the injected clock): an lru-cache TTL would
// read the clock inside every get, and this map is on the per-request path.
type Entry = { value: unknown; expiresAt: number };

/**
 * Keeps each namespace in its own `LRUCache` with a `max` and per-entry TTLs, so memory stays bounded
 * however many sessions, tokens or states arrive. Single process only: use the Redis backend when
 * several replicas must share sessions.
 */
export class MemorySessionBackend implements SessionBackend {
  readonly locality = 'in-process' as const;
  readonly #maps = new Map<string, LRUCache<string, Entry>>();
  readonly #sets = new Map<string, LRUCache<string, string[]>>();
  readonly #maxEntries: number;
  readonly #maxByNamespace: Record<string, number>;
  readonly #maxMembers: number;
  readonly #perf: { now(): number };
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #warnedNamespaces = new Set<string>();

  constructor(options: MemorySessionBackendOptions = {}) {
    this.#logger = options.logger ?? silentLogger;
    this.#maxEntries = options.maxEntries ?? 100_000;
    this.#maxByNamespace = { ...options.maxEntriesByNamespace };
    this.#maxMembers = options.maxMembersPerSet ?? 1_000;
    const clock = options.clock ?? systemClock;
    this.#clock = clock;
    this.#perf = { now: () => clock.now() };
  }

  #mapFor(namespace: string): LRUCache<string, Entry> {
    let map = this.#maps.get(namespace);
    if (map === undefined) {
      map = this.#newMap(namespace, this.#maxByNamespace[namespace] ?? this.#maxEntries);
      this.#maps.set(namespace, map);
    }
    return map;
  }

  #newMap(namespace: string, max: number): LRUCache<string, Entry> {
    return new LRUCache<string, Entry>({
      max,
      // Only the size limit pushing out an entry that had not expired signs someone out.
      dispose: (entry, _key, reason) => {
        if (
          reason !== 'evict' ||
          entry.expiresAt <= this.#clock.now() ||
          this.#warnedNamespaces.has(namespace)
        ) {
          return;
        }
        this.#warnedNamespaces.add(namespace);
        this.#logger.warn(
          { namespace, maxEntries: max },
          'the in-memory session backend is full: live entries are being dropped (users signed out); raise the limit or use a shared backend',
        );
      },
    });
  }

  #setsFor(namespace: string): LRUCache<string, string[]> {
    let sets = this.#sets.get(namespace);
    if (sets === undefined) {
      sets = new LRUCache<string, string[]>({
        max: this.#maxByNamespace[namespace] ?? this.#maxEntries,
        ttl: 1,
        ttlResolution: 0,
        perf: this.#perf,
      });
      this.#sets.set(namespace, sets);
    }
    return sets;
  }

  getSync<T>(namespace: string, key: string, now: number = this.#clock.now()): T | undefined {
    const map = this.#mapFor(namespace);
    const entry = map.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= now) {
      // Stryker disable next-line CallExpression: only frees the slot early; an expired entry is never answered, counted or warned about
      map.delete(key);
      return undefined;
    }
    return entry.value as T;
  }

  async get<T>(namespace: string, key: string): Promise<T | undefined> {
    return this.getSync<T>(namespace, key);
  }

  async set(namespace: string, key: string, value: unknown, options: BackendSetOptions): Promise<boolean> {
    const now = this.#clock.now();
    if (options.onlyIfAbsent && this.getSync(namespace, key, now) !== undefined) return false;
    this.#mapFor(namespace).set(
      key,
      // A value frozen by its writer cannot change under the reader: kept as given, sharing its strings.
      {
        value: Object.isFrozen(value) ? value : deepFreeze(structuredClone(value)),
        expiresAt: now + Math.max(1, options.ttlMs),
      },
    );
    return true;
  }

  async claim<T>(
    namespace: string,
    key: string,
    marker: string,
    ttlMs: number,
  ): Promise<ClaimResult<T> | undefined> {
    const now = this.#clock.now();
    const value = this.getSync<T>(namespace, key, now);
    if (value === undefined) return undefined;
    const claims = this.#mapFor(`${namespace}#claim`);
    const existing = claims.get(key);
    if (existing !== undefined && existing.expiresAt > now) {
      return { value, first: false, firstMarker: existing.value as string };
    }
    claims.set(key, { value: marker, expiresAt: now + Math.max(1, ttlMs) });
    return { value, first: true, firstMarker: marker };
  }

  limitNamespace(namespace: string, maxEntries: number): void {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new RangeError(`maxEntries for ${namespace} must be a positive integer`);
    }
    // Stryker disable next-line ConditionalExpression: resizing to the same limit copies the same entries in the same order; this only skips the copy
    if (this.#maxByNamespace[namespace] === maxEntries) return;
    this.#maxByNamespace[namespace] = maxEntries;
    const existing = this.#maps.get(namespace);
    if (existing === undefined) return;
    const resized = this.#newMap(namespace, maxEntries);
    for (const [key, entry] of [...existing.entries()].reverse()) resized.set(key, entry);
    this.#maps.set(namespace, resized);
  }

  async take<T>(namespace: string, key: string): Promise<T | undefined> {
    const value = this.getSync<T>(namespace, key);
    // Stryker disable next-line ConditionalExpression: deleting a key that answered nothing changes nothing
    if (value !== undefined) this.#mapFor(namespace).delete(key);
    return value;
  }

  async delete(namespace: string, key: string): Promise<boolean> {
    const live = this.getSync(namespace, key) !== undefined;
    this.#mapFor(namespace).delete(key);
    return live;
  }

  async addMember(namespace: string, key: string, member: string, ttlMs: number): Promise<void> {
    const sets = this.#setsFor(namespace);
    // An array, oldest first: most users hold one or two members, where a Set costs several times more.
    // Rebuilt at its exact length (a pushed-to array keeps spare capacity).
    const previous = sets.get(key);
    let members = previous === undefined ? [member] : [...previous.filter((m) => m !== member), member];
    // Stryker disable next-line EqualityOperator: at exactly the limit the slice keeps every member, as not slicing does
    if (members.length > this.#maxMembers) members = members.slice(members.length - this.#maxMembers);
    const remaining = sets.getRemainingTTL(key);
    sets.set(key, members, { ttl: Math.max(ttlMs, Number.isFinite(remaining) ? remaining : 0, 1) });
  }

  async removeMember(namespace: string, key: string, member: string): Promise<void> {
    const members = this.#setsFor(namespace).get(key);
    if (members === undefined) return;
    const at = members.indexOf(member);
    if (at >= 0) members.splice(at, 1);
  }

  async takeMembers(namespace: string, key: string): Promise<string[]> {
    const sets = this.#setsFor(namespace);
    const members = sets.get(key);
    sets.delete(key);
    return members ? [...members] : [];
  }

  async count(namespace: string): Promise<number> {
    const map = this.#mapFor(namespace);
    const now = this.#clock.now();
    // Stryker disable next-line ArrayDeclaration: a key nobody wrote, deleted, changes nothing
    const expired: string[] = [];
    for (const [key, entry] of map.entries()) if (entry.expiresAt <= now) expired.push(key);
    for (const key of expired) map.delete(key);
    return map.size;
  }
}
