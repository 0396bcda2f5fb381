/**
 * Each decision of the PostgreSQL store by its own test, against PGlite: construction and its
 * limits, the pool it owns (and the one it does not), a record the driver hands over as text, what
 * conflicts say and name, and what each operation reports. A scripted pool stands in only for an
 * answer no PostgreSQL can give (unparsable JSON text in a jsonb column).
 */
import pg from 'pg';
import { describe, expect, it, vi } from 'vitest';
import {
  ConfigurationError,
  ConflictError,
  CorruptCredentialsError,
  type StoreOperationEvent,
} from '../../src/index.js';
import { PostgresCredentialStore } from '../../src/postgres/index.js';
import { sampleCredentials } from '../../src/testing/index.js';
import { freshTable, postgresEngines, sharedPool, testPool } from '../support/postgres-test-pool.js';
import { rejectionOf } from '../support/rejection.js';

const USER = 'decided@example.com';
const pglite = postgresEngines()[0]!;

async function freshStore(options: Partial<ConstructorParameters<typeof PostgresCredentialStore>[0]> = {}) {
  const store = new PostgresCredentialStore({
    pool: sharedPool(pglite.url),
    table: freshTable('decide'),
    ...options,
  });
  await store.ensureSchema();
  return store;
}

describe('construction', () => {
  it('needs a pool or a connection string, and a whole positive list page size', () => {
    expect(() => new PostgresCredentialStore(undefined as never)).toThrow(ConfigurationError);
    expect(() => new PostgresCredentialStore({})).toThrow(ConfigurationError);
    const pool = sharedPool(pglite.url);
    for (const listPageSize of [0, -1, 1.5]) {
      expect(() => new PostgresCredentialStore({ pool, listPageSize }), String(listPageSize)).toThrow(
        'listPageSize must be a positive integer',
      );
    }
    expect(new PostgresCredentialStore({ pool, listPageSize: 1 }).table).toBe('mcp_oauth_credentials');
  });

  it('lists one id per query with a page size of 1', async () => {
    const store = await freshStore({ listPageSize: 1 });
    for (const user of ['a@example.com', 'b@example.com']) await store.put(user, sampleCredentials(user));
    const events: StoreOperationEvent[] = [];
    const observed = new PostgresCredentialStore({
      pool: sharedPool(pglite.url),
      table: store.table,
      listPageSize: 1,
      onOperation: (event) => events.push(event),
    });
    const ids: string[] = [];
    for await (const id of observed.list()) ids.push(id);
    expect(ids).toEqual(['a@example.com', 'b@example.com']);
    expect(events).toEqual([expect.objectContaining({ operation: 'list', outcome: 'ok', count: 2 })]);
  });
});

describe('the pool', () => {
  it('ends the pool it made from a connection string on close, and leaves an injected one open', async () => {
    const end = vi.spyOn(pg.Pool.prototype, 'end');
    try {
      const owned = new PostgresCredentialStore({ connectionString: pglite.url, table: freshTable('owned') });
      await owned.ensureSchema();
      await owned.close();
      expect(end).toHaveBeenCalledTimes(1);
      const pool = testPool(pglite.url);
      const injected = new PostgresCredentialStore({ pool, table: freshTable('injected') });
      await injected.ensureSchema();
      await injected.close();
      expect(end).toHaveBeenCalledTimes(1);
      expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      end.mockRestore();
    }
  });

  it('reads a record the driver hands over as text (a pool without type parsing) like any other', async () => {
    const store = await freshStore();
    const record = sampleCredentials(USER);
    const version = await store.put(USER, record);
    const rawPool = new pg.Pool({
      connectionString: pglite.url,
      max: 1,
      types: { getTypeParser: () => (value: string) => value },
    });
    try {
      const raw = new PostgresCredentialStore({ pool: rawPool, table: store.table });
      expect(await raw.get(USER)).toEqual({ credentials: record, version });
    } finally {
      await rawPool.end();
    }
  });

  it('reports unparsable record text as CorruptCredentialsError naming the user', async () => {
    const scripted = {
      query: async () => ({ rows: [{ record: '{"accessToken": ', version: 'v1' }], rowCount: 1 }),
    };
    const error = await rejectionOf(new PostgresCredentialStore({ pool: scripted as never }).get(USER));
    expect(error).toBeInstanceOf(CorruptCredentialsError);
    expect((error as CorruptCredentialsError).userId).toBe(USER);
    expect((error as Error).message).toBe(`stored credentials for ${USER} are not valid JSON`);
  });
});

describe('conflicts and reports', () => {
  it('says which condition failed and names the user, for puts and deletes', async () => {
    const store = await freshStore();
    const first = await store.put(USER, sampleCredentials(USER));
    const exists = await rejectionOf(store.put(USER, sampleCredentials(USER), { ifVersion: null }));
    expect(exists).toBeInstanceOf(ConflictError);
    expect((exists as Error).message).toBe(`credentials for ${USER} already exist`);
    expect((exists as ConflictError).userId).toBe(USER);
    await store.put(USER, sampleCredentials(USER));
    const stale = await rejectionOf(store.put(USER, sampleCredentials(USER), { ifVersion: first }));
    expect((stale as Error).message).toBe(`credentials for ${USER} changed since version was read`);
    expect((stale as ConflictError).userId).toBe(USER);
    const staleDelete = await rejectionOf(store.delete(USER, { ifVersion: first }));
    expect(staleDelete).toBeInstanceOf(ConflictError);
    expect((staleDelete as ConflictError).userId).toBe(USER);
  });

  it('reports each outcome to onOperation; a listener that throws is logged, never raised', async () => {
    const events: StoreOperationEvent[] = [];
    const base = await freshStore();
    const store = new PostgresCredentialStore({
      pool: sharedPool(pglite.url),
      table: base.table,
      onOperation: (event) => events.push(event),
    });
    await store.get(USER);
    await store.put(USER, sampleCredentials(USER));
    await store.get(USER);
    await store.delete(USER);
    await store.delete(USER);
    expect(events.map((event) => `${event.operation} ${event.outcome}`)).toEqual([
      'get miss',
      'put ok',
      'get ok',
      'delete ok',
      'delete miss',
    ]);
    const throwing = new PostgresCredentialStore({
      pool: sharedPool(pglite.url),
      table: base.table,
      onOperation: () => {
        throw new Error('listener bug');
      },
    });
    expect(await throwing.get(USER)).toBeUndefined();
  });
});
