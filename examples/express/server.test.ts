/**
 * End to end over real HTTP on 127.0.0.1: the example server, the Google-like provider and the
 * official MCP SDK client.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { MemoryCredentialStore } from 'mcp-oauth-credentials';
import { type GoogleLikeProvider, startGoogleLikeProvider } from 'mcp-oauth-credentials/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserSignIn, startSignIn } from '../support/browser.js';
import { type ExampleServer, startExampleServer } from './server.js';

describe('example server security', () => {
  let provider: GoogleLikeProvider;
  let server: ExampleServer;
  const store = new MemoryCredentialStore();
  const clock = { offsetMs: 0, now: () => Date.now() + clock.offsetMs };

  beforeAll(async () => {
    provider = await startGoogleLikeProvider();
    server = await startExampleServer({
      ...provider.clientSettings(),
      port: 0,
      store,
      clock,
    });
  });
  afterAll(async () => {
    await server.close();
    await provider.close();
  });

  const json = { accept: 'application/json' };

  it('refuses return_to targets that are not allow-listed (no open redirect)', async () => {
    for (const target of [
      'https://evil.example/steal',
      '//evil.example',
      'javascript:alert(1)',
      '/relative',
      `${server.url}/x`,
    ]) {
      const response = await fetch(`${server.url}/auth/start?${new URLSearchParams({ return_to: target })}`, {
        redirect: 'manual',
        headers: json,
      });
      expect(response.status, target).toBe(400);
      expect(response.headers.get('location')).toBeNull();
    }
  });

  it('redirects to the provider with PKCE S256, state and offline access, revealing nothing about the user', async () => {
    const response = await fetch(`${server.url}/auth/start?login_hint=new@example.com`, {
      redirect: 'manual',
    });
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get('location')!);
    expect(location.origin).toBe(provider.url);
    expect(location.searchParams.get('code_challenge_method')).toBe('S256');
    expect(location.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(location.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(location.searchParams.get('access_type')).toBe('offline');
    // Consent is asked for after the callback, only if Google granted no refresh token.
    expect(location.searchParams.get('prompt')).toBeNull();
    expect(location.searchParams.get('login_hint')).toBe('new@example.com');
    expect(response.headers.get('set-cookie')).toMatch(/HttpOnly/i);
  });

  it('does not force consent when a refresh token is already on file', async () => {
    await browserSignIn(server.url, 'returning@example.com');
    const response = await fetch(`${server.url}/auth/start?login_hint=returning@example.com`, {
      redirect: 'manual',
    });
    expect(new URL(response.headers.get('location')!).searchParams.get('prompt')).toBeNull();
  });

  it('refuses a replayed callback (state consumed), a forged state, and a callback without state', async () => {
    const { cookie, callback } = await startSignIn(server.url, 'replay@example.com');
    const first = await fetch(callback, { headers: { ...json, cookie: cookie! } });
    expect(first.status).toBe(200);
    const replay = await fetch(callback, { headers: { ...json, cookie: cookie! } });
    expect(replay.status).toBe(400);
    expect(await replay.json()).not.toHaveProperty('access_token');

    const forged = new URL(callback);
    forged.searchParams.set('state', 'forged-state-value-0123456789abcdef');
    expect((await fetch(forged, { headers: json })).status).toBe(400);
    const stateless = new URL(callback);
    stateless.searchParams.delete('state');
    expect((await fetch(stateless, { headers: json })).status).toBe(400);
  });

  it('refuses a callback from another browser (login CSRF); the browser that started it still finishes', async () => {
    const { cookie, callback } = await startSignIn(server.url, 'csrf@example.com');
    const attacker = await fetch(callback, { headers: json });
    expect(attacker.status).toBe(400);
    expect(await store.get('csrf@example.com')).toBeUndefined();
    const owner = await fetch(callback, { headers: { ...json, cookie: cookie! } });
    expect(owner.status).toBe(200);
  });

  it('consumes the state when the provider reports an error, storing nothing', async () => {
    const { cookie, callback } = await startSignIn(server.url, 'declined@example.com');
    const declined = new URL(callback);
    declined.searchParams.delete('code');
    declined.searchParams.set('error', 'access_denied');
    expect((await fetch(declined, { headers: { ...json, cookie: cookie! } })).status).toBe(400);
    expect((await fetch(callback, { headers: { ...json, cookie: cookie! } })).status).toBe(400);
    expect(await store.get('declined@example.com')).toBeUndefined();
  });

  it('answers the callback with an HTML page that shows the token but never puts it in a URL', async () => {
    const { cookie, callback } = await startSignIn(server.url, 'html@example.com');
    const page = await fetch(callback, {
      headers: { cookie: cookie!, accept: 'text/html' },
      redirect: 'manual',
    });
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('location')).toBeNull();
    const html = await page.text();
    const token = /Bearer (mcpoc_[A-Za-z0-9_-]+)/.exec(html)?.[1];
    expect(token).toBeDefined();
    expect(html).not.toMatch(new RegExp(`href="[^"]*${token}`));
  });

  it('revokes only the caller’s own credentials: a body naming another user is refused', async () => {
    const victim = await browserSignIn(server.url, 'victim@example.com');
    const caller = await browserSignIn(server.url, 'caller@example.com');
    const attempt = await fetch(`${server.url}/auth/revoke`, {
      method: 'POST',
      headers: { authorization: `Bearer ${caller.body.access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ user_id: 'victim@example.com' }),
    });
    expect(attempt.status).toBe(403);
    expect(await store.get('victim@example.com')).toBeDefined();
    expect(await store.get('caller@example.com')).toBeDefined();
    const anonymous = await fetch(`${server.url}/auth/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user_id: 'victim@example.com' }),
    });
    expect(anonymous.status).toBe(401);
    const own = await fetch(`${server.url}/auth/revoke`, {
      method: 'POST',
      headers: { authorization: `Bearer ${caller.body.access_token}` },
    });
    expect(own.status).toBe(200);
    expect(await store.get('caller@example.com')).toBeUndefined();
    expect(await store.get('victim@example.com')).toBeDefined();
    expect(victim.status).toBe(200);
  });

  it('reports the caller’s own status without tokens', async () => {
    const signed = await browserSignIn(server.url, 'status@example.com');
    const response = await fetch(`${server.url}/auth/status`, {
      headers: { authorization: `Bearer ${signed.body.access_token}` },
    });
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      user_id: 'status@example.com',
      has_refresh_token: true,
      credentials_stored: true,
    });
    const stored = (await store.get('status@example.com'))!.credentials;
    expect(JSON.stringify(body)).not.toContain(stored.accessToken);
    expect(JSON.stringify(body)).not.toContain(stored.refreshToken!);
  });

  it('answers oversized and malformed requests with a clear 4xx and stores nothing', async () => {
    const signed = await browserSignIn(server.url, 'big@example.com');
    const headers = {
      authorization: `Bearer ${signed.body.access_token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    };
    const huge = await fetch(server.mcpUrl, {
      method: 'POST',
      headers,
      body: JSON.stringify({ x: 'a'.repeat(2_000_000) }),
    });
    expect(huge.status).toBe(413);
    const malformed = await fetch(server.mcpUrl, { method: 'POST', headers, body: '{"jsonrpc": ' });
    expect(malformed.status).toBe(400);
    const badHint = await fetch(`${server.url}/auth/start?login_hint=../../etc/passwd`, {
      headers: json,
      redirect: 'manual',
    });
    expect(badHint.status).toBe(400);
    const arrays = await fetch(`${server.url}/oauth/callback?state=a&state=b`, { headers: json });
    expect(arrays.status).toBe(400);
    expect((await server.sessionStore.stats()).oauthStates).toBeLessThan(20);
  });

  it('refuses an MCP request with a session id bound to nobody (404) or without a token (401)', async () => {
    const signed = await browserSignIn(server.url, 'mcp@example.com');
    const headers = {
      authorization: `Bearer ${signed.body.access_token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-session-id': '00000000-0000-4000-8000-000000000000',
    };
    const call = { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} };
    expect((await fetch(server.mcpUrl, { method: 'POST', headers, body: JSON.stringify(call) })).status).toBe(
      404,
    );
    const { authorization: _drop, ...anonymous } = headers;
    expect(
      (await fetch(server.mcpUrl, { method: 'POST', headers: anonymous, body: JSON.stringify(call) })).status,
    ).toBe(401);
  });

  it('gives a client without URL elicitation a single-use connect link (no token) when credentials are gone', async () => {
    const signed = await browserSignIn(server.url, 'gone@example.com');
    const transport = new StreamableHTTPClientTransport(new URL(server.mcpUrl), {
      requestInit: { headers: { authorization: `Bearer ${signed.body.access_token}` } },
    });
    const client = new Client({ name: 'test', version: '1.0.0' });
    await client.connect(transport);
    await store.delete('gone@example.com');
    clock.offsetMs += 3_600_000; // the cached access token expired: the manager reads the store first
    const result = (await client.callTool({ name: 'get_profile', arguments: {} })) as {
      isError?: boolean;
      content: Array<{ text?: string }>;
    };
    expect(result.isError).toBe(true);
    expect(result.content[0]?.text).toMatch(/Open this link in your browser .*\/auth\/connect\?t=/);
    expect(result.content[0]?.text).not.toContain(signed.body.access_token as string);
    await client.close();
  });
});
