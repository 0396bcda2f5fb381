/**
 * The small storage interface behind {@link OAuth21SessionStore} (and the OAuth proxy provider):
 * namespaced, expiring key-value entries with an atomic "set if absent" and an atomic "take", plus
 * per-key member sets used as reverse indexes. Memory is the default; Redis shares state between
 * replicas.
 *
 * @module
 */

/** Options of {@link SessionBackend.set}. */
export interface BackendSetOptions {
  /** Time to live, milliseconds (at least 1). */
  ttlMs: number;
  /** Write only if the key is absent (Redis `SET NX`); resolves `false` when it was present. */
  onlyIfAbsent?: boolean;
}

/**
 * Storage for session state. Keys are short strings (at most 512 characters) chosen by the caller
 * (hashes or ids); namespaces are fixed names. Values are plain JSON-compatible objects (no
 * `undefined` inside arrays, no class instances) and come back as new objects; implementations may
 * freeze them. An in-process implementation may keep a value that is already frozen all the way
 * down as given (sharing its strings and arrays) instead of copying it.
 *
 * Every entry expires. Implementations bound memory (memory: a maximum entry count per namespace;
 * Redis: TTLs and the server's maxmemory policy).
 */
export interface SessionBackend {
  /**
   * Where the entries live. `'in-process'` (the memory backend): nothing is shared with other
   * processes, so the verifiers remember a verification longer (60 s: a revoke here clears it at
   * once) and use `getSync`. `'shared'` (Redis, PostgreSQL): 5 s, and what a request read is carried
   * through it instead of read again. A backend that does not say is treated as `'shared'`.
   */
  readonly locality?: 'in-process' | 'shared';
  /** Reads an entry; `undefined` when absent or expired. */
  get<T>(namespace: string, key: string): Promise<T | undefined>;
  /**
   * Optional synchronous `get`, for backends that hold everything in process (memory). The session
   * store uses it on the per-request path, when `locality` is `'in-process'`, to avoid a promise per
   * lookup. `now` (epoch ms, the caller's clock reading) spares a clock read per lookup.
   */
  getSync?<T>(namespace: string, key: string, now?: number): T | undefined;
  /** Writes an entry; resolves `false` only when `onlyIfAbsent` found one. */
  set(namespace: string, key: string, value: unknown, options: BackendSetOptions): Promise<boolean>;
  /**
   * Atomically reads an entry and records a claim on it: the first caller's `marker` is kept (for
   * `ttlMs`) and every caller learns the entry and the first claim's marker. The entry itself stays.
   * Resolves `undefined` when the entry is absent. Used to spend a refresh token exactly once while
   * still recognising a repeat (and when it happened).
   */
  claim<T>(
    namespace: string,
    key: string,
    marker: string,
    ttlMs: number,
  ): Promise<ClaimResult<T> | undefined>;
  /**
   * Optional: caps how many entries a namespace keeps (least recently used dropped first), for
   * backends that hold everything in process. Backends with their own expiry and memory policy
   * (Redis) ignore it.
   */
  limitNamespace?(namespace: string, maxEntries: number): void;
  /** Atomically reads and deletes an entry: of several concurrent callers, at most one gets it. */
  take<T>(namespace: string, key: string): Promise<T | undefined>;
  /** Deletes an entry; resolves whether it existed. */
  delete(namespace: string, key: string): Promise<boolean>;
  /** Adds `member` to the set at `key`, extending the set's lifetime to at least `ttlMs`. */
  addMember(namespace: string, key: string, member: string, ttlMs: number): Promise<void>;
  /** Removes `member` from the set at `key`. */
  removeMember(namespace: string, key: string, member: string): Promise<void>;
  /** Atomically reads and deletes the set at `key`; resolves its members (empty when absent). */
  takeMembers(namespace: string, key: string): Promise<string[]>;
  /** Counts live entries in a namespace (for statistics; may be approximate or slow on Redis). */
  count(namespace: string): Promise<number>;
  /** Releases resources the backend owns (not an injected client). */
  close?(): Promise<void>;
}

/** What {@link SessionBackend.claim} resolves. */
export interface ClaimResult<T> {
  value: T;
  /** Whether this call made the first claim. */
  first: boolean;
  /** The marker of the first claim (this call's own when `first`). */
  firstMarker: string;
}

/** The longest key a backend must accept. */
export const MAX_BACKEND_KEY_LENGTH = 512;
