/**
 * PostgreSQL engines for tests (PGlite always; the distribution's server where installed), with
 * pools that are ended after the file, and fresh table names so tests never see each other's rows.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, inject } from 'vitest';

export interface PostgresEngine {
  name: string;
  /** '' when the engine is absent. */
  url: string;
  skipReason: string;
}

/** PGlite and the system server, each with its URL or the reason it is absent. */
export function postgresEngines(): PostgresEngine[] {
  return [
    { name: 'PGlite', url: inject('pgliteUrl'), skipReason: '' },
    {
      name: 'PostgreSQL server',
      url: inject('postgresUrl'),
      skipReason: inject('postgresSkipReason') || 'no PostgreSQL server',
    },
  ];
}

const pools: pg.Pool[] = [];
afterAll(async () => {
  shared.clear();
  await Promise.all(pools.splice(0).map((pool) => pool.end()));
});

const shared = new Map<string, pg.Pool>();

/** The file's one pool on `url` (4 connections), ended after the test file. */
export function sharedPool(url: string): pg.Pool {
  let pool = shared.get(url);
  if (pool === undefined) {
    pool = testPool(url);
    shared.set(url, pool);
  }
  return pool;
}

/** A pool of its own on `url` (another replica), ended after the test file. */
export function testPool(url: string, max = 4): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max });
  pool.on('error', () => {});
  pools.push(pool);
  return pool;
}

/** A table name no other test uses. */
export function freshTable(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}
