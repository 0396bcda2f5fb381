/**
 * PostgresCredentialStore against real PostgreSQL: PGlite (always) and the distribution's server
 * (where installed, with real concurrent transactions and real roles), through the `pg` driver.
 */
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import type { Pool, PoolClient } from 'pg';
import { describe, expect, it } from 'vitest';
import {
  ConfigurationError,
  ConflictError,
  createCredentialStore,
  EncryptedCredentialStore,
  InvalidInputError,
  Keyring,
  StorageForbiddenError,
  StorageUnavailableError,
  type StoreOperationEvent,
} from '../../src/index.js';
import { PostgresCredentialStore } from '../../src/postgres/index.js';
import { describeCredentialStoreContract, sampleCredentials } from '../../src/testing/index.js';
import { freshTable, postgresEngines, sharedPool, testPool } from '../support/postgres-test-pool.js';

/**
 * Resolves once a CREATE of `table` waits on a lock held by `holder` (the race under test). Asked
 * through `observer`: inside its open transaction, `holder` would keep seeing one activity snapshot.
 */
async function waitForBlockedQuery(holder: PoolClient, observer: Pool, table: string): Promise<void> {
  const holderPid = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  for (let attempt = 0; attempt < 500; attempt++) {
    const waiting = await observer.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_stat_activity
        WHERE $1 = ANY(pg_blocking_pids(pid)) AND query LIKE $2`,
      [holderPid, `%CREATE TABLE IF NOT EXISTS%${table}%`],
    );
    if (Number(waiting.rows[0]!.n) > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`no query on ${table} ever waited for the uncommitted creation`);
}

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const item of iterable) out.push(item);
  return out.sort();
}

for (const engine of postgresEngines()) {
  const label = `${engine.name}${engine.url ? '' : ` (skipped: ${engine.skipReason})`}`;

  async function freshStore(options: { table?: string; listPageSize?: number } = {}) {
    const pool = sharedPool(engine.url);
    const table = options.table ?? freshTable('creds');
    const store = new PostgresCredentialStore({
      pool,
      table,
      ...(options.listPageSize ? { listPageSize: options.listPageSize } : {}),
    });
    await store.ensureSchema();
    return { store, pool, table };
  }

  if (engine.url) {
    describeCredentialStoreContract(`PostgresCredentialStore on ${engine.name}`, {
      createStore: async () => (await freshStore()).store,
      corruptRecord: async (store, userId) => {
        const pool = sharedPool(engine.url);
        const table = (store as PostgresCredentialStore).table;
        await pool.query(
          `UPDATE ${table} SET record = '{"token": 42, "scopes": "no"}'::jsonb WHERE user_id = $1`,
          [userId],
        );
      },
      createUnavailableStore: () =>
        new PostgresCredentialStore({
          connectionString: 'postgres://postgres@127.0.0.1:9/postgres',
          maxConnections: 1,
        }),
      disposeStore: async (store) => (store as PostgresCredentialStore).close(),
    });
  } else {
    describe.skip(`PostgresCredentialStore contract on ${label}`, () => {
      it('needs the engine', () => {});
    });
  }

  describe.skipIf(!engine.url)(`PostgresCredentialStore on ${label}`, () => {
    it('writes one row per user with the record as JSONB, and compare-and-swap in one statement', async () => {
      const { store, pool, table } = await freshStore();
      const record = sampleCredentials('alice@example.com');
      const version = await store.put(record.userId, record);
      const rows = await pool.query(`SELECT user_id, record, version, updated_at FROM ${table}`);
      expect(rows.rows).toHaveLength(1);
      expect(rows.rows[0]).toMatchObject({ user_id: 'alice@example.com', version });
      expect(rows.rows[0].record).toMatchObject({ userId: 'alice@example.com', scopes: record.scopes });
      expect(rows.rows[0].updated_at).toBeInstanceOf(Date);
      const types = await pool.query(
        `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position`,
        [table],
      );
      expect(types.rows.map((row) => `${row.column_name}:${row.data_type}`)).toEqual([
        'user_id:text',
        'record:jsonb',
        'version:text',
        'updated_at:timestamp with time zone',
      ]);
    });

    it('lets exactly one of 20 compare-and-swap writers on separate pools win (other replicas)', async () => {
      const { store, table } = await freshStore();
      const userId = 'race@example.com';
      const base = await store.put(userId, sampleCredentials(userId));
      const replicas = Array.from(
        { length: 4 },
        () => new PostgresCredentialStore({ pool: testPool(engine.url), table }),
      );
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) =>
          replicas[i % replicas.length]!.put(userId, sampleCredentials(userId), { ifVersion: base }),
        ),
      );
      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
      for (const result of results) {
        if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(ConflictError);
      }
    });

    it('lists by keyset pages: every id exactly once across several pages', async () => {
      const { store } = await freshStore({ listPageSize: 7 });
      const users = Array.from({ length: 25 }, (_, i) => `user${String(i).padStart(2, '0')}@example.com`);
      for (const user of users) await store.put(user, sampleCredentials(user));
      const events: StoreOperationEvent[] = [];
      const observed = new PostgresCredentialStore({
        pool: sharedPool(engine.url),
        table: store.table,
        listPageSize: 7,
        onOperation: (event) => events.push(event),
      });
      expect(await collect(observed.list())).toEqual(users);
      expect(events).toEqual([
        expect.objectContaining({ operation: 'list', outcome: 'ok', count: 25, store: 'postgres' }),
      ]);
    });

    it('creates its table idempotently, also when ten replicas start at once', async () => {
      const table = freshTable('ensure');
      const stores = Array.from(
        { length: 10 },
        () => new PostgresCredentialStore({ pool: testPool(engine.url, 2), table }),
      );
      await Promise.all(stores.map((store) => store.ensureSchema()));
      await stores[0]!.ensureSchema();
      await stores[0]!.put('a@example.com', sampleCredentials('a@example.com'));
      expect(await collect(stores[9]!.list())).toEqual(['a@example.com']);
    });

    it.skipIf(engine.name === 'PGlite')(
      `creates its table when another replica is creating it in a transaction not yet committed${
        engine.name === 'PGlite'
          ? ' (skipped: PGlite serves one connection at a time, so no query can wait on another)'
          : ''
      }`,
      async () => {
        const table = freshTable('racing');
        const other = await testPool(engine.url, 1).connect();
        try {
          await other.query('BEGIN');
          await other.query(`CREATE TABLE ${table} (user_id text PRIMARY KEY)`);
          const store = new PostgresCredentialStore({ pool: testPool(engine.url, 2), table });
          // Its IF NOT EXISTS cannot see the uncommitted table; it waits on the catalog, then loses.
          const ensured = store.ensureSchema();
          await waitForBlockedQuery(other, sharedPool(engine.url), table);
          await other.query('COMMIT');
          await expect(ensured).resolves.toBeUndefined();
        } finally {
          other.release();
        }
      },
    );

    it.each([
      ['a composite type (IF NOT EXISTS skips)', 'AS (a int)'],
      ['an enum type (42710)', "AS ENUM ('a')"],
    ])('refuses to call %s of the same name a table', async (_kind, definition) => {
      const table = freshTable('typed');
      await sharedPool(engine.url).query(`CREATE TYPE ${table} ${definition}`);
      const store = new PostgresCredentialStore({ pool: sharedPool(engine.url), table });
      const error = await store.ensureSchema().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as ConfigurationError).message).toBe(`PostgreSQL "${table}" exists but is not a table`);
    });

    it('reports a missing table as ConfigurationError with the fix', async () => {
      const store = new PostgresCredentialStore({
        pool: sharedPool(engine.url),
        table: freshTable('missing'),
      });
      const error = await store.get('a@example.com').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as ConfigurationError).hint).toContain('ensureSchema');
    });

    it('refuses table names that are not plain identifiers, before any SQL runs', () => {
      for (const table of [
        'x; DROP TABLE y',
        'Upper',
        'a.b.c',
        '"quoted"',
        '',
        'x'.repeat(64),
        'a-b',
        'a b',
      ]) {
        expect(() => new PostgresCredentialStore({ pool: sharedPool(engine.url), table }), table).toThrow(
          ConfigurationError,
        );
      }
      expect(
        new PostgresCredentialStore({ pool: sharedPool(engine.url), table: 'public.creds_ok' }).table,
      ).toBe('public.creds_ok');
    });

    it('is what createCredentialStore builds for postgres:// and postgresql://, tables created on request', async () => {
      const table = freshTable('spec');
      for (const scheme of ['postgres', 'postgresql']) {
        const spec = engine.url.replace(/^postgres/, scheme);
        const store = (await createCredentialStore(spec, {
          postgres: { table, maxConnections: 2 },
          createTables: true,
        })) as PostgresCredentialStore;
        expect(store).toBeInstanceOf(PostgresCredentialStore);
        await store.put('spec@example.com', sampleCredentials('spec@example.com'));
        expect(await collect(store.list())).toEqual(['spec@example.com']);
        await store.close();
      }
    });

    it('keeps secrets sealed at rest under encrypted+postgres://', async () => {
      const table = freshTable('sealed');
      const keyring = new Keyring([{ id: 'k1', key: randomBytes(32) }]);
      const store = await createCredentialStore(`encrypted+${engine.url}`, {
        postgres: { table, maxConnections: 2 },
        createTables: true,
        encryption: { keyring },
      });
      expect(store).toBeInstanceOf(EncryptedCredentialStore);
      const record = sampleCredentials('sealed@example.com');
      await store.put(record.userId, record);
      expect((await store.get(record.userId))?.credentials).toEqual(record);
      const raw = await sharedPool(engine.url).query(`SELECT record::text AS text FROM ${table}`);
      expect(raw.rows[0].text).not.toContain(record.refreshToken);
      expect(raw.rows[0].text).toContain('mcpoc:v1:');
      await store.close?.();
    });

    it('ends the pool it made from a connection string on close(), and leaves an injected pool alone', async () => {
      const { store, pool } = await freshStore();
      await store.close();
      expect((await pool.query('SELECT 1 AS one')).rows[0].one).toBe(1);
      const owning = new PostgresCredentialStore({
        connectionString: engine.url,
        table: store.table,
        maxConnections: 1,
      });
      await owning.get('a@example.com');
      await owning.close();
      await owning.close();
    });
  });
}

describe('PostgresCredentialStore failures', () => {
  const server = postgresEngines()[1]!;

  it('rejects with StorageUnavailableError (never a crash) when nothing listens', async () => {
    const store = new PostgresCredentialStore({
      connectionString: 'postgres://postgres@127.0.0.1:9/postgres',
    });
    for (const call of [() => store.get('a@example.com'), () => collect(store.list())]) {
      await expect(call()).rejects.toBeInstanceOf(StorageUnavailableError);
    }
    await store.close();
  });

  it('refuses a configuration without pool or connection string, and hostile ids before any query', async () => {
    expect(() => new PostgresCredentialStore({})).toThrow(ConfigurationError);
    const queries: string[] = [];
    const store = new PostgresCredentialStore({
      pool: {
        query: async (text: string) => {
          queries.push(text);
          return { rows: [], rowCount: 0 };
        },
      },
    });
    await expect(store.get("x' OR '1'='1")).rejects.toBeInstanceOf(InvalidInputError);
    expect(queries).toEqual([]);
  });

  it.skipIf(!server.url)(
    `reports a wrong password as ConfigurationError without the password${server.url ? '' : ` (skipped: ${server.skipReason})`}`,
    async () => {
      const wrong = server.url.replace(/:\/\/postgres:[^@]+@/, '://postgres:not-the-password-123@');
      const store = new PostgresCredentialStore({ connectionString: wrong, maxConnections: 1 });
      const error = await store.get('a@example.com').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigurationError);
      const dump = `${(error as Error).message} ${JSON.stringify(error)} ${inspect(error, { showHidden: true, depth: 6 })}`;
      expect(dump).not.toContain('not-the-password-123');
      expect(dump).not.toContain(new URL(server.url).password);
      await store.close();
    },
  );

  it.skipIf(!server.url)(
    `reports a role without privileges as StorageForbiddenError naming the grant${server.url ? '' : ` (skipped: ${server.skipReason})`}`,
    async () => {
      const admin = testPool(server.url, 1);
      const table = freshTable('forbidden');
      const store = new PostgresCredentialStore({ pool: admin, table });
      await store.ensureSchema();
      const role = `reader_${table.slice(-12)}`;
      await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD 'role-password-1'`);
      await admin.query(`GRANT SELECT ON ${table} TO ${role}`);
      const url = new URL(server.url);
      url.username = role;
      url.password = 'role-password-1';
      const limited = new PostgresCredentialStore({ pool: testPool(url.toString(), 1), table });
      expect(await limited.get('a@example.com')).toBeUndefined();
      const error = await limited
        .put('a@example.com', sampleCredentials('a@example.com'))
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StorageForbiddenError);
      expect((error as StorageForbiddenError).hint).toContain(
        `GRANT SELECT, INSERT, UPDATE, DELETE ON ${table}`,
      );
      // ensureSchema on an existing table needs no CREATE right.
      await limited.ensureSchema();
    },
  );
});
