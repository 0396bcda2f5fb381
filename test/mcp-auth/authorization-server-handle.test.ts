/**
 * McpAuthorizationServer as a web-standard host uses it (`handle(Request)`, no HTTP server of its
 * own), against the Google-like provider: which request reaches which endpoint, how failures are
 * answered, every refusal of an authorization request (as a page, never a redirect), what the
 * Google callback stores, what the client's redirect carries, and the AuthInfo of a verified token.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { InvalidTokenError } from '../../src/index.js';
import { McpAuthorizationServer } from '../../src/mcp-auth/authorization-server.js';
import type { McpAuthorizationServerOptions } from '../../src/mcp-auth/options.js';
import { createPkcePair } from '../../src/secrets.js';
import { MemorySessionBackend, OAuth21SessionStore, type SessionBackend } from '../../src/session/index.js';
import { type GoogleLikeProvider, startGoogleLikeProvider } from '../../src/testing/index.js';
import { FakeClock } from '../support/clock.js';
import { managerHarness } from '../support/manager-harness.js';
import { type RecordedLine, recordingLogger } from '../support/recording-logger.js';

const ISSUER = 'https://mcp.example.com/';
const RESOURCE = 'https://mcp.example.com/mcp';
const CLIENT_REDIRECT = 'https://client.example/cb';

let provider: GoogleLikeProvider;
beforeAll(async () => {
  provider = await startGoogleLikeProvider();
});
afterAll(async () => {
  await provider.close();
});

let users = 0;
const freshUser = () => `handle-${++users}@example.com`;

function setup(overrides: Partial<McpAuthorizationServerOptions> = {}, backend?: SessionBackend) {
  const clock = new FakeClock(Date.now());
  const sessionStore = new OAuth21SessionStore({ clock, ...(backend === undefined ? {} : { backend }) });
  const { manager } = managerHarness(provider, { clock, sessionStore });
  const lines: RecordedLine[] = [];
  const server = new McpAuthorizationServer({
    manager,
    sessionStore,
    serverSecret: randomBytes(32).toString('base64url'),
    issuerUrl: ISSUER,
    resourceServerUrl: RESOURCE,
    googleScopes: ['profile'],
    mcpScopes: ['mcp:read', 'mcp:write'],
    rateLimits: false,
    clock,
    logger: recordingLogger(lines),
    ...overrides,
  });
  return { server, clock, sessionStore, lines };
}

type Setup = ReturnType<typeof setup>;

const at = (path: string, init?: RequestInit) => new Request(new URL(path, ISSUER), init);

async function register(s: Setup, redirectUris = [CLIENT_REDIRECT]): Promise<string> {
  const response = await s.server.handle(
    at('/register', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: redirectUris, client_name: 'Handle client' }),
    }),
  );
  expect(response?.status).toBe(201);
  return String((await jsonOf<{ client_id: string }>(response)).client_id);
}

function authorizeParams(clientId: string, overrides: Record<string, string | null> = {}): string {
  const params: Record<string, string | null> = {
    client_id: clientId,
    redirect_uri: CLIENT_REDIRECT,
    response_type: 'code',
    code_challenge: createPkcePair().codeChallenge,
    code_challenge_method: 'S256',
    state: 'client-state',
    ...overrides,
  };
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== null) query.set(name, value);
  return `/authorize?${query}`;
}

/** The browser through /authorize, Google and the callback; resolves the callback's response. */
async function throughGoogle(
  s: Setup,
  clientId: string,
  user: string,
  overrides: Record<string, string | null> = {},
) {
  const start = await s.server.handle(at(authorizeParams(clientId, overrides)));
  expect(start?.status).toBe(302);
  const cookie = (start?.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const google = new URL(start?.headers.get('location') ?? '');
  google.searchParams.set('login_hint', user);
  const back = new URL((await fetch(google, { redirect: 'manual' })).headers.get('location') ?? '');
  return {
    callback: (await s.server.handle(at(`${back.pathname}${back.search}`, { headers: { cookie } })))!,
    back,
    cookie,
  };
}

/** Then the consent page, approved; resolves the redirect to the client. */
async function approve(s: Setup, callback: Response, decision = 'approve'): Promise<Response> {
  const consentUrl = new URL(callback.headers.get('location') ?? '');
  const consentCookie = callback.headers.getSetCookie().find((value) => value.includes('mcpoc_consent_'));
  const cookie = consentCookie?.split(';')[0] ?? '';
  const page = await s.server.handle(
    at(`${consentUrl.pathname}${consentUrl.search}`, { headers: { cookie } }),
  );
  const html = (await page?.text()) ?? '';
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
  return (await s.server.handle(
    at(consentUrl.pathname, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        consent: consentUrl.searchParams.get('id') ?? '',
        csrf,
        decision,
      }),
    }),
  ))!;
}

async function exchange(s: Setup, clientId: string, code: string, verifier: string) {
  const response = await s.server.handle(
    at('/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: clientId,
        code,
        code_verifier: verifier,
        redirect_uri: CLIENT_REDIRECT,
      }),
    }),
  );
  expect(response?.status).toBe(200);
  return (await response?.json()) as { access_token: string; expires_in: number; scope?: string };
}

async function jsonOf<T>(response: Response | undefined): Promise<T> {
  if (response === undefined) throw new Error('not handled');
  return (await response.json()) as T;
}

async function refusedPage(response: Response | undefined): Promise<string> {
  expect(response?.status).toBe(400);
  expect(response?.headers.get('location')).toBeNull();
  return (await response?.text()) ?? '';
}

describe('McpAuthorizationServer.handle routing', () => {
  it('answers each endpoint on its path and method, and nothing else', async () => {
    const s = setup();
    expect(s.server.paths.protectedResourceMetadata).toBe('/.well-known/oauth-protected-resource/mcp');
    const metadata = await s.server.handle(at('/.well-known/oauth-authorization-server'));
    expect((await jsonOf<{ issuer: string }>(metadata)).issuer).toBe(ISSUER);
    const resource = await s.server.handle(at('/.well-known/oauth-protected-resource/mcp'));
    expect((await jsonOf<{ resource: string }>(resource)).resource).toBe(RESOURCE);
    expect((await s.server.handle(at('/token', { method: 'OPTIONS' })))?.status).toBe(204);
    expect(await refusedPage(await s.server.handle(at('/authorize')))).toContain('Unknown client');
    expect(await refusedPage(await s.server.handle(at('/oauth/google/callback')))).toContain('incomplete');
    expect(await refusedPage(await s.server.handle(at('/oauth/consent')))).toContain('incomplete');
    expect(
      await refusedPage(await s.server.handle(at('/oauth/consent', { method: 'POST', body: '' }))),
    ).toContain('incomplete');
    const token = await s.server.handle(at('/token', { method: 'POST', body: '' }));
    expect(token?.status).toBe(400);
    expect((await jsonOf<{ error: string }>(token)).error).toMatch(/^invalid_/);
    expect(await register(s)).toMatch(/^mcpc_/);
    expect(
      (await s.server.handle(at('/revoke', { method: 'POST', body: '' })))?.status,
    ).toBeGreaterThanOrEqual(400);
    for (const [path, method] of [
      ['/token', 'GET'],
      ['/register', 'GET'],
      ['/revoke', 'GET'],
      ['/authorize', 'POST'],
      ['/oauth/google/callback', 'POST'],
      ['/oauth/consent', 'PUT'],
      ['/.well-known/oauth-authorization-server', 'POST'],
      ['/.well-known/oauth-protected-resource/mcp', 'POST'],
      ['/authorize', 'OPTIONS'],
      ['/mcp', 'GET'],
      ['/', 'GET'],
    ]) {
      expect(await s.server.handle(at(path!, { method: method! })), `${method} ${path}`).toBeUndefined();
    }
  });

  it('answers a storage failure with a generic 500, logged once with where it happened', async () => {
    const inner = new MemorySessionBackend();
    const failing = new Proxy(inner, {
      get(target, property) {
        if (property === 'getSync' || property === 'locality') return undefined;
        if (property === 'get') {
          return async (namespace: string, key: string) => {
            if (namespace.startsWith('mcp-client')) throw new Error('ECONNRESET talking to the backend');
            return target.get(namespace, key);
          };
        }
        const value = Reflect.get(target, property);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as SessionBackend;
    const s = setup({ backend: failing }, failing);
    const response = await s.server.handle(at(authorizeParams('mcpc_x')));
    expect(response?.status).toBe(500);
    const body = (await response?.text()) ?? '';
    expect(body).not.toContain('ECONNRESET');
    const logged = s.lines.filter((line) => line.level === 'error' || line.level === 'warn');
    expect(logged).toHaveLength(1);
    expect(logged[0]?.fields).toMatchObject({
      component: 'authorization-server',
      operation: 'GET /authorize',
    });
  });
});

describe('authorization requests', () => {
  it('refuses each invalid request with a page naming the error, never a redirect', async () => {
    const s = setup();
    const clientId = await register(s);
    const cases: Array<[Record<string, string | null>, string]> = [
      [{ response_type: 'token' }, 'unsupported_response_type'],
      [{ response_type: null }, 'unsupported_response_type'],
      [{ code_challenge: null }, 'a PKCE code_challenge (S256) is required'],
      [{ code_challenge: 'a'.repeat(42) }, 'a PKCE code_challenge (S256) is required'],
      [{ code_challenge: 'a'.repeat(44) }, 'a PKCE code_challenge (S256) is required'],
      [{ code_challenge: `!${'a'.repeat(42)}` }, 'a PKCE code_challenge (S256) is required'],
      [{ code_challenge: `${'a'.repeat(42)}!` }, 'a PKCE code_challenge (S256) is required'],
      [{ code_challenge_method: 'plain' }, 'code_challenge_method must be S256'],
      [{ code_challenge_method: null }, 'code_challenge_method must be S256'],
      [{ state: 's'.repeat(513) }, 'state is too long'],
      [{ resource: 'not a url' }, 'invalid_target: resource is not a URL'],
      [{ resource: 'https://other.example/mcp' }, 'invalid_target: the resource is not this server'],
      [{ scope: 'mcp:read mcp:admin' }, 'invalid_scope: scope &#34;mcp:admin&#34; is not supported'],
      [{ scope: `x${'y'.repeat(100)}` }, `scope &#34;x${'y'.repeat(63)}&#34; is not supported`],
      [
        { redirect_uri: 'https://attacker.example/cb' },
        'The redirect_uri is not one this client registered.',
      ],
      [{ client_id: 'mcpc_unknown' }, 'Unknown client'],
    ];
    for (const [overrides, message] of cases) {
      const text = await refusedPage(await s.server.handle(at(authorizeParams(clientId, overrides))));
      expect(text, JSON.stringify(overrides)).toContain(message);
    }
  });

  it('accepts the edges: a 512-character state, this server’s resource, a 43-character challenge', async () => {
    const s = setup();
    const clientId = await register(s);
    const edges: Array<Record<string, string | null>> = [
      { state: 's'.repeat(512) },
      { resource: RESOURCE },
      { state: null, resource: null },
    ];
    for (const overrides of edges) {
      expect(
        (await s.server.handle(at(authorizeParams(clientId, overrides))))?.status,
        JSON.stringify(overrides),
      ).toBe(302);
    }
  });

  it('takes the only registered redirect URI when none is given; with two, one must be named', async () => {
    const s = setup();
    const single = await register(s);
    expect((await s.server.handle(at(authorizeParams(single, { redirect_uri: null }))))?.status).toBe(302);
    const double = await register(s, [CLIENT_REDIRECT, 'https://client.example/other']);
    expect(
      await refusedPage(await s.server.handle(at(authorizeParams(double, { redirect_uri: null })))),
    ).toContain('The redirect_uri is not one this client registered.');
  });

  it('refuses an https client id when metadata documents are off, and explains a document it cannot use', async () => {
    const off = setup({ clientMetadataDocuments: false });
    expect(
      await refusedPage(await off.server.handle(at(authorizeParams('https://client.example/meta.json')))),
    ).toContain('Unknown client');
    const on = setup({ clientMetadataDocuments: { allowAddress: () => false } });
    expect(
      await refusedPage(await on.server.handle(at(authorizeParams('https://client.example/meta.json')))),
    ).toContain('Client refused');
  });

  it('limits /authorize per client address, counting requests without one together', async () => {
    const s = setup({ rateLimits: { authorize: { limit: 2, windowMs: 60_000 }, register: false } });
    const clientId = await register(s);
    const request = () => at(authorizeParams(clientId));
    expect((await s.server.handle(request(), { clientAddress: '192.0.2.1' }))?.status).toBe(302);
    expect((await s.server.handle(request(), { clientAddress: '192.0.2.1' }))?.status).toBe(302);
    expect((await s.server.handle(request(), { clientAddress: '192.0.2.1' }))?.status).toBe(429);
    expect((await s.server.handle(request(), { clientAddress: '192.0.2.2' }))?.status).toBe(302);
    expect((await s.server.handle(request()))?.status).toBe(302);
    expect((await s.server.handle(request(), {}))?.status).toBe(302);
    expect((await s.server.handle(request()))?.status).toBe(429);
    // The window is the server's clock: once it has passed, the address may ask again.
    s.clock.advance(60_000);
    expect((await s.server.handle(request(), { clientAddress: '192.0.2.1' }))?.status).toBe(302);
  });

  it('a denied consent sends the browser back to the client with access_denied, its state and the issuer', async () => {
    const s = setup();
    const clientId = await register(s);
    const { callback } = await throughGoogle(s, clientId, freshUser(), { state: 'client-state' });
    const denied = await approve(s, callback, 'deny');
    const location = new URL(denied.headers.get('location') ?? '');
    expect(`${location.origin}${location.pathname}`).toBe(CLIENT_REDIRECT);
    expect(location.searchParams.get('error')).toBe('access_denied');
    expect(location.searchParams.get('state')).toBe('client-state');
    expect(location.searchParams.get('iss')).toBe(ISSUER);
    expect(location.searchParams.get('code')).toBeNull();
  });

  it('names its issuer and resource as configured, and revokes a token for its client', async () => {
    const s = setup();
    expect(s.server.issuer).toBe(ISSUER);
    expect(s.server.resource).toBe(RESOURCE);
    const clientId = await register(s);
    const user = freshUser();
    const pkce = createPkcePair();
    const { callback } = await throughGoogle(s, clientId, user, { code_challenge: pkce.codeChallenge });
    const code =
      new URL((await approve(s, callback)).headers.get('location') ?? '').searchParams.get('code') ?? '';
    const tokens = (await exchange(s, clientId, code, pkce.codeVerifier)) as { access_token: string };
    expect((await s.server.verifyBearerToken(tokens.access_token)).extra?.userId).toBe(user);
    await s.server.revokeToken('another-client', tokens.access_token);
    expect((await s.server.verifyBearerToken(tokens.access_token)).extra?.userId).toBe(user);
    await s.server.revokeToken(clientId, tokens.access_token);
    await expect(s.server.verifyBearerToken(tokens.access_token)).rejects.toThrow(/revoked/);
  });
});

describe('the Google callback and the redirect to the client', () => {
  it('stores the session with the granted scopes, expiry and issuer, then asks for consent', async () => {
    const s = setup();
    const clientId = await register(s);
    const user = freshUser();
    const { callback } = await throughGoogle(s, clientId, user);
    expect(callback.status).toBe(303);
    const session = await s.sessionStore.getSession(user);
    expect(session?.scopes).toEqual(expect.arrayContaining(['openid', 'email', 'profile']));
    expect(session?.expiresAt).toBeGreaterThan(s.clock.now());
    expect(session?.issuer).toBe(provider.issuer);
    // The flow cookie is cleared alongside the consent cookie.
    expect(callback.headers.getSetCookie().some((cookie) => /Max-Age=0/.test(cookie))).toBe(true);
  });

  it('redirects to the client with the code, its state and iss; scopes deduplicated or defaulted', async () => {
    for (const [scope, expected] of [
      ['mcp:read  mcp:read mcp:write', 'mcp:read mcp:write'],
      [null, undefined],
    ] as const) {
      const s = setup({ defaultMcpScopes: [] });
      const clientId = await register(s);
      const pkce = createPkcePair();
      const { callback } = await throughGoogle(s, clientId, freshUser(), {
        scope,
        code_challenge: pkce.codeChallenge,
      });
      const redirect = await approve(s, callback);
      const location = new URL(redirect.headers.get('location') ?? '');
      expect(location.origin + location.pathname).toBe(CLIENT_REDIRECT);
      expect(location.searchParams.get('state')).toBe('client-state');
      expect(location.searchParams.get('iss')).toBe(ISSUER);
      expect(location.searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(redirect.headers.get('set-cookie')).toMatch(/Max-Age=0/);
      const tokens = await exchange(s, clientId, location.searchParams.get('code') ?? '', pkce.codeVerifier);
      expect(tokens.scope).toBe(expected);
    }
  });

  it('leaves state off the redirect when the client sent none', async () => {
    const s = setup();
    const clientId = await register(s);
    const { callback } = await throughGoogle(s, clientId, freshUser(), { state: null });
    const location = new URL((await approve(s, callback)).headers.get('location') ?? '');
    expect(location.searchParams.has('state')).toBe(false);
  });

  it('a second sign-in of an approved client gets its code at once, the flow cookie cleared', async () => {
    const s = setup();
    const clientId = await register(s);
    const user = freshUser();
    await approve(s, (await throughGoogle(s, clientId, user)).callback);
    const { callback } = await throughGoogle(s, clientId, user);
    expect(callback.status).toBe(302);
    expect(new URL(callback.headers.get('location') ?? '').searchParams.get('code')).toBeTruthy();
    expect(callback.headers.get('set-cookie')).toMatch(/Max-Age=0/);
  });

  it('answers Google’s refusal with a 403 page, and a client gone meanwhile with a 400 page, cookie cleared', async () => {
    const s = setup();
    const clientId = await register(s);
    const start = await s.server.handle(at(authorizeParams(clientId)));
    const cookie = (start?.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const state = new URL(start?.headers.get('location') ?? '').searchParams.get('state') ?? '';
    const declined = await s.server.handle(
      at(`/oauth/google/callback?${new URLSearchParams({ state, error: 'access_denied' })}`, {
        headers: { cookie },
      }),
    );
    expect(declined?.status).toBe(403);
    expect(declined?.headers.get('location')).toBeNull();
    expect(declined?.headers.get('set-cookie')).toMatch(/Max-Age=0/);

    const gone = setup({ pendingClientTtlMs: 60_000, transactionTtlMs: 600_000 });
    const goneClient = await register(gone);
    const flow = await (async () => {
      const started = await gone.server.handle(at(authorizeParams(goneClient)));
      const flowCookie = (started?.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
      const google = new URL(started?.headers.get('location') ?? '');
      google.searchParams.set('login_hint', freshUser());
      const back = new URL((await fetch(google, { redirect: 'manual' })).headers.get('location') ?? '');
      return { back, flowCookie };
    })();
    gone.clock.advance(60_000);
    const page = await gone.server.handle(
      at(`${flow.back.pathname}${flow.back.search}`, { headers: { cookie: flow.flowCookie } }),
    );
    expect(await refusedPage(page)).toContain('registration expired');
    expect(page?.headers.get('set-cookie')).toMatch(/Max-Age=0/);
  });

  it('marks its cookies Secure with the __Host- prefix on an https issuer only', async () => {
    const https = setup();
    const clientId = await register(https);
    const cookie =
      (await https.server.handle(at(authorizeParams(clientId))))?.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^__Host-mcpoc_authz_.*; Secure$/);
    const plain = setup({ secureCookies: false });
    const plainClient = await register(plain);
    const plainCookie =
      (await plain.server.handle(at(authorizeParams(plainClient))))?.headers.get('set-cookie') ?? '';
    expect(plainCookie).toMatch(/^mcpoc_authz_/);
    expect(plainCookie).not.toMatch(/Secure/);
  });

  it('applies the sign-in policy to the Google account', async () => {
    const s = setup({ policy: { allowedUsers: ['someone-else@example.com'] } });
    const clientId = await register(s);
    const { callback } = await throughGoogle(s, clientId, freshUser());
    expect(callback.status).toBe(403);
  });
});

describe('verifyBearerToken', () => {
  it('gives AuthInfo: client, a copy of the scopes, expiry in seconds, the resource and the user', async () => {
    const s = setup();
    const clientId = await register(s);
    const user = freshUser();
    const pkce = createPkcePair();
    const { callback } = await throughGoogle(s, clientId, user, {
      code_challenge: pkce.codeChallenge,
      scope: 'mcp:read',
    });
    const code =
      new URL((await approve(s, callback)).headers.get('location') ?? '').searchParams.get('code') ?? '';
    const tokens = await exchange(s, clientId, code, pkce.codeVerifier);
    s.clock.advance(500);
    const info = await s.server.verifyBearerToken(tokens.access_token);
    expect(info).toEqual({
      token: tokens.access_token,
      clientId,
      scopes: ['mcp:read'],
      expiresAt: Math.floor((s.clock.now() - 500 + tokens.expires_in * 1000) / 1000),
      resource: new URL(RESOURCE),
      resourceMetadataUrl: 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp',
      extra: { userId: user },
    });
    expect(Object.isFrozen(info)).toBe(true);
    const again = await s.server.verifyBearerToken(tokens.access_token);
    expect(again.scopes).not.toBe(info.scopes);
    await expect(s.server.verifyBearerToken(`mcpat_${'x'.repeat(43)}`)).rejects.toBeInstanceOf(
      InvalidTokenError,
    );
  });

  it('lets a storage failure through as itself, not as an invalid token', async () => {
    const s = setup();
    const failure = new Error('backend down');
    vi.spyOn(s.server.families, 'verify').mockRejectedValue(failure);
    await expect(s.server.verifyBearerToken(`mcpat_${'x'.repeat(43)}`)).rejects.toBe(failure);
  });
});
