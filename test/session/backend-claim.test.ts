/**
 * `SessionBackend.claim` (spend exactly once, recognise a repeat) and the session store's
 * `recordSingleUse`, on memory and on a real Redis: of concurrent callers exactly one is first, and
 * everyone learns the first claim's marker.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { PostgresSessionBackend } from '../../src/postgres/index.js';
import { RedisSessionBackend } from '../../src/redis/index.js';
import { MemorySessionBackend, OAuth21SessionStore, type SessionBackend } from '../../src/session/index.js';
import { FakeClock } from '../support/clock.js';
import { freshTable, postgresEngines, sharedPool } from '../support/postgres-test-pool.js';

const redisUrl = inject('redisUrl');
const clients: Redis[] = [];
afterAll(async () => {
  await Promise.all(clients.map((client) => client.quit()));
});

const backends: Array<[string, (() => SessionBackend | Promise<SessionBackend>) | undefined, string?]> = [
  ['memory', () => new MemorySessionBackend()],
  [
    'Redis',
    redisUrl
      ? () => {
          const client = new Redis(redisUrl);
          clients.push(client);
          return new RedisSessionBackend({ client, keyPrefix: `claim-${randomBytes(4).toString('hex')}:` });
        }
      : undefined,
    'redis-server is not installed',
  ],
  ...postgresEngines().map((engine): [string, (() => Promise<SessionBackend>) | undefined, string] => [
    `PostgreSQL (${engine.name})`,
    engine.url
      ? async () => {
          const backend = new PostgresSessionBackend({
            pool: sharedPool(engine.url),
            table: freshTable('claims'),
            cleanupIntervalMs: 0,
          });
          await backend.ensureSchema();
          return backend;
        }
      : undefined,
    engine.skipReason,
  ]),
];

for (const [name, create, skipReason] of backends) {
  describe.skipIf(!create)(
    `SessionBackend.claim on ${name}${create ? '' : ` (skipped: ${skipReason})`}`,
    () => {
      it('resolves undefined for an absent entry, and claims nothing', async () => {
        const backend = await create!();
        expect(await backend.claim('ns', 'missing', 'm', 1_000)).toBeUndefined();
        await backend.set('ns', 'missing', { v: 1 }, { ttlMs: 60_000 });
        expect(await backend.claim('ns', 'missing', 'later', 1_000)).toEqual({
          value: { v: 1 },
          first: true,
          firstMarker: 'later',
        });
      });

      it('makes exactly one of 50 concurrent callers first; all learn its marker; the entry stays', async () => {
        const backend = await create!();
        await backend.set('ns', 'k', { token: 'record' }, { ttlMs: 60_000 });
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) => backend.claim<{ token: string }>('ns', 'k', `m${i}`, 60_000)),
        );
        const first = results.filter((result) => result?.first);
        expect(first).toHaveLength(1);
        expect(new Set(results.map((result) => result?.firstMarker))).toEqual(
          new Set([first[0]!.firstMarker]),
        );
        expect(results.every((result) => result?.value.token === 'record')).toBe(true);
        expect(await backend.get('ns', 'k')).toEqual({ token: 'record' });
      });

      it('recordSingleUse: exactly one of 20 concurrent callers gets true', async () => {
        const store = new OAuth21SessionStore({ backend: await create!() });
        const nonce = randomBytes(16).toString('base64url');
        const results = await Promise.all(
          Array.from({ length: 20 }, () => store.recordSingleUse(nonce, 60_000)),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
        await expect(store.recordSingleUse('short', 1_000)).rejects.toThrow('16 to 256');
      });
    },
  );
}

describe('MemorySessionBackend.claim expiry and limitNamespace', () => {
  it('forgets a claim after its ttl (on the injected clock)', async () => {
    const clock = new FakeClock();
    const backend = new MemorySessionBackend({ clock });
    await backend.set('ns', 'k', 1, { ttlMs: 60_000 });
    expect((await backend.claim('ns', 'k', 'a', 1_000))?.first).toBe(true);
    clock.advance(999);
    expect((await backend.claim('ns', 'k', 'b', 1_000))?.firstMarker).toBe('a');
    clock.advance(2);
    expect(await backend.claim('ns', 'k', 'c', 1_000)).toMatchObject({ first: true, firstMarker: 'c' });
  });

  it('caps a namespace set later, keeping the most recent entries', async () => {
    const backend = new MemorySessionBackend();
    for (let i = 0; i < 20; i++) await backend.set('pending', `k${i}`, i, { ttlMs: 60_000 });
    backend.limitNamespace('pending', 5);
    expect(await backend.count('pending')).toBe(5);
    expect(await backend.get('pending', 'k19')).toBe(19);
    expect(await backend.get('pending', 'k14')).toBeUndefined();
    for (let i = 20; i < 30; i++) await backend.set('pending', `k${i}`, i, { ttlMs: 60_000 });
    expect(await backend.count('pending')).toBe(5);
    expect(() => backend.limitNamespace('pending', 0)).toThrow(RangeError);
  });
});

describe('OAuth21SessionStore.touchSession', () => {
  it('extends a live session and keeps its generation; does nothing without one', async () => {
    const clock = new FakeClock();
    const store = new OAuth21SessionStore({ clock, sessionTtlMs: 1_000 });
    expect(await store.touchSession('nobody@example.com')).toBeUndefined();
    const session = await store.storeSession('kept@example.com');
    clock.advance(900);
    const touched = await store.touchSession('kept@example.com');
    expect(touched?.generation).toBe(session.generation);
    clock.advance(900);
    expect((await store.getSession('kept@example.com'))?.generation).toBe(session.generation);
    clock.advance(101);
    expect(await store.getSession('kept@example.com')).toBeUndefined();
  });
});
