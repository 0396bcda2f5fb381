/**
 * Vitest global setup: starts the real peers every test file shares, on 127.0.0.1, and hands their
 * addresses to the test workers through `inject()`. Peers that need a system package (redis-server,
 * PostgreSQL, moto) are skipped with a printed reason where absent; the tests that need them say so.
 */
import type { TestProject } from 'vitest/node';
import { startS3Endpoint } from '../../dev/s3-endpoint.js';
import { startDynalite, startMoto } from './aws-emulators.js';
import { startPglite, startSystemPostgres } from './postgres-server.js';
import { startRedisServer } from './redis-server.js';
import './provided-context.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [s3, redis, pglite, systemPostgres, dynalite, moto] = await Promise.all([
    startS3Endpoint(),
    startRedisServer(),
    startPglite(),
    process.env.MCPOC_POSTGRES_URL
      ? { url: process.env.MCPOC_POSTGRES_URL, stop: async () => {} }
      : startSystemPostgres(),
    startDynalite(),
    startMoto(),
  ]);
  project.provide('s3Endpoint', s3.endpoint);
  if (!redis) {
    console.warn(
      '[skip] redis-server is not installed: the Redis tests will skip (apt-get install redis-server)',
    );
  }
  project.provide('redisUrl', redis?.url ?? '');
  project.provide('pgliteUrl', pglite.url);
  if ('skipped' in systemPostgres) {
    console.warn(`[skip] ${systemPostgres.skipped}: the PostgreSQL tests run on PGlite only`);
  }
  project.provide('postgresUrl', 'url' in systemPostgres ? systemPostgres.url : '');
  project.provide('postgresSkipReason', 'skipped' in systemPostgres ? systemPostgres.skipped : '');
  project.provide('dynaliteEndpoint', dynalite.endpoint);
  if ('skipped' in moto) console.warn(`[skip] ${moto.skipped}: the moto tests will skip`);
  project.provide('motoEndpoint', 'endpoint' in moto ? moto.endpoint : '');
  project.provide('motoSkipReason', 'skipped' in moto ? moto.skipped : '');
  return async () => {
    await Promise.all([
      s3.close(),
      redis?.stop(),
      pglite.stop(),
      'stop' in systemPostgres ? systemPostgres.stop() : undefined,
      dynalite.stop(),
      'stop' in moto ? moto.stop() : undefined,
    ]);
  };
}
