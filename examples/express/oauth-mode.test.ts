/**
 * MCP authorization mode end to end: the official MCP SDK client's OAuth support against the example
 * server (GoogleOAuthProxyProvider behind the SDK's mcpAuthRouter) and the Google-like provider; then
 * the attacks, by hand over HTTP.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createPkcePair, FileCredentialStore, MemoryCredentialStore } from 'mcp-oauth-credentials';
import { RedisSessionBackend } from 'mcp-oauth-credentials/redis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { makeTempDir } from '../../test/support/temp-dir.js';
import { type GoogleLikeProvider, startGoogleLikeProvider } from '../support/google-like-provider.js';
import { connectWithOAuth, followRedirects, TestOAuthClientProvider } from '../support/oauth-client.js';
import { runDemo } from './demo.js';
import { type ExampleServer, startExampleServer } from './server.js';

describe('npm run demo, MCP authorization mode', () => {
  for (const store of ['file', 's3'] as const) {
    it(`passes every step with the ${store} store`, async () => {
      const steps = await runDemo({ store, mode: 'oauth', report: () => {} });
      expect(steps.filter((step) => !step.ok)).toEqual([]);
      expect(steps).toHaveLength(7);
    }, 60_000);
  }
});

const CLIENT_REDIRECT = 'http://127.0.0.1:43210/callback';

describe('MCP authorization mode: attacks and edge cases', () => {
  let provider: GoogleLikeProvider;
  let server: ExampleServer;
  const clock = { offsetMs: 0, now: () => Date.now() + clock.offsetMs };

  beforeAll(async () => {
    provider = await startGoogleLikeProvider();
    server = await startExampleServer({
      ...provider.clientSettings(),
      port: 0,
      store: new MemoryCredentialStore(),
      clock,
      authMode: 'oauth',
      authRateLimit: false,
    });
  });
  afterAll(async () => {
    await server.close();
    await provider.close();
  });

  async function register(
    redirectUris = [CLIENT_REDIRECT],
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${server.url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'attack-test',
        redirect_uris: redirectUris,
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
      }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  async function authorize(clientId: string, options: { resource?: string; user?: string } = {}) {
    const pkce = createPkcePair();
    provider.setDefaultUser(options.user ?? 'attacked@example.com');
    const url = new URL(`${server.url}/authorize`);
    url.search = new URLSearchParams({
      client_id: clientId,
      redirect_uri: CLIENT_REDIRECT,
      response_type: 'code',
      code_challenge: pkce.codeChallenge,
      code_challenge_method: 'S256',
      state: 'client-state-123',
      resource: options.resource ?? server.mcpUrl,
    }).toString();
    const landed = await followRedirects(url, CLIENT_REDIRECT);
    return { landed, code: landed.searchParams.get('code'), verifier: pkce.codeVerifier };
  }

  async function token(body: Record<string, string>) {
    const response = await fetch(`${server.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, string> };
  }

  function refreshWith(clientId: string, refreshToken: string) {
    return token({ grant_type: 'refresh_token', client_id: clientId, refresh_token: refreshToken });
  }

  async function callMcp(accessToken: string): Promise<number> {
    const response = await fetch(server.mcpUrl, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${accessToken}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
      }),
    });
    return response.status;
  }

  async function loggedIn(user = 'attacked@example.com') {
    const client = await register();
    const clientId = String(client.body.client_id);
    const { code, verifier } = await authorize(clientId, { user });
    const tokens = await token({
      grant_type: 'authorization_code',
      client_id: clientId,
      code: code!,
      code_verifier: verifier,
      redirect_uri: CLIENT_REDIRECT,
      resource: server.mcpUrl,
    });
    return { clientId, code: code!, verifier, tokens };
  }

  it('advertises protected resource and authorization server metadata, and points 401s at them', async () => {
    const prm = await (await fetch(`${server.url}/.well-known/oauth-protected-resource/mcp`)).json();
    expect(prm).toMatchObject({ resource: server.mcpUrl, authorization_servers: [`${server.url}/`] });
    const as = await (await fetch(`${server.url}/.well-known/oauth-authorization-server`)).json();
    expect(as).toMatchObject({
      authorization_endpoint: `${server.url}/authorize`,
      token_endpoint: `${server.url}/token`,
      registration_endpoint: `${server.url}/register`,
      revocation_endpoint: `${server.url}/revoke`,
      code_challenge_methods_supported: ['S256'],
    });
    const unauthorized = await fetch(server.mcpUrl, { method: 'POST' });
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers.get('www-authenticate')).toContain(
      '/.well-known/oauth-protected-resource/mcp',
    );
  });

  it('issues working tokens bound to the client and the Google user', async () => {
    const { tokens } = await loggedIn('works@example.com');
    expect(tokens.status).toBe(200);
    expect(tokens.body.access_token).toMatch(/^mcpat_/);
    expect(tokens.body.refresh_token).toMatch(/^mcprt_/);
    expect(await callMcp(tokens.body.access_token!)).toBe(200);
  });

  it('refuses registrations whose redirect URIs are neither https nor loopback', async () => {
    for (const uri of [
      'http://evil.example/cb',
      'javascript:alert(1)',
      'custom-scheme://cb',
      'https://ok.example/cb#frag',
    ]) {
      expect((await register([uri])).status, uri).toBe(400);
    }
    expect((await register(['https://ok.example/cb', 'http://localhost:9999/cb'])).status).toBe(201);
  });

  it('refuses an authorization request with a redirect URI the client did not register', async () => {
    const client = await register();
    const url = new URL(`${server.url}/authorize`);
    url.search = new URLSearchParams({
      client_id: String(client.body.client_id),
      redirect_uri: 'https://evil.example/cb',
      response_type: 'code',
      code_challenge: createPkcePair().codeChallenge,
      code_challenge_method: 'S256',
    }).toString();
    const response = await fetch(url, { redirect: 'manual' });
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
  });

  it('refuses a wrong PKCE verifier', async () => {
    const client = await register();
    const { code } = await authorize(String(client.body.client_id));
    const result = await token({
      grant_type: 'authorization_code',
      client_id: String(client.body.client_id),
      code: code!,
      code_verifier: createPkcePair().codeVerifier,
      redirect_uri: CLIENT_REDIRECT,
    });
    expect(result.status).toBe(400);
    expect(result.body.error).toBe('invalid_grant');
  });

  it('refuses a replayed code and revokes the tokens the first exchange issued', async () => {
    const { clientId, code, verifier, tokens } = await loggedIn('replay@example.com');
    const replay = await token({
      grant_type: 'authorization_code',
      client_id: clientId,
      code,
      code_verifier: verifier,
      redirect_uri: CLIENT_REDIRECT,
    });
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_grant');
    expect(await callMcp(tokens.body.access_token!)).toBe(401);
    const refresh = await refreshWith(clientId, tokens.body.refresh_token!);
    expect(refresh.status).toBe(400);
  });

  it('refuses a code presented by another client', async () => {
    const victim = await register();
    const attacker = await register();
    const { code, verifier } = await authorize(String(victim.body.client_id));
    const result = await token({
      grant_type: 'authorization_code',
      client_id: String(attacker.body.client_id),
      code: code!,
      code_verifier: verifier,
      redirect_uri: CLIENT_REDIRECT,
    });
    expect(result.status).toBe(400);
    expect(result.body.error).toBe('invalid_grant');
  });

  it('rotates refresh tokens, and reuse of an old one revokes the whole family', async () => {
    const { clientId, tokens } = await loggedIn('rotation@example.com');
    const first = await refreshWith(clientId, tokens.body.refresh_token!);
    expect(first.status).toBe(200);
    expect(first.body.refresh_token).not.toBe(tokens.body.refresh_token);
    expect(await callMcp(first.body.access_token!)).toBe(200);
    const reuse = await refreshWith(clientId, tokens.body.refresh_token!);
    expect(reuse.status).toBe(400);
    expect(await callMcp(first.body.access_token!)).toBe(401);
    const afterReuse = await refreshWith(clientId, first.body.refresh_token!);
    expect(afterReuse.status).toBe(400);
  });

  it('refuses a Google callback for an expired transaction and issues no code', async () => {
    const client = await register();
    const pkce = createPkcePair();
    const url = new URL(`${server.url}/authorize`);
    url.search = new URLSearchParams({
      client_id: String(client.body.client_id),
      redirect_uri: CLIENT_REDIRECT,
      response_type: 'code',
      code_challenge: pkce.codeChallenge,
      code_challenge_method: 'S256',
    }).toString();
    const toGoogle = await fetch(url, { redirect: 'manual' });
    const atGoogle = await fetch(toGoogle.headers.get('location')!, { redirect: 'manual' });
    clock.offsetMs += 11 * 60 * 1000;
    try {
      const callback = await fetch(atGoogle.headers.get('location')!, { redirect: 'manual' });
      expect(callback.status).toBe(400);
      expect(callback.headers.get('location')).toBeNull();
      expect(await callback.text()).toContain('expired');
    } finally {
      clock.offsetMs -= 11 * 60 * 1000;
    }
  });

  it('refuses a resource that is not this server, and a token request for another resource', async () => {
    const client = await register();
    const clientId = String(client.body.client_id);
    const foreign = await authorize(clientId, { resource: 'https://other.example/mcp' });
    expect(foreign.code).toBeNull();
    expect(foreign.landed.searchParams.get('error')).toBe('invalid_target');
    expect(foreign.landed.searchParams.get('state')).toBe('client-state-123');
    const { code, verifier } = await authorize(clientId);
    const mismatch = await token({
      grant_type: 'authorization_code',
      client_id: clientId,
      code: code!,
      code_verifier: verifier,
      redirect_uri: CLIENT_REDIRECT,
      resource: 'https://other.example/mcp',
    });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.error).toBe('invalid_target');
  });

  it('lets the SDK client log in, call a tool as its own user, and refresh by itself', async () => {
    provider.setDefaultUser('sdk@example.com');
    const oauthClient = new TestOAuthClientProvider('sdk-client');
    const { client } = await connectWithOAuth(server.mcpUrl, oauthClient);
    const call = async () =>
      (await client.callTool({ name: 'get_profile', arguments: {} })) as {
        content: Array<{ text?: string }>;
      };
    expect(JSON.parse((await call()).content[0]!.text!).email).toBe('sdk@example.com');
    clock.offsetMs += 2 * 60 * 60 * 1000;
    try {
      expect(JSON.parse((await call()).content[0]!.text!).email).toBe('sdk@example.com');
      expect(oauthClient.savedTokens).toHaveLength(2);
    } finally {
      clock.offsetMs -= 2 * 60 * 60 * 1000;
      await client.close();
    }
  });
});

const redisUrl = inject('redisUrl');
describe.skipIf(!redisUrl)(
  `MCP authorization mode across a restart and two replicas on Redis${redisUrl ? '' : ' (skipped: redis-server is not installed)'}`,
  () => {
    it('keeps registrations and tokens across a restart, and shares them between replicas', async () => {
      const provider = await startGoogleLikeProvider();
      const dir = await makeTempDir();
      const redisClients: Redis[] = [];
      const keyPrefix = `oauth-replicas-${randomBytes(4).toString('hex')}:`;
      const servers: ExampleServer[] = [];
      const start = async (publicBaseUrl?: string) => {
        const client = new Redis(redisUrl);
        redisClients.push(client);
        const server = await startExampleServer({
          ...provider.clientSettings(),
          port: 0,
          store: new FileCredentialStore({ directory: dir.path }),
          sessionBackend: new RedisSessionBackend({ client, keyPrefix }),
          authMode: 'oauth',
          authRateLimit: false,
          ...(publicBaseUrl ? { publicBaseUrl } : {}),
        });
        servers.push(server);
        return server;
      };
      const refreshAt = async (server: ExampleServer, clientId: string, refreshToken: string) => {
        const response = await fetch(`${server.listenUrl}/token`, {
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
      const initializeAt = async (server: ExampleServer, accessToken: string) =>
        (
          await fetch(`${server.listenUrl}/mcp`, {
            method: 'POST',
            headers: {
              authorization: `Bearer ${accessToken}`,
              'content-type': 'application/json',
              accept: 'application/json, text/event-stream',
            },
            body: JSON.stringify({
              jsonrpc: '2.0',
              id: 1,
              method: 'initialize',
              params: {
                protocolVersion: '2025-06-18',
                capabilities: {},
                clientInfo: { name: 't', version: '1' },
              },
            }),
          })
        ).status;
      try {
        const first = await start();
        provider.setDefaultUser('replica@example.com');
        const oauthClient = new TestOAuthClientProvider('replica-client');
        const session = await connectWithOAuth(first.mcpUrl, oauthClient);
        await session.client.close();
        const clientId = oauthClient.clientInformation()!.client_id;
        const issued = oauthClient.tokens()!;
        await first.close();

        // A restart (same public URL, fresh process state): the registration and the token survive.
        const restarted = await start(first.url);
        expect(await initializeAt(restarted, issued.access_token)).toBe(200);
        const rotated = await refreshAt(restarted, clientId, issued.refresh_token!);
        expect(rotated.status).toBe(200);

        // A second replica on the same Redis sees the same client, tokens and families.
        const replica = await start(first.url);
        expect(await initializeAt(replica, rotated.body.access_token!)).toBe(200);
        const reuse = await refreshAt(replica, clientId, issued.refresh_token!);
        expect(reuse.status).toBe(400);
        expect(await initializeAt(restarted, rotated.body.access_token!)).toBe(401);
      } finally {
        for (const server of servers) await server.close().catch(() => {});
        await Promise.all(redisClients.map((client) => client.quit()));
        await provider.close();
        await dir.dispose();
      }
    });
  },
);
