/**
 * Registration abuse and scope self-granting: capped registrations, pending registrations in their own
 * bounded namespace (a flood cannot evict a client that holds tokens), expiry of unused registrations,
 * rate limits per address, and an explicit MCP scope allow-list.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ATTACKER_REDIRECT,
  CLIENT_REDIRECT,
  type Harness,
  startHarness,
} from '../support/mcp-auth-harness.js';

const HOUR = 60 * 60 * 1000;

describe('MCP authorization: dynamic client registration limits', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ oauthServer: { maxPendingClients: 50 } });
  });
  afterAll(async () => {
    await h.close();
  });

  it('refuses more than 10 redirect URIs and oversized fields', async () => {
    const many = Array.from({ length: 11 }, (_, i) => `https://app.example/cb/${i}`);
    const tooMany = await h.register({ redirect_uris: many });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error).toBe('invalid_client_metadata');
    expect((await h.register({ redirect_uris: many.slice(0, 10) })).status).toBe(201);
    expect((await h.register({ client_name: 'x'.repeat(201) })).status).toBe(400);
    expect((await h.register({ redirect_uris: [`https://app.example/${'a'.repeat(2100)}`] })).status).toBe(
      400,
    );
    expect((await h.register({ scope: 'a '.repeat(600) })).status).toBe(400);
    expect((await h.register({ contacts: Array(20).fill('ops@example.com') })).status).toBe(400);
  });

  it('drops jwks and unknown fields instead of storing them', async () => {
    const registered = await h.register({
      jwks: { keys: [{ kty: 'RSA', n: 'x'.repeat(2000), e: 'AQAB' }] },
      jwks_uri: 'https://app.example/jwks',
      padding: 'p'.repeat(5_000),
    });
    expect(registered.status).toBe(201);
    expect(registered.body).not.toHaveProperty('jwks');
    expect(registered.body).not.toHaveProperty('jwks_uri');
    expect(registered.body).not.toHaveProperty('padding');
    expect(registered.body.redirect_uris).toEqual([CLIENT_REDIRECT]);
  });

  it('refuses a body over the size limit', async () => {
    const response = await fetch(`${h.server.url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: [CLIENT_REDIRECT], padding: 'p'.repeat(200_000) }),
    });
    expect([400, 413]).toContain(response.status);
  });

  it('a flood of registrations does not evict a client that holds tokens', async () => {
    const { clientId, tokens } = await h.loggedIn('flood@example.com');
    for (let i = 0; i < 200; i++) expect((await h.register({ client_name: `flood ${i}` })).status).toBe(201);
    const refreshed = await h.refresh(clientId, tokens.refresh_token!);
    expect(refreshed.status).toBe(200);
    // A registration that never obtained a token is what the flood pushed out.
    const early = await h.register({ client_name: 'early, unused' });
    for (let i = 0; i < 60; i++) await h.register({ client_name: `more ${i}` });
    const { url } = h.authorizeUrl(String(early.body.client_id));
    expect((await fetch(url, { redirect: 'manual' })).status).toBe(400);
  });

  it('a registration that never obtained a token expires after 24 hours; one that did stays', async () => {
    const unused = String((await h.register()).body.client_id);
    const { clientId: used } = await h.loggedIn('keeps@example.com');
    h.clock.advance(25 * HOUR);
    expect((await fetch(h.authorizeUrl(unused).url, { redirect: 'manual' })).status).toBe(400);
    expect((await fetch(h.authorizeUrl(used).url, { redirect: 'manual' })).status).toBe(302);
  });
});

describe('MCP authorization: rate limits per client address', () => {
  it('limits registrations and /authorize per address, with Retry-After', async () => {
    const h = await startHarness({
      authRateLimit: true,
      oauthServer: {
        rateLimits: { register: { limit: 3, windowMs: HOUR }, authorize: { limit: 4, windowMs: HOUR } },
      },
    });
    try {
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await h.register()).status);
      expect(statuses).toEqual([201, 201, 201, 429]);
      const limited = await fetch(`${h.server.url}/register`, { method: 'POST', body: '{}' });
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      const authorize: number[] = [];
      for (let i = 0; i < 5; i++) {
        const response = await fetch(h.authorizeUrl('any-client').url, { redirect: 'manual' });
        authorize.push(response.status);
        if (response.status === 429) expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
      }
      expect(authorize.slice(0, 4)).toEqual([400, 400, 400, 400]);
      expect(authorize[4]).toBe(429);
    } finally {
      await h.close();
    }
  });
});

describe('MCP authorization: MCP scopes are an explicit allow-list', () => {
  it('without mcpScopes, a request for any scope is refused and one without scope gets none', async () => {
    const h = await startHarness();
    try {
      const clientId = String(
        (await h.register({ redirect_uris: [ATTACKER_REDIRECT, CLIENT_REDIRECT] })).body.client_id,
      );
      const response = await fetch(h.authorizeUrl(clientId, { scope: 'admin' }).url, { redirect: 'manual' });
      expect(response.status).toBe(400);
      expect(await response.text()).toContain('invalid_scope');
      const metadata = (await (
        await fetch(`${h.server.url}/.well-known/oauth-authorization-server`)
      ).json()) as {
        scopes_supported?: string[];
      };
      expect(metadata.scopes_supported ?? []).toEqual([]);
      const { tokens } = await h.loggedIn('noscope@example.com');
      expect(tokens.scope).toBeUndefined();
    } finally {
      await h.close();
    }
  });

  it('with mcpScopes and defaultMcpScopes, a request without scope gets the defaults', async () => {
    const h = await startHarness({
      oauthServer: { mcpScopes: ['mcp:read', 'mcp:write'], defaultMcpScopes: ['mcp:read'] },
    });
    try {
      const { tokens } = await h.loggedIn('defaults@example.com');
      expect(tokens.scope).toBe('mcp:read');
      const { tokens: both } = await h.loggedIn('both@example.com', { scope: 'mcp:read mcp:write' });
      expect(both.scope).toBe('mcp:read mcp:write');
    } finally {
      await h.close();
    }
  });
});
