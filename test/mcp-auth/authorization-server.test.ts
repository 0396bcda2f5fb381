/**
 * The MCP authorization server's endpoints by hand: metadata and challenges, the code exchange
 * (PKCE, client binding, redirect URI, resource, replay), revocation with its client check, the SDK
 * v1 `mcpAuthRouter` wiring, and state shared through Redis across a restart and replicas.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPkcePair, FileCredentialStore } from '../../src/index.js';
import { RedisSessionBackend } from '../../src/redis/index.js';
import { CLIENT_REDIRECT, type Harness, startHarness } from '../support/mcp-auth-harness.js';
import { makeTempDir } from '../support/temp-dir.js';

describe('MCP authorization server endpoints', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ oauthServer: { mcpScopes: ['mcp:read'] } });
  });
  afterAll(async () => {
    await h.close();
  });

  it('advertises RFC 8414 and RFC 9728 metadata, and points 401s at them', async () => {
    const prm = await (await fetch(`${h.server.url}/.well-known/oauth-protected-resource/mcp`)).json();
    expect(prm).toMatchObject({
      resource: h.server.mcpUrl,
      authorization_servers: [`${h.server.url}/`],
      scopes_supported: ['mcp:read'],
    });
    const response = await fetch(`${h.server.url}/.well-known/oauth-authorization-server`);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(await response.json()).toMatchObject({
      issuer: `${h.server.url}/`,
      authorization_endpoint: `${h.server.url}/authorize`,
      token_endpoint: `${h.server.url}/token`,
      registration_endpoint: `${h.server.url}/register`,
      revocation_endpoint: `${h.server.url}/revoke`,
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
    });
    const unauthorized = await fetch(h.server.mcpUrl, { method: 'POST' });
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers.get('www-authenticate')).toContain(
      '/.well-known/oauth-protected-resource/mcp',
    );
  });

  it('issues working tokens bound to the client and the Google user, with iss on the redirect', async () => {
    const client = String((await h.register()).body.client_id);
    const { code, verifier } = await h.signIn(client, 'works@example.com');
    const tokens = await h.token({
      grant_type: 'authorization_code',
      client_id: client,
      code,
      code_verifier: verifier,
      redirect_uri: CLIENT_REDIRECT,
    });
    expect(tokens.status).toBe(200);
    expect(tokens.body.access_token).toMatch(/^mcpat_/);
    expect(tokens.body.refresh_token).toMatch(/^mcprt_/);
    expect(await h.callMcp(tokens.body.access_token!)).toBe(200);
  });

  it('refuses a wrong PKCE verifier, another client’s code, a mismatched redirect URI and resource', async () => {
    const client = String((await h.register()).body.client_id);
    const other = String((await h.register()).body.client_id);
    const attempt = async (overrides: Record<string, string>) => {
      const { code, verifier } = await h.signIn(client, 'exchange@example.com');
      return h.token({
        grant_type: 'authorization_code',
        client_id: client,
        code,
        code_verifier: verifier,
        redirect_uri: CLIENT_REDIRECT,
        ...overrides,
      });
    };
    expect((await attempt({ code_verifier: createPkcePair().codeVerifier })).body.error).toBe(
      'invalid_grant',
    );
    expect((await attempt({ client_id: other })).body.error).toBe('invalid_grant');
    expect((await attempt({ redirect_uri: 'http://127.0.0.1:43210/elsewhere' })).body.error).toBe(
      'invalid_grant',
    );
    const noRedirect = await attempt({});
    expect(noRedirect.status).toBe(200);
    const { code, verifier } = await h.signIn(client, 'exchange@example.com');
    const missing = await h.token({
      grant_type: 'authorization_code',
      client_id: client,
      code,
      code_verifier: verifier,
    });
    expect(missing.body.error).toBe('invalid_grant');
    expect((await attempt({ resource: 'https://other.example/mcp' })).body.error).toBe('invalid_target');
    expect((await h.token({ grant_type: 'password', client_id: client })).body.error).toBe(
      'unsupported_grant_type',
    );
    expect(
      (await h.token({ grant_type: 'refresh_token', client_id: 'nobody', refresh_token: 'x' })).status,
    ).toBe(401);
  });

  it('refuses a replayed code and revokes what the first exchange issued', async () => {
    const client = String((await h.register()).body.client_id);
    const { code, verifier } = await h.signIn(client, 'replay@example.com');
    const body = {
      grant_type: 'authorization_code',
      client_id: client,
      code,
      code_verifier: verifier,
      redirect_uri: CLIENT_REDIRECT,
    };
    const first = await h.token(body);
    expect(first.status).toBe(200);
    const replay = await h.token(body);
    expect(replay.body.error).toBe('invalid_grant');
    expect(await h.callMcp(first.body.access_token!)).toBe(401);
    expect((await h.refresh(client, first.body.refresh_token!)).status).toBe(400);
    const line = h.log.find((entry) => /code replayed/.test(entry.message));
    expect(line?.fields).toMatchObject({ clientId: client, userId: 'replay@example.com' });
  });

  it('an expired code is refused', async () => {
    const client = String((await h.register()).body.client_id);
    const { code, verifier } = await h.signIn(client, 'slow@example.com');
    h.clock.advance(5 * 60 * 1000 + 1);
    const late = await h.token({
      grant_type: 'authorization_code',
      client_id: client,
      code,
      code_verifier: verifier,
      redirect_uri: CLIENT_REDIRECT,
    });
    expect(late.body).toMatchObject({
      error: 'invalid_grant',
      error_description: 'the authorization code expired',
    });
  });

  it('revokes an access token alone, only for the client it was issued to', async () => {
    const { clientId, tokens } = await h.loggedIn('revoke-access@example.com');
    const intruder = String((await h.register()).body.client_id);
    const revoke = (client: string, token: string) =>
      fetch(`${h.server.url}/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ client_id: client, token }),
      });
    expect((await revoke(intruder, tokens.access_token!)).status).toBe(200);
    expect(await h.callMcp(tokens.access_token!)).toBe(200);
    expect((await revoke(intruder, tokens.refresh_token!)).status).toBe(200);
    expect((await h.refresh(clientId, tokens.refresh_token!)).status).toBe(200);
    expect(
      h.log.some(
        (entry) => /another client’s token/.test(entry.message) && entry.fields.clientId === intruder,
      ),
    ).toBe(true);

    const { clientId: owner, tokens: own } = await h.loggedIn('revoke-own@example.com');
    expect((await revoke(owner, own.access_token!)).status).toBe(200);
    expect(await h.callMcp(own.access_token!)).toBe(401);
    // The refresh token (and the user's sign-in) survive revoking one access token.
    const again = await h.refresh(owner, own.refresh_token!);
    expect(again.status).toBe(200);
    expect(await h.callMcp(again.body.access_token!)).toBe(200);
  });

  it('revoking a refresh token signs the user out fully (Google grant included)', async () => {
    const { clientId, tokens } = await h.loggedIn('full-signout@example.com');
    const response = await fetch(`${h.server.url}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: clientId, token: tokens.refresh_token! }),
    });
    expect(response.status).toBe(200);
    expect(await h.callMcp(tokens.access_token!)).toBe(401);
    expect(await h.server.store.get('full-signout@example.com')).toBeUndefined();
  });

  it('tokens issued before a sign-out stay dead after the user signs in again (session generation)', async () => {
    const { clientId, tokens } = await h.loggedIn('generation@example.com');
    await h.server.sessionStore.removeSession('generation@example.com');
    await h.loggedIn('generation@example.com');
    expect(await h.callMcp(tokens.access_token!)).toBe(401);
    const refresh = await h.refresh(clientId, tokens.refresh_token!);
    expect(refresh.status).toBe(400);
    expect(refresh.body.error_description).toMatch(/signed out/);
  });
});

describe('the SDK v1 mcpAuthRouter wiring (legacy, still supported)', () => {
  it('registers, authorizes through consent, exchanges and refreshes through the SDK’s handlers', async () => {
    const h = await startHarness({ oauthRouter: 'sdk' });
    try {
      const { clientId, tokens } = await h.loggedIn('legacy@example.com');
      expect(await h.callMcp(tokens.access_token!)).toBe(200);
      const refreshed = await h.refresh(clientId, tokens.refresh_token!);
      expect(refreshed.status).toBe(200);
      expect(await h.callMcp(refreshed.body.access_token!)).toBe(200);
      // Errors before consent are pages here too: our /authorize answers before the SDK's.
      const { url } = h.authorizeUrl(clientId, { method: 'plain' });
      const refused = await fetch(url, { redirect: 'manual' });
      expect(refused.status).toBe(400);
      expect(refused.headers.get('location')).toBeNull();
    } finally {
      await h.close();
    }
  });
});

const redisUrl = inject('redisUrl');
describe.skipIf(!redisUrl)(
  `MCP authorization across a restart and two replicas on Redis${redisUrl ? '' : ' (skipped: redis-server is not installed)'}`,
  () => {
    it('keeps registrations and tokens across a restart, and shares them between replicas', async () => {
      const dir = await makeTempDir();
      const clients: Redis[] = [];
      const keyPrefix = `oauth-replicas-${randomBytes(4).toString('hex')}:`;
      const serverSecret = randomBytes(32).toString('base64url');
      const harnesses: Harness[] = [];
      const start = async (publicBaseUrl?: string) => {
        const client = new Redis(redisUrl);
        clients.push(client);
        const harness = await startHarness({
          store: new FileCredentialStore({ directory: dir.path }),
          sessionBackend: new RedisSessionBackend({ client, keyPrefix }),
          serverSecret,
          ...(publicBaseUrl ? { publicBaseUrl } : {}),
        });
        harnesses.push(harness);
        return harness;
      };
      try {
        const first = await start();
        const { clientId, tokens } = await first.loggedIn('replica@example.com');
        const firstUrl = first.server.url;
        const at = (harness: Harness, path: string) => `${harness.server.listenUrl}${path}`;
        const refreshAt = async (harness: Harness, refreshToken: string) => {
          const response = await fetch(at(harness, '/token'), {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({
              grant_type: 'refresh_token',
              client_id: clientId,
              refresh_token: refreshToken,
            }),
          });
          return { status: response.status, body: (await response.json()) as Record<string, string> };
        };
        await first.server.close();

        const restarted = await start(firstUrl);
        const rotated = await refreshAt(restarted, tokens.refresh_token!);
        expect(rotated.status).toBe(200);
        const replica = await start(firstUrl);
        restarted.clock.advance(11_000);
        replica.clock.advance(11_000);
        const reuse = await refreshAt(replica, tokens.refresh_token!);
        expect(reuse.status).toBe(400);
        const stale = await refreshAt(restarted, rotated.body.refresh_token!);
        expect(stale.status).toBe(400);
      } finally {
        for (const harness of harnesses) await harness.close().catch(() => {});
        await Promise.all(clients.map((client) => client.quit()));
        await dir.dispose();
      }
    });
  },
);
