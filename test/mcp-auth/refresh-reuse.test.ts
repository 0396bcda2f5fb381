/**
 * Refresh tokens as real clients and thieves use them: parallel refreshes at expiry (grace), reuse
 * outside the grace window (family revoked, stickily, also against a racing thief on Redis), sliding
 * lifetimes, and validate-then-consume.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RedisSessionBackend } from '../../src/redis/index.js';
import { type Harness, startHarness } from '../support/mcp-auth-harness.js';

const DAY = 24 * 60 * 60 * 1000;

describe('MCP authorization: refresh tokens on the memory backend', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ oauthServer: { mcpScopes: ['mcp:read', 'mcp:write'] } });
  });
  afterAll(async () => {
    await h.close();
  });

  it('a burst of 20 refreshes with the same token (a client at expiry) keeps the user signed in', async () => {
    const { clientId, tokens } = await h.loggedIn('burst@example.com');
    h.clock.advance(61 * 60 * 1000);
    const results = await Promise.all(
      Array.from({ length: 20 }, () => h.refresh(clientId, tokens.refresh_token!)),
    );
    expect(results.map((result) => result.status)).toEqual(Array(20).fill(200));
    const accessTokens = new Set(results.map((result) => result.body.access_token));
    expect(accessTokens.size).toBe(20); // fresh pairs: the earlier pair cannot be handed out again
    for (const result of results) expect(await h.callMcp(result.body.access_token!)).toBe(200);
    // Every pair of the burst refreshes on.
    const next = await h.refresh(clientId, results[7]!.body.refresh_token!);
    expect(next.status).toBe(200);
    expect(await h.callMcp(next.body.access_token!)).toBe(200);
  });

  it('reuse outside the grace window revokes the family, and says why in the log', async () => {
    const { clientId, tokens } = await h.loggedIn('reuse@example.com');
    const first = await h.refresh(clientId, tokens.refresh_token!);
    expect(first.status).toBe(200);
    h.clock.advance(11_000);
    const reuse = await h.refresh(clientId, tokens.refresh_token!);
    expect(reuse.status).toBe(400);
    expect(reuse.body.error).toBe('invalid_grant');
    expect(await h.callMcp(first.body.access_token!)).toBe(401);
    expect((await h.refresh(clientId, first.body.refresh_token!)).status).toBe(400);
    const security = h.log.find(
      (line) => line.message.includes('SECURITY') && line.message.includes('reuse'),
    );
    expect(security?.fields).toMatchObject({ clientId, userId: 'reuse@example.com' });
    expect(JSON.stringify(h.log)).not.toContain(tokens.refresh_token);
  });

  it('a refresh token presented by another client revokes nothing of the owner’s unless it is reuse, and fails', async () => {
    const { tokens } = await h.loggedIn('other-client@example.com');
    const intruder = String((await h.register()).body.client_id);
    const attempt = await h.refresh(intruder, tokens.refresh_token!);
    expect(attempt.status).toBe(400);
    expect(attempt.body.error).toBe('invalid_grant');
  });

  it('a refresh asking for a wider scope is refused and does not consume the token', async () => {
    const { clientId, tokens } = await h.loggedIn('widen@example.com', { scope: 'mcp:read' });
    const wider = await h.refresh(clientId, tokens.refresh_token!, { scope: 'mcp:read mcp:write' });
    expect(wider.status).toBe(400);
    expect(wider.body.error).toBe('invalid_scope');
    const other = await h.refresh(clientId, tokens.refresh_token!, { resource: 'https://other.example/mcp' });
    expect(other.status).toBe(400);
    expect(other.body.error).toBe('invalid_target');
    h.clock.advance(30_000); // well outside the grace window: a consumed token would now count as reuse
    const fine = await h.refresh(clientId, tokens.refresh_token!);
    expect(fine.status).toBe(200);
    expect(fine.body.scope).toBe('mcp:read');
  });

  it('a refresh may narrow the scopes', async () => {
    const { clientId, tokens } = await h.loggedIn('narrow@example.com', { scope: 'mcp:read mcp:write' });
    const narrowed = await h.refresh(clientId, tokens.refresh_token!, { scope: 'mcp:read' });
    expect(narrowed.status).toBe(200);
    expect(narrowed.body.scope).toBe('mcp:read');
  });

  it('an active client stays signed in for 40 days (the lifetime slides); an idle one is told it expired', async () => {
    const { clientId, tokens } = await h.loggedIn('active@example.com');
    let refreshToken = tokens.refresh_token!;
    let accessToken = tokens.access_token!;
    for (let day = 3; day <= 42; day += 3) {
      h.clock.advance(3 * DAY);
      const next = await h.refresh(clientId, refreshToken);
      expect(next.status, `day ${day}: ${JSON.stringify(next.body)}`).toBe(200);
      refreshToken = next.body.refresh_token!;
      accessToken = next.body.access_token!;
    }
    expect(await h.callMcp(accessToken)).toBe(200);
    h.clock.advance(31 * DAY);
    const idle = await h.refresh(clientId, refreshToken);
    expect(idle.status).toBe(400);
    expect(idle.body.error_description).toMatch(/expired/);
  });
});

describe('MCP authorization: an absolute refresh lifetime, when configured', () => {
  it('ends the grant at the maximum however active the client is', async () => {
    const h = await startHarness({ oauthServer: { maxRefreshTokenLifetimeMs: 10 * DAY } });
    try {
      const { clientId, tokens } = await h.loggedIn('bounded@example.com');
      let refreshToken = tokens.refresh_token!;
      for (let day = 3; day <= 9; day += 3) {
        h.clock.advance(3 * DAY);
        const next = await h.refresh(clientId, refreshToken);
        expect(next.status).toBe(200);
        refreshToken = next.body.refresh_token!;
      }
      h.clock.advance(2 * DAY);
      const late = await h.refresh(clientId, refreshToken);
      expect(late.status).toBe(400);
      expect(late.body.error_description).toMatch(/expired/);
    } finally {
      await h.close();
    }
  });
});

const redisUrl = inject('redisUrl');
describe.skipIf(!redisUrl)(
  `MCP authorization: a rotating thief against a replaying client on Redis${redisUrl ? '' : ' (skipped: redis-server is not installed)'}`,
  () => {
    const clients: Redis[] = [];
    let h: Harness;
    beforeAll(async () => {
      const client = new Redis(redisUrl);
      clients.push(client);
      h = await startHarness({
        sessionBackend: new RedisSessionBackend({
          client,
          keyPrefix: `thief-${randomBytes(4).toString('hex')}:`,
        }),
      });
    });
    afterAll(async () => {
      await h.close();
      await Promise.all(clients.map((client) => client.quit()));
    });

    it('0 of 200 trials leave the thief with a working token', async () => {
      let leaks = 0;
      for (let trial = 0; trial < 200; trial++) {
        const { clientId, tokens } = await h.loggedIn(`thief-trial-${trial % 5}@example.com`);
        // The thief stole the refresh token and used it first; the legitimate client replays it later.
        const stolen = await h.refresh(clientId, tokens.refresh_token!);
        expect(stolen.status).toBe(200);
        h.clock.advance(11_000);
        let thief = stolen.body;
        let stop = false;
        const thiefLoop = (async () => {
          while (!stop) {
            const next = await h.refresh(clientId, thief.refresh_token!);
            if (next.status !== 200) return;
            thief = next.body;
          }
        })();
        const replay = h.refresh(clientId, tokens.refresh_token!);
        await new Promise((resolve) => setImmediate(resolve));
        expect((await replay).status).toBe(400);
        stop = true;
        await thiefLoop;
        const stillRefreshes = (await h.refresh(clientId, thief.refresh_token!)).status === 200;
        const stillCalls = (await h.callMcp(thief.access_token!)) === 200;
        if (stillRefreshes || stillCalls) leaks += 1;
      }
      expect(leaks).toBe(0);
    }, 240_000);
  },
);
