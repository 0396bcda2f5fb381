/**
 * checkHealth and its handler: the store, the session backend and the provider each reported on
 * their own, against real peers the test stops (an S3 endpoint, redis-server, the provider), through
 * every adapter (Express v1 and v2, Hono), and never more than one check per cache period.
 */
import { createServer, type Server } from 'node:http';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { startS3Endpoint, testS3Client } from '../../dev/s3-endpoint.js';
import { startExampleServer as startExpressV1 } from '../../examples/express/server.js';
import { startExpressV2Server as startExpressV2 } from '../../examples/express-v2/server.js';
import { startHonoServer as startHono } from '../../examples/hono/server.js';
import { checkHealth, createHealthHandler, HEALTH_PROBE_USER } from '../../src/http/index.js';
import { MemoryCredentialStore, type StoreOperationEvent } from '../../src/index.js';
import { RedisSessionBackend } from '../../src/redis/index.js';
import { S3CredentialStore } from '../../src/s3/index.js';
import { MemorySessionBackend, OAuth21SessionStore } from '../../src/session/index.js';
import { startGoogleLikeProvider } from '../../src/testing/index.js';
import { FakeClock } from '../support/clock.js';
import { recordingLogger } from '../support/mcp-auth-harness.js';
import { startRedisServer } from '../support/redis-server.js';
import { ensureBucket } from '../support/s3-test-store.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => {});
});

async function s3Store() {
  const endpoint = await startS3Endpoint();
  cleanup.push(() => endpoint.close());
  const client = testS3Client(endpoint.endpoint, { maxAttempts: 1 });
  await ensureBucket(client, 'health');
  return { endpoint, store: new S3CredentialStore({ client, bucket: 'health', prefix: 'p/' }) };
}

describe('checkHealth', () => {
  it('reports each component with its latency, and which one is down', async () => {
    const { endpoint, store } = await s3Store();
    const provider = await startGoogleLikeProvider();
    cleanup.push(() => provider.close());
    const sessions = new OAuth21SessionStore();
    const options = { store, sessions, provider: provider.endpoints.oauth2FederatedSignonJwkCertsUrl };
    const healthy = await checkHealth(options);
    expect(healthy).toEqual({
      status: 'ok',
      checks: {
        store: { ok: true, latencyMs: expect.any(Number) },
        sessions: { ok: true, latencyMs: expect.any(Number) },
        provider: { ok: true, latencyMs: expect.any(Number) },
      },
    });
    await provider.close();
    expect(await checkHealth(options)).toMatchObject({
      status: 'degraded',
      checks: { store: { ok: true }, provider: { ok: false, error: 'ECONNREFUSED' } },
    });
    await endpoint.close();
    const down = await checkHealth(options);
    expect(down).toMatchObject({
      status: 'down',
      checks: { store: { ok: false, error: 'STORAGE_UNAVAILABLE' } },
    });
    // Codes only: no bucket, prefix, URL or user.
    expect(JSON.stringify(down)).not.toMatch(/health\/|p\/|127\.0\.0\.1|@/);
  });

  it.skipIf(!inject('redisUrl'))(
    `reports the session backend down on its own${inject('redisUrl') ? '' : ' (skipped: redis-server is not installed)'}`,
    async () => {
      const redis = (await startRedisServer())!;
      cleanup.push(() => redis.stop());
      const client = new Redis(redis.url, {
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        commandTimeout: 500,
      });
      client.on('error', () => {});
      cleanup.push(async () => client.disconnect());
      await new Promise((resolve) => client.once('ready', resolve));
      const backend = new RedisSessionBackend({ client, keyPrefix: 'health:' });
      const sessions = new OAuth21SessionStore({ backend });
      const store = new MemoryCredentialStore();
      expect((await checkHealth({ store, sessions })).status).toBe('ok');
      expect((await checkHealth({ store, sessions: backend })).status).toBe('ok');
      await redis.stop();
      expect(await checkHealth({ store, sessions })).toMatchObject({
        status: 'down',
        checks: { store: { ok: true }, sessions: { ok: false, error: 'STORAGE_UNAVAILABLE' } },
      });
    },
  );

  it('times a component out after timeoutMs instead of hanging', async () => {
    const silent: Server = createServer(() => {
      // never answers
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanup.push(async () => {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    });
    const started = Date.now();
    const report = await checkHealth({
      provider: `http://127.0.0.1:${(silent.address() as { port: number }).port}/jwks`,
      timeoutMs: 200,
    });
    expect(report).toMatchObject({
      status: 'degraded',
      checks: { provider: { ok: false, error: 'TIMEOUT' } },
    });
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

describe('the health handler', () => {
  it('checks once per cache period however many probes arrive, answers 503 when down, logs status changes', async () => {
    const events: StoreOperationEvent[] = [];
    const store = new MemoryCredentialStore({ onOperation: (event) => events.push(event) });
    const clock = new FakeClock();
    const log = recordingLogger();
    const backend = new MemorySessionBackend();
    const handler = createHealthHandler({
      store,
      sessions: backend,
      cacheMs: 5_000,
      clock,
      logger: log.logger,
    });
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => handler(new Request('http://x/healthz'))),
    );
    expect(answers.every((response) => response.status === 200)).toBe(true);
    expect(events.filter((event) => event.userId === HEALTH_PROBE_USER)).toHaveLength(1);
    expect(answers[0]!.headers.get('cache-control')).toBe('no-store');
    clock.advance(5_000);
    backend.get = async () => {
      throw new Error('backend gone');
    };
    const down = await handler(new Request('http://x/healthz'));
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({
      status: 'down',
      checks: { sessions: { ok: false, error: 'UNREACHABLE' } },
    });
    expect(log.lines.filter((line) => line.message === 'health down')).toHaveLength(1);
  });

  for (const [name, start] of [
    ['Express (SDK v1)', startExpressV1],
    ['Express (SDK v2)', startExpressV2],
    ['Hono', startHono],
  ] as const) {
    it(`answers at /healthz of the ${name} example`, async () => {
      const provider = await startGoogleLikeProvider();
      cleanup.push(() => provider.close());
      const server = await start({
        ...provider.clientSettings(),
        port: 0,
        store: new MemoryCredentialStore(),
      });
      cleanup.push(() => server.close());
      const response = await fetch(`${server.url}/healthz`);
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({
        status: 'ok',
        checks: { store: { ok: true }, sessions: { ok: true }, provider: { ok: true } },
      });
    });
  }
});
