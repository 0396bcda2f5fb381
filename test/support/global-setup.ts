/**
 * Vitest global setup: starts the real peers every test file shares, on 127.0.0.1, and hands their
 * addresses to the test workers through `inject()`.
 */
import type { TestProject } from 'vitest/node';
import { startS3Endpoint } from '../../examples/support/s3-endpoint.js';
import { startRedisServer } from './redis-server.js';
import './provided-context.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const s3 = await startS3Endpoint();
  project.provide('s3Endpoint', s3.endpoint);
  const redis = await startRedisServer();
  if (!redis)
    console.warn(
      '[skip] redis-server is not installed: the Redis tests will skip (apt-get install redis-server)',
    );
  project.provide('redisUrl', redis?.url ?? '');
  return async () => {
    await s3.close();
    await redis?.stop();
  };
}
