/**
 * {@link RedisSessionBackend}: session state in Redis (or Valkey), so several server replicas share
 * sessions, tokens, bindings and OAuth states. Import from `mcp-oauth-credentials/redis`; needs
 * `ioredis` (an optional peer dependency).
 *
 * @module
 */
import { InvalidInputError, StorageUnavailableError } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import {
  type BackendSetOptions,
  type ClaimResult,
  MAX_BACKEND_KEY_LENGTH,
  type SessionBackend,
} from './backend.js';

/**
 * The ioredis client methods the backend uses, declared structurally so these declarations need no
 * `ioredis` types; an ioredis `Redis` (or `Cluster` with hash tags in `keyPrefix`) fits.
 */
export interface RedisClient {
  /** `GET key`. */
  get(key: string): Promise<string | null>;
  /** `SET key value PX ttlMs`. */
  set(key: string, value: string, mode: 'PX', ttlMs: number): Promise<'OK' | null>;
  /** `SET key value PX ttlMs NX`: `null` when the key exists. */
  set(key: string, value: string, mode: 'PX', ttlMs: number, condition: 'NX'): Promise<'OK' | null>;
  /** `GETDEL key` (Redis 6.2+). */
  getdel(key: string): Promise<string | null>;
  /** `DEL key...`. */
  del(...keys: string[]): Promise<number>;
  /** `EVAL script numberOfKeys key... arg...`. */
  eval(script: string, numberOfKeys: number, ...args: Array<string | number>): Promise<unknown>;
  /** `SREM key member...`. */
  srem(key: string, ...members: string[]): Promise<number>;
  /** `SCAN cursor MATCH pattern COUNT countValue`. */
  scan(
    cursor: string,
    match: 'MATCH',
    pattern: string,
    count: 'COUNT',
    countValue: number,
  ): Promise<[cursor: string, elements: string[]]>;
}

/** Options of {@link RedisSessionBackend}. */
export interface RedisSessionBackendOptions {
  /**
   * A connected ioredis client (Redis 6.2 or later, for GETDEL). Do not set ioredis' own `keyPrefix`
   * on it; use `keyPrefix` here. For fail-fast behaviour when Redis is down, create it with
   * `enableOfflineQueue: false` and a `commandTimeout`.
   */
  client: RedisClient;
  /** Prefix of every key, so several apps can share one Redis. Default `mcp-oauth:`. */
  keyPrefix?: string;
  /** Default: silent. */
  logger?: Logger;
}

// SADD, and extend the set's lifetime to at least ARGV[2] ms (never shorten it).
const ADD_MEMBER = `
redis.call('SADD', KEYS[1], ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1`;

// Read the whole set and delete it in one step.
const TAKE_MEMBERS = `
local members = redis.call('SMEMBERS', KEYS[1])
redis.call('DEL', KEYS[1])
return members`;

// Read an entry and claim it in one step: the first claim's marker is kept (SET NX), every caller
// learns the entry and that marker. KEYS[1] the entry, KEYS[2] its claim; ARGV[1] marker, ARGV[2] ttl.
const CLAIM = `
local value = redis.call('GET', KEYS[1])
if not value then return nil end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return {value, 1, ARGV[1]} end
return {value, 0, redis.call('GET', KEYS[2]) or ARGV[1]}`;

/**
 * Keys are `<keyPrefix><namespace>:<key>`, values JSON, lifetimes Redis expiry (`PX`). "Set if absent"
 * is `SET NX`, "take" is `GETDEL`, index sets are updated by Lua scripts, so every operation the
 * session store relies on is atomic across replicas.
 */
export class RedisSessionBackend implements SessionBackend {
  readonly locality = 'shared' as const;
  readonly #client: RedisClient;
  readonly #prefix: string;
  readonly #logger: Logger;

  constructor(options: RedisSessionBackendOptions) {
    this.#client = options.client;
    this.#prefix = options.keyPrefix ?? 'mcp-oauth:';
    this.#logger = options.logger ?? silentLogger;
  }

  async get<T>(namespace: string, key: string): Promise<T | undefined> {
    const raw = await this.#run('get', () => this.#client.get(this.#key(namespace, key)));
    return this.#parse<T>(namespace, raw);
  }

  async set(namespace: string, key: string, value: unknown, options: BackendSetOptions): Promise<boolean> {
    const fullKey = this.#key(namespace, key);
    const payload = JSON.stringify(value);
    const ttl = Math.max(1, Math.ceil(options.ttlMs));
    const result = await this.#run('set', () =>
      options.onlyIfAbsent
        ? this.#client.set(fullKey, payload, 'PX', ttl, 'NX')
        : this.#client.set(fullKey, payload, 'PX', ttl),
    );
    return result === 'OK';
  }

  async claim<T>(
    namespace: string,
    key: string,
    marker: string,
    ttlMs: number,
  ): Promise<ClaimResult<T> | undefined> {
    const entryKey = this.#key(namespace, key);
    const claimKey = `${this.#prefix}${namespace}#claim:${key}`;
    const ttl = String(Math.max(1, Math.ceil(ttlMs)));
    const reply = (await this.#run('claim', () =>
      this.#client.eval(CLAIM, 2, entryKey, claimKey, marker, ttl),
    )) as [string, number, string] | null;
    if (!Array.isArray(reply)) return undefined;
    const value = this.#parse<T>(namespace, reply[0]);
    if (value === undefined) return undefined;
    return { value, first: Number(reply[1]) === 1, firstMarker: String(reply[2]) };
  }

  async take<T>(namespace: string, key: string): Promise<T | undefined> {
    const raw = await this.#run('take', () => this.#client.getdel(this.#key(namespace, key)));
    return this.#parse<T>(namespace, raw);
  }

  async delete(namespace: string, key: string): Promise<boolean> {
    return (await this.#run('delete', () => this.#client.del(this.#key(namespace, key)))) > 0;
  }

  async addMember(namespace: string, key: string, member: string, ttlMs: number): Promise<void> {
    const ttl = String(Math.max(1, Math.ceil(ttlMs)));
    await this.#run('addMember', () =>
      this.#client.eval(ADD_MEMBER, 1, this.#key(namespace, key), member, ttl),
    );
  }

  async removeMember(namespace: string, key: string, member: string): Promise<void> {
    await this.#run('removeMember', () => this.#client.srem(this.#key(namespace, key), member));
  }

  async takeMembers(namespace: string, key: string): Promise<string[]> {
    const members = await this.#run('takeMembers', () =>
      this.#client.eval(TAKE_MEMBERS, 1, this.#key(namespace, key)),
    );
    return Array.isArray(members) ? members.map(String) : [];
  }

  async count(namespace: string): Promise<number> {
    const pattern = `${escapeGlob(this.#prefix)}${escapeGlob(namespace)}:*`;
    return this.#run('count', async () => {
      let cursor = '0';
      let total = 0;
      do {
        const [next, keys] = await this.#client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        total += keys.length;
      } while (cursor !== '0');
      return total;
    });
  }

  #key(namespace: string, key: string): string {
    if (typeof key !== 'string' || key.length === 0 || key.length > MAX_BACKEND_KEY_LENGTH) {
      throw new InvalidInputError(`session backend keys must be 1 to ${MAX_BACKEND_KEY_LENGTH} characters`);
    }
    return `${this.#prefix}${namespace}:${key}`;
  }

  #parse<T>(namespace: string, raw: string | null): T | undefined {
    if (raw === null) return undefined;
    try {
      return JSON.parse(raw) as T;
    } catch {
      // Treated as absent: for the session store, an unreadable entry must deny, never allow.
      this.#logger.error({ namespace }, 'unreadable session entry in Redis; treating it as absent');
      return undefined;
    }
  }

  async #run<T>(operation: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof InvalidInputError) throw error;
      throw new StorageUnavailableError(`Redis session backend failed (${operation})`, {
        cause: error,
        hint: 'check that Redis is reachable; sessions cannot be verified while it is down',
      });
    }
  }
}

function escapeGlob(value: string): string {
  return value.replace(/[*?[\]\\]/g, (char) => `\\${char}`);
}
