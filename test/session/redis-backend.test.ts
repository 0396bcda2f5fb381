import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, inject, it } from 'vitest';
import {
  AccessDeniedError,
  InvalidInputError,
  InvalidTokenError,
  StorageUnavailableError,
} from '../../src/index.js';
import { RedisSessionBackend } from '../../src/redis/index.js';
import { OAuth21SessionStore } from '../../src/session/index.js';
import { FakeClock } from '../support/clock.js';
import { type RecordedLine, recordingLogger } from '../support/recording-logger.js';
import { redisServerBinary, startRedisServer } from '../support/redis-server.js';

const redisUrl = inject('redisUrl');
const VERIFIER = 'v'.repeat(43);

describe.skipIf(!redisUrl)(
  `two replicas on one Redis${redisUrl ? '' : ' (skipped: redis-server is not installed)'}`,
  () => {
    const clients: Redis[] = [];
    afterEach(async () => {
      await Promise.all(clients.splice(0).map((client) => client.quit()));
    });

    async function replicas() {
      const keyPrefix = `replicas-${randomBytes(6).toString('hex')}:`;
      const clock = new FakeClock();
      const make = async () => {
        const client = new Redis(redisUrl, { lazyConnect: true });
        await client.connect();
        clients.push(client);
        return new OAuth21SessionStore({ backend: new RedisSessionBackend({ client, keyPrefix }), clock });
      };
      return { a: await make(), b: await make(), clock, keyPrefix };
    }

    it('behave as one store: a token issued on A verifies on B; sign-out on B kills it on A', async () => {
      const { a, b } = await replicas();
      await a.storeSession('alice@example.com', { scopes: ['openid'], mcpSessionId: 'mcp-1' });
      const { token } = await a.issueBearerToken('alice@example.com');
      expect((await b.verifyBearerToken(token)).extra).toEqual({ userId: 'alice@example.com' });
      expect(await b.getUserByMcpSession('mcp-1')).toBe('alice@example.com');
      await b.storeSession('bob@example.com');
      await expect(b.bindMcpSession('mcp-1', 'bob@example.com')).rejects.toBeInstanceOf(AccessDeniedError);
      await b.removeSession('alice@example.com');
      await expect(a.verifyBearerToken(token)).rejects.toBeInstanceOf(InvalidTokenError);
      expect(await a.getUserByMcpSession('mcp-1')).toBeUndefined();
    });

    it('see a token revoked on A within the verified-token cache lifetime on B, and a sign-out at once', async () => {
      const { a, b, clock } = await replicas();
      await a.storeSession('alice@example.com');
      const first = await a.issueBearerToken('alice@example.com');
      const second = await a.issueBearerToken('alice@example.com');
      await b.verifyBearerToken(first.token); // B remembers this verification
      await a.revokeBearerToken(first.token);
      await expect(a.verifyBearerToken(first.token)).rejects.toBeInstanceOf(InvalidTokenError);
      await expect(b.verifyBearerToken(first.token)).resolves.toBeDefined(); // within the 5 s cache lifetime
      clock.advance(5_000);
      await expect(b.verifyBearerToken(first.token)).rejects.toBeInstanceOf(InvalidTokenError);
      await b.verifyBearerToken(second.token);
      await a.removeSession('alice@example.com');
      await expect(b.verifyBearerToken(second.token)).rejects.toBeInstanceOf(InvalidTokenError);
    });

    it('consume a state stored on A exactly once across 10 consumers on A and 10 on B', async () => {
      const { a, b } = await replicas();
      const state = randomBytes(24).toString('base64url');
      await a.storeOAuthState(state, { codeVerifier: VERIFIER });
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).consumeOAuthState(state)),
      );
      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    });

    it('let exactly one of two replicas win a race to bind one MCP session to different users', async () => {
      const { a, b } = await replicas();
      await a.storeSession('alice@example.com');
      await a.storeSession('bob@example.com');
      for (let round = 0; round < 20; round++) {
        const id = `race-${round}`;
        const results = await Promise.allSettled([
          a.bindMcpSession(id, 'alice@example.com'),
          b.bindMcpSession(id, 'bob@example.com'),
        ]);
        expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
        const winner = results[0].status === 'fulfilled' ? 'alice@example.com' : 'bob@example.com';
        expect(await a.getUserByMcpSession(id)).toBe(winner);
        expect(await b.getUserByMcpSession(id)).toBe(winner);
      }
    });

    it('use Redis expiry under the configured prefix', async () => {
      const { a, keyPrefix } = await replicas();
      await a.storeSession('alice@example.com');
      const { token } = await a.issueBearerToken('alice@example.com', { ttlMs: 60_000 });
      const probe = new Redis(redisUrl);
      clients.push(probe);
      const keys = await probe.keys(`${keyPrefix}*`);
      expect(keys.length).toBeGreaterThanOrEqual(3);
      for (const key of keys) {
        expect(key.startsWith(keyPrefix)).toBe(true);
        expect(key).not.toContain(token);
        const ttl = await probe.pttl(key);
        expect(ttl, key).toBeGreaterThan(0);
      }
      const tokenKey = keys.find((key) => key.startsWith(`${keyPrefix}token:`))!;
      expect(await probe.pttl(tokenKey)).toBeLessThanOrEqual(60_000);
    });

    it('refuse an empty or over-long key before sending anything, and accept 512 characters', async () => {
      const client = new Redis(redisUrl);
      clients.push(client);
      const backend = new RedisSessionBackend({
        client,
        keyPrefix: `keys-${randomBytes(4).toString('hex')}:`,
      });
      for (const key of ['', 'k'.repeat(513), 12 as unknown as string, ['k'] as unknown as string]) {
        await expect(backend.get('ns', key)).rejects.toBeInstanceOf(InvalidInputError);
        await expect(backend.set('ns', key, { v: 1 }, { ttlMs: 1_000 })).rejects.toBeInstanceOf(
          InvalidInputError,
        );
        await expect(backend.take('ns', key)).rejects.toBeInstanceOf(InvalidInputError);
        await expect(backend.delete('ns', key)).rejects.toBeInstanceOf(InvalidInputError);
        await expect(backend.addMember('ns', key, 'm', 1_000)).rejects.toBeInstanceOf(InvalidInputError);
        await expect(backend.claim('ns', key, 'marker', 1_000)).rejects.toBeInstanceOf(InvalidInputError);
      }
      const longest = 'k'.repeat(512);
      expect(await backend.set('ns', longest, { v: 1 }, { ttlMs: 10_000 })).toBe(true);
      expect(await backend.get('ns', longest)).toEqual({ v: 1 });
    });

    it('claim: nothing for a missing or unreadable entry; the first marker wins and every caller learns it', async () => {
      const client = new Redis(redisUrl);
      clients.push(client);
      const keyPrefix = `claims-${randomBytes(4).toString('hex')}:`;
      const lines: RecordedLine[] = [];
      const backend = new RedisSessionBackend({ client, keyPrefix, logger: recordingLogger(lines) });
      expect(await backend.claim('ns', 'missing', 'm1', 10_000)).toBeUndefined();
      await client.set(`${keyPrefix}ns:broken`, '{not json', 'PX', 10_000);
      expect(await backend.claim('ns', 'broken', 'm1', 10_000)).toBeUndefined();
      expect(lines).toEqual([expect.objectContaining({ level: 'error', fields: { namespace: 'ns' } })]);
      await backend.set('ns', 'k', { v: 1 }, { ttlMs: 10_000 });
      expect(await backend.claim('ns', 'k', 'm1', 10_000)).toEqual({
        value: { v: 1 },
        first: true,
        firstMarker: 'm1',
      });
      expect(await backend.claim('ns', 'k', 'm2', 10_000)).toEqual({
        value: { v: 1 },
        first: false,
        firstMarker: 'm1',
      });
    });

    it('remove one member from a set, and count only its own prefix even when the prefix has glob characters', async () => {
      const client = new Redis(redisUrl);
      clients.push(client);
      const tag = randomBytes(4).toString('hex');
      const starred = new RedisSessionBackend({ client, keyPrefix: `glob-${tag}*:` });
      const plain = new RedisSessionBackend({ client, keyPrefix: `glob-${tag}x:` });
      await starred.addMember('idx', 'u', 'a', 10_000);
      await starred.addMember('idx', 'u', 'b', 10_000);
      await starred.removeMember('idx', 'u', 'a');
      expect(await starred.takeMembers('idx', 'u')).toEqual(['b']);
      await starred.set('ns', 'one', 1, { ttlMs: 10_000 });
      await plain.set('ns', 'two', 2, { ttlMs: 10_000 });
      await plain.set('ns', 'three', 3, { ttlMs: 10_000 });
      expect(await starred.count('ns')).toBe(1);
      expect(await plain.count('ns')).toBe(2);
    });

    it('treat an unreadable entry as absent (deny, never allow)', async () => {
      const { a, keyPrefix } = await replicas();
      const probe = new Redis(redisUrl);
      clients.push(probe);
      await probe.set(`${keyPrefix}session:alice@example.com`, '{not json', 'PX', 60_000);
      expect(await a.getSession('alice@example.com')).toBeUndefined();
      await expect(
        a.getCredentialsWithValidation({
          requestedUser: 'alice@example.com',
          tokenUser: 'alice@example.com',
        }),
      ).rejects.toBeInstanceOf(AccessDeniedError);
    });
  },
);

describe('RedisSessionBackend when Redis is down', () => {
  it('fails with StorageUnavailableError (and never allows)', async () => {
    const client = new Redis({
      host: '127.0.0.1',
      port: 1,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    client.on('error', () => {});
    const store = new OAuth21SessionStore({ backend: new RedisSessionBackend({ client }) });
    await expect(store.verifyBearerToken('mcpoc_anything')).rejects.toBeInstanceOf(StorageUnavailableError);
    await expect(store.storeSession('alice@example.com')).rejects.toBeInstanceOf(StorageUnavailableError);
    await expect(
      store.getCredentialsWithValidation({ requestedUser: 'alice@example.com', mcpSessionId: 'mcp-1' }),
    ).rejects.toBeInstanceOf(StorageUnavailableError);
    client.disconnect();
  });
});

describe.skipIf(!redisServerBinary())(
  `RedisSessionBackend errors keep no command arguments${redisServerBinary() ? '' : ' (skipped: redis-server is not installed)'}`,
  () => {
    it('a refused write (OOM) keeps neither the stored JSON nor the key in its cause, even with showHidden', async () => {
      // A dedicated server: the shared one must not be starved of memory.
      const server = (await startRedisServer())!;
      const client = new Redis(server.url, { maxRetriesPerRequest: 0 });
      try {
        await client.config('SET', 'maxmemory', '1');
        await client.config('SET', 'maxmemory-policy', 'noeviction');
        const backend = new RedisSessionBackend({ client });
        const secret = `${'v'.repeat(43)}SECRETVERIFIER`;
        const error = await backend
          .set('state', 'state-key-hash', { codeVerifier: secret }, { ttlMs: 60_000 })
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(StorageUnavailableError);
        const dump = inspect(error, { showHidden: true, depth: 10 });
        expect(dump).toContain('OOM');
        expect(dump).not.toContain('SECRETVERIFIER');
        expect(dump).not.toContain('state-key-hash');
      } finally {
        client.disconnect();
        await server.stop();
      }
    });
  },
);
