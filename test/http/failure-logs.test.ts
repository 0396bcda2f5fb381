/**
 * Outages are visible: every failure that ends a request without what the user asked for is logged
 * once, at warn (outage) or error (someone must act), by the component that decided, with the user,
 * the operation, the code and the sanitised cause, and never a token. Each path runs against real
 * peers that the test stops or breaks: an S3 endpoint, redis-server, the provider, a file.
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, inject, it, vi } from 'vitest';
import { S3_TEST_CREDENTIALS, startS3Endpoint, testS3Client } from '../../dev/s3-endpoint.js';
import {
  type ExampleServer,
  startExampleServer,
  type V1ServerConfig,
} from '../../examples/express/server.js';
import { v1Kit } from '../../examples/support/client-kits.js';
import { type CredentialStore, FileCredentialStore, MemoryCredentialStore } from '../../src/index.js';
import { RedisSessionBackend } from '../../src/redis/index.js';
import { S3CredentialStore } from '../../src/s3/index.js';
import { TestBrowser } from '../../src/testing/browser.js';
import { type GoogleLikeProvider, startGoogleLikeProvider } from '../../src/testing/index.js';
import { type LogLine, OffsetClock, recordingLogger } from '../support/mcp-auth-harness.js';
import { startRedisServer } from '../support/redis-server.js';
import { ensureBucket } from '../support/s3-test-store.js';
import { makeTempDir } from '../support/temp-dir.js';

const USER = 'outage@example.com';
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => {});
});

interface Running {
  provider: GoogleLikeProvider;
  server: ExampleServer;
  clock: OffsetClock;
  lines: LogLine[];
  /** Every token and secret the test saw: none may appear in a log line. */
  secrets: string[];
  token: string;
}

async function signedIn(config: Partial<V1ServerConfig>): Promise<Running> {
  const provider = await startGoogleLikeProvider();
  cleanup.push(() => provider.close());
  const clock = new OffsetClock();
  const log = recordingLogger();
  const server = await startExampleServer({
    ...provider.clientSettings(),
    port: 0,
    clock,
    logger: log.logger,
    serverSecret: randomBytes(32).toString('base64url'),
    authRateLimit: false,
    store: new MemoryCredentialStore(),
    ...config,
  } as V1ServerConfig);
  cleanup.push(() => server.close());
  provider.setDefaultUser(USER);
  const { page } = await new TestBrowser().navigate(`${server.url}/auth/start`, () => false, {
    headers: { accept: 'application/json' },
  });
  const body = JSON.parse(page!.html) as { access_token?: string };
  expect(body.access_token, page!.html).toBeTruthy();
  const stored = await server.store.get(USER);
  return {
    provider,
    server,
    clock,
    lines: log.lines,
    secrets: [
      body.access_token!,
      stored!.credentials.accessToken,
      stored!.credentials.refreshToken!,
      provider.clientSecret,
      S3_TEST_CREDENTIALS.secretAccessKey,
    ],
    token: body.access_token!,
  };
}

async function callTool(running: Running) {
  const user = await v1Kit.connectWithToken(running.server.mcpUrl, running.token);
  try {
    return await user.callTool('get_profile');
  } finally {
    await user.close();
  }
}

/** The failure lines (warn and error), checked to be one, safe and complete. */
function expectOneFailure(running: Running, expected: Record<string, unknown>, level: 'warn' | 'error') {
  const failures = running.lines.filter((line) => line.level === 'warn' || line.level === 'error');
  const matching = failures.filter((line) => line.fields.code === expected.code);
  expect(matching, JSON.stringify(failures, null, 1)).toHaveLength(1);
  expect(matching[0]!.level).toBe(level);
  expect(matching[0]!.fields).toMatchObject(expected);
  // A backend's or provider's error is kept as a sanitised cause; a corrupt record has none (its
  // content is never quoted).
  if (expected.code !== 'CORRUPT') {
    expect(matching[0]!.fields.cause).toMatchObject({
      name: expect.any(String),
      message: expect.any(String),
    });
  }
  const everything = JSON.stringify(running.lines);
  for (const secret of running.secrets) expect(everything).not.toContain(secret);
}

describe('failures are logged once by the component that decided', () => {
  it('credential store down during a tool call: one warn from the manager, the tool says try again', async () => {
    const endpoint = await startS3Endpoint();
    cleanup.push(() => endpoint.close());
    const client = testS3Client(endpoint.endpoint, { maxAttempts: 1 });
    await ensureBucket(client, 'outage');
    const store = new S3CredentialStore({ client, bucket: 'outage', prefix: 'p/' });
    const running = await signedIn({ store });
    await endpoint.close();
    // Idle past the in-memory copy's lifetime, its token still fresh: answered from memory, while
    // the store read behind it fails (one warn).
    running.clock.advance(61_000);
    expect((await callTool(running)).isError).toBe(false);
    // The read behind it fails on its own time (a refused connection): wait for its one line.
    await vi.waitFor(() =>
      expectOneFailure(
        running,
        { component: 'manager', operation: 'getValidCredentials', userId: USER, code: 'STORAGE_UNAVAILABLE' },
        'warn',
      ),
    );
    // The token expired: the store must be asked before answering, and the tool says try again.
    running.clock.advance(3_600_000);
    running.lines.length = 0;
    const result = await callTool(running);
    expect(result).toMatchObject({ isError: true, text: expect.stringMatching(/temporarily unavailable/) });
    expectOneFailure(
      running,
      { component: 'manager', operation: 'getValidCredentials', userId: USER, code: 'STORAGE_UNAVAILABLE' },
      'warn',
    );
  });

  it('a corrupt record: one error naming the user, never the content', async () => {
    const dir = await makeTempDir();
    cleanup.push(() => dir.dispose());
    const running = await signedIn({ store: new FileCredentialStore({ directory: dir.path }) });
    await writeFile(join(dir.path, `${USER}.json`), '{"token": "ya29.PARTIAL-WRITE', { mode: 0o600 });
    running.secrets.push('PARTIAL-WRITE');
    running.clock.advance(3_600_000); // the cached token expired: the store is read before answering
    expect((await callTool(running)).isError).toBe(true);
    expectOneFailure(running, { component: 'manager', userId: USER, code: 'CORRUPT' }, 'error');
  });

  it('the provider unreachable while refreshing: one warn after the retries (which log at debug)', async () => {
    const running = await signedIn({});
    running.clock.advance(3_600_000);
    await running.provider.close();
    expect((await callTool(running)).text).toMatch(/temporarily unavailable/);
    expectOneFailure(running, { component: 'manager', userId: USER, code: 'PROVIDER_ERROR' }, 'warn');
    expect(running.lines.filter((line) => line.message === 'refresh attempt failed')).toHaveLength(3);
  });

  it('the provider failing (HTTP 500) while refreshing: one warn with the provider status', async () => {
    const running = await signedIn({});
    running.clock.advance(3_600_000);
    running.provider.failNext(3, { status: 500, error: 'backend_error', grantType: 'refresh_token' });
    expect((await callTool(running)).isError).toBe(true);
    expectOneFailure(running, { component: 'manager', code: 'PROVIDER_ERROR' }, 'warn');
  });

  it('a refused OAuth client (invalid_client) is configuration: one error with the fix', async () => {
    const running = await signedIn({});
    running.clock.advance(3_600_000);
    running.provider.failNext(1, { status: 401, error: 'invalid_client', grantType: 'refresh_token' });
    expect((await callTool(running)).isError).toBe(true);
    expectOneFailure(
      running,
      { component: 'manager', code: 'CONFIGURATION', hint: expect.any(String) },
      'error',
    );
  });

  it.skipIf(!inject('redisUrl'))(
    `the session backend down: one warn from the session store, no 200${inject('redisUrl') ? '' : ' (skipped: redis-server is not installed)'}`,
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
      const running = await signedIn({
        sessionBackend: new RedisSessionBackend({ client, keyPrefix: 'outage:' }),
      });
      await redis.stop();
      running.clock.advance(6_000); // past the verified-token cache
      const response = await fetch(running.server.mcpUrl, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${running.token}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      });
      expect(response.status).toBeGreaterThanOrEqual(500);
      expectOneFailure(running, { component: 'session-store', code: 'STORAGE_UNAVAILABLE' }, 'warn');
    },
  );

  it('a sign-in against a misconfigured store: one error at the callback, a generic 500 page', async () => {
    const client = testS3Client(inject('s3Endpoint'), { maxAttempts: 1 });
    const store: CredentialStore = new S3CredentialStore({
      client,
      bucket: 'no-such-bucket-here',
      prefix: '',
    });
    const provider = await startGoogleLikeProvider();
    cleanup.push(() => provider.close());
    const log = recordingLogger();
    const server = await startExampleServer({
      ...provider.clientSettings(),
      port: 0,
      logger: log.logger,
      serverSecret: randomBytes(32).toString('base64url'),
      authRateLimit: false,
      store,
    } as V1ServerConfig);
    cleanup.push(() => server.close());
    const { page } = await new TestBrowser().navigate(`${server.url}/auth/start`, () => false, {
      headers: { accept: 'application/json' },
    });
    expect(page!.status).toBe(500);
    expect(page!.html).not.toContain('no-such-bucket');
    const failures = log.lines.filter((line) => line.level === 'error' || line.level === 'warn');
    expect(failures, JSON.stringify(failures)).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      level: 'error',
      fields: { component: 'manager', operation: 'completeAuthorization', code: 'CONFIGURATION' },
    });
  });
});
