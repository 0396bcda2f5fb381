/**
 * 9. Redis: what a request costs when the session state lives in Redis (several replicas). The full
 * request path of an authenticated tool call (verify the bearer token, the MCP session guard, the
 * tool helper with the user's cached credentials) against one bare `GET` of a session key, timed
 * interleaved in the same loop; and the round trips each operation makes, counted.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { MemoryCredentialStore, type StoredCredentials } from 'mcp-oauth-credentials';
import { createMcpSessionGuard, createToolAuth } from 'mcp-oauth-credentials/http';
import { CredentialManager } from 'mcp-oauth-credentials/manager';
import { RedisSessionBackend } from 'mcp-oauth-credentials/redis';
import { OAuth21SessionStore } from 'mcp-oauth-credentials/session';
import { CountingSessionBackend } from 'mcp-oauth-credentials/testing';
import { startRedisServer } from '../test/support/redis-server.js';
import { comparePair, fmt } from './lib.js';

const USERS = 1_000;

function credentials(userId: string): StoredCredentials {
  return {
    userId,
    accessToken: `ya29.bench-${userId}`,
    refreshToken: `1//bench-${userId}`,
    expiresAt: Date.now() + 3 * 60 * 60 * 1000,
    scopes: ['openid', 'email'],
    tokenType: 'Bearer',
  };
}

export async function redisBenchmark(log: (line: string) => void): Promise<string> {
  const server = await startRedisServer();
  if (server === undefined) {
    log('  redis: skipped (redis-server is not installed)');
    return '## 9. Redis\n\nSkipped: `redis-server` is not installed on this machine.\n';
  }
  const client = new Redis(server.url, { lazyConnect: true });
  await client.connect();
  try {
    const backend = new CountingSessionBackend(
      new RedisSessionBackend({ client, keyPrefix: `bench-${randomBytes(4).toString('hex')}:` }),
    );
    // Package defaults everywhere, except the session backend.
    const sessionStore = new OAuth21SessionStore({ backend });
    const store = new MemoryCredentialStore();
    const manager = new CredentialManager({
      store,
      sessionStore,
      oauth: { clientId: 'bench-client', clientSecret: 'bench-secret' },
    });
    const guard = createMcpSessionGuard({ sessionStore });
    const toolAuth = createToolAuth({ manager, sessionStore });

    log(`  redis: signing in ${fmt.int(USERS)} users`);
    const users: Array<{ userId: string; token: string; mcpSessionId: string }> = [];
    const signInTrips: number[] = [];
    for (let i = 0; i < USERS; i++) {
      const userId = `user${i}@example.com`;
      const mcpSessionId = `mcp-${randomBytes(8).toString('hex')}`;
      await store.put(userId, credentials(userId));
      backend.reset();
      // What a sign-in does to the session state: the session, the bearer token, the MCP session.
      await sessionStore.storeSession(userId, { scopes: ['openid', 'email'] });
      const { token } = await sessionStore.issueBearerToken(userId);
      await sessionStore.bindMcpSession(mcpSessionId, userId);
      signInTrips.push(backend.roundTrips());
      users.push({ userId, token, mcpSessionId });
    }

    const toolCall = async (i: number) => {
      const user = users[i % USERS]!;
      const auth = await sessionStore.verifyBearerToken(user.token);
      const refused = await guard.check(user.mcpSessionId, auth);
      if (refused !== undefined) throw new Error('the guard refused a bound session');
      return toolAuth.forRequest({ authInfo: auth, sessionId: user.mcpSessionId });
    };
    // Round trips: a first call (nothing remembered on this replica), then a steady one.
    const coldReplica = new OAuth21SessionStore({ backend });
    const coldGuard = createMcpSessionGuard({ sessionStore: coldReplica });
    const coldTool = createToolAuth({ manager, sessionStore: coldReplica });
    backend.reset();
    {
      const user = users[1]!;
      const auth = await coldReplica.verifyBearerToken(user.token);
      await coldGuard.check(user.mcpSessionId, auth);
      await coldTool.forRequest({ authInfo: auth, sessionId: user.mcpSessionId });
    }
    const coldTrips = backend.roundTrips();
    await toolCall(2);
    backend.reset();
    await toolCall(2);
    const steadyTrips = backend.roundTrips();
    backend.reset();
    await sessionStore.removeSession(users[3]!.userId);
    const signOutTrips = backend.roundTrips();
    users[3] = users[4]!;

    log('  redis: full request path against one bare GET, interleaved');
    let i = 0;
    const sessionKey = `bench-bare:${randomBytes(4).toString('hex')}`;
    await client.set(
      sessionKey,
      JSON.stringify({ userId: 'x', epoch: 'e', liveUntil: Date.now() + 3_600_000 }),
    );
    const oneUser = await comparePair(
      () => toolCall(7),
      () => client.get(sessionKey),
      { warmup: 2_000, rounds: 60, perRound: 50 },
    );
    const roundRobin = await comparePair(
      () => toolCall(i++),
      () => client.get(sessionKey),
      { warmup: 2_000, rounds: 60, perRound: 50 },
    );
    const rawMget = await comparePair(
      () => client.mget(sessionKey, `${sessionKey}:other`),
      () => client.get(sessionKey),
      { warmup: 2_000, rounds: 60, perRound: 50 },
    );
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const row = (label: string, pair: typeof oneUser) =>
      `| ${label} | ${fmt.ms(pair.wrapped.median)} | ${fmt.ms(pair.wrapped.p99)} | ${fmt.ms(pair.raw.median)} | ${fmt.ratio(pair.ratio)} |`;
    return [
      '## 9. Redis: the full request path against one bare GET',
      '',
      `redis-server on 127.0.0.1 started by the benchmark; ${fmt.int(USERS)} users signed in; package defaults`,
      '(verified-token cache 5 s, credentials cache 10,000) except the Redis session backend. One tool call =',
      '`verifyBearerToken` + the MCP session guard + `toolAuth.forRequest` (access rule and cached credentials), each',
      'awaited in turn, as an example server runs them. Timed interleaved with a bare ioredis `GET` of a session-sized',
      'value (60 rounds of 50 each, the order alternating): the ratio is the median of the per-round ratios.',
      '',
      '| operation | median | p99 | bare GET median | ratio to a bare GET |',
      '| --- | ---: | ---: | ---: | ---: |',
      row('tool call, one user', oneUser),
      row(`tool call, round robin over ${fmt.int(USERS)} users`, roundRobin),
      row('(reference) MGET of two keys', rawMget),
      '',
      'Round trips to Redis, counted through `CountingSessionBackend`:',
      '',
      '| operation | round trips | minimum |',
      '| --- | ---: | ---: |',
      `| tool call, steady (token and binding remembered) | ${steadyTrips} | 1 (the session: a sign-out elsewhere must be seen) |`,
      `| tool call on a replica that remembers nothing | ${coldTrips} | 2 (the token; then session and binding, which one MGET could read) |`,
      `| sign-in: storeSession + issueBearerToken + bindMcpSession | ${median(signInTrips)} | |`,
      `| sign-out: removeSession (one binding, one token) | ${signOutTrips} | |`,
      '',
      '| target | measured | |',
      '| --- | --- | --- |',
      `| full request ≤ 1.3× one bare GET (one user) | ${fmt.ratio(oneUser.ratio)} | ${fmt.ok(oneUser.ratio <= 1.3)} |`,
      `| one round trip per steady tool call | ${steadyTrips} | ${fmt.ok(steadyTrips === 1)} |`,
      '',
    ].join('\n');
  } finally {
    await client.quit();
    await server.stop();
  }
}
