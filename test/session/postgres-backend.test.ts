/**
 * The session store on PostgreSQL (PGlite always; the distribution's server where installed): the
 * whole behavioural suite, two replicas on one database, and the backend's own expiry and schema.
 */
import { describe, expect, it } from 'vitest';
import { ConfigurationError, InvalidInputError } from '../../src/index.js';
import { PostgresSessionBackend } from '../../src/postgres/index.js';
import { OAuth21SessionStore } from '../../src/session/index.js';
import { FakeClock } from '../support/clock.js';
import { freshTable, postgresEngines, sharedPool, testPool } from '../support/postgres-test-pool.js';
import { describeSessionStore } from './session-store.suite.js';

for (const engine of postgresEngines()) {
  // `replica`: a pool of its own, as another server process would have.
  const make = async (clock: FakeClock, table = freshTable('sessions'), replica = false) => {
    const backend = new PostgresSessionBackend({
      pool: replica ? testPool(engine.url, 3) : sharedPool(engine.url),
      table,
      clock,
      cleanupIntervalMs: 0,
    });
    await backend.ensureSchema();
    return { backend, table };
  };
  const tables = new WeakMap<object, string>();

  describeSessionStore(
    `PostgreSQL (${engine.name})`,
    () =>
      engine.url
        ? {
            create: async (clock) => {
              const { backend, table } = await make(clock);
              tables.set(backend, table);
              return backend;
            },
            peer: async (backend, clock) => (await make(clock, tables.get(backend), true)).backend,
          }
        : undefined,
    engine.skipReason,
  );

  describe.skipIf(!engine.url)(
    `PostgresSessionBackend on ${engine.name}${engine.url ? '' : ` (skipped: ${engine.skipReason})`}`,
    () => {
      it('treats an expired row as absent everywhere, and cleanup() deletes exactly the expired rows', async () => {
        const clock = new FakeClock();
        const { backend, table } = await make(clock);
        await backend.set('ns', 'short', { v: 1 }, { ttlMs: 1_000 });
        await backend.set('ns', 'long', { v: 2 }, { ttlMs: 60_000 });
        await backend.addMember('idx', 'k', 'm-short', 1_000);
        await backend.addMember('idx', 'k', 'm-long', 60_000);
        clock.advance(1_000);
        expect(await backend.get('ns', 'short')).toBeUndefined();
        expect(await backend.take('ns', 'short')).toBeUndefined();
        expect(await backend.count('ns')).toBe(1);
        expect(await backend.set('ns', 'short', { v: 3 }, { ttlMs: 1_000, onlyIfAbsent: true })).toBe(true);
        expect(await backend.get('ns', 'short')).toEqual({ v: 3 });
        clock.advance(1_000);
        expect(await backend.cleanup()).toBe(2); // the re-set entry and the short member
        const rows = await sharedPool(engine.url).query(`SELECT count(*)::int AS n FROM ${table}`);
        expect(rows.rows[0].n).toBe(1);
        expect(await backend.takeMembers('idx', 'k')).toEqual(['m-long']);
      });

      it('lets exactly one of 30 concurrent "set if absent" calls on separate pools win', async () => {
        const clock = new FakeClock();
        const { table } = await make(clock);
        const replicas = await Promise.all(Array.from({ length: 3 }, () => make(clock, table, true)));
        const results = await Promise.all(
          Array.from({ length: 30 }, (_, i) =>
            replicas[i % 3]!.backend.set('ns', 'once', { i }, { ttlMs: 60_000, onlyIfAbsent: true }),
          ),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
      });

      it('hands a single-use entry to exactly one of 30 concurrent takers on separate pools', async () => {
        const clock = new FakeClock();
        const { table, backend } = await make(clock);
        const replicas = await Promise.all(Array.from({ length: 3 }, () => make(clock, table, true)));
        await backend.set('state', 's1', { code: 'x' }, { ttlMs: 60_000 });
        const results = await Promise.all(
          Array.from({ length: 30 }, (_, i) => replicas[i % 3]!.backend.take('state', 's1')),
        );
        expect(results.filter((value) => value !== undefined)).toEqual([{ code: 'x' }]);
      });

      it('refuses bad keys and table names, and works for two replicas of the session store', async () => {
        const clock = new FakeClock();
        const { backend, table } = await make(clock);
        await expect(backend.get('ns', '')).rejects.toBeInstanceOf(InvalidInputError);
        await expect(backend.get('ns', 'k'.repeat(513))).rejects.toBeInstanceOf(InvalidInputError);
        expect(() => new PostgresSessionBackend({ pool: sharedPool(engine.url), table: 'x;drop' })).toThrow(
          ConfigurationError,
        );
        const a = new OAuth21SessionStore({ backend, clock });
        const b = new OAuth21SessionStore({ backend: (await make(clock, table, true)).backend, clock });
        await a.storeSession('alice@example.com', { mcpSessionId: 'mcp-pg' });
        const { token } = await a.issueBearerToken('alice@example.com');
        expect((await b.verifyBearerToken(token)).extra).toEqual({ userId: 'alice@example.com' });
        expect(await b.getUserByMcpSession('mcp-pg')).toBe('alice@example.com');
      });

      it('reports a missing table as ConfigurationError naming ensureSchema', async () => {
        const backend = new PostgresSessionBackend({
          pool: sharedPool(engine.url),
          table: freshTable('none'),
          cleanupIntervalMs: 0,
        });
        const error = await backend.get('ns', 'k').catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ConfigurationError);
        expect((error as ConfigurationError).hint).toContain('ensureSchema');
        await backend.close();
      });
    },
  );
}
