/**
 * The bearer-mode sign-in handlers as a web-standard host calls them (`Request` in, `Response` out),
 * against the Google-like provider: what start accepts and refuses (rate limit per address, hint,
 * parameter length, return_to allow-list), what the callback issues and shows, and revoke and status
 * for the verified user only. Connect links: sign-in-handlers-connect.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createSignInHandlers, type SignInHandlersOptions } from '../../src/http/sign-in-handlers.js';
import { type GoogleLikeProvider, startGoogleLikeProvider } from '../../src/testing/index.js';
import { managerHarness } from '../support/manager-harness.js';
import {
  CALLBACK,
  DRIVE,
  get,
  handlersOver,
  json,
  signIn,
  throughGoogle,
  userFactory,
} from '../support/sign-in-handlers-harness.js';

let provider: GoogleLikeProvider;
beforeAll(async () => {
  provider = await startGoogleLikeProvider();
});
afterAll(async () => {
  await provider.close();
});

const setup = (overrides: Partial<SignInHandlersOptions> = {}) => handlersOver(provider, overrides);

const freshUser = userFactory('signin');

describe('createSignInHandlers', () => {
  it('needs a manager and a session store', () => {
    const { manager, sessionStore } = managerHarness(provider);
    const rest = { redirectUri: CALLBACK, serverSecret: randomBytes(32).toString('base64url') };
    const message = 'createSignInHandlers needs manager and sessionStore';
    expect(() => createSignInHandlers(undefined as unknown as SignInHandlersOptions)).toThrow(message);
    expect(() => createSignInHandlers({ ...rest, sessionStore } as SignInHandlersOptions)).toThrow(message);
    expect(() => createSignInHandlers({ ...rest, manager } as SignInHandlersOptions)).toThrow(message);
    expect(() => createSignInHandlers({ ...rest, manager, sessionStore })).not.toThrow();
  });
});

describe('start', () => {
  it('sends the browser to Google with a flow cookie, Secure on an https callback unless told otherwise', async () => {
    const { handlers } = setup();
    const response = await handlers.start(
      get('https://mcp.example.com/auth/start?login_hint=Alice@Example.com'),
    );
    expect(response.status).toBe(302);
    const google = new URL(response.headers.get('location') ?? '');
    expect(google.searchParams.get('login_hint')).toBe('alice@example.com');
    expect(google.searchParams.get('redirect_uri')).toBe(CALLBACK);
    expect(google.searchParams.get('scope')).toBe('openid email');
    expect(response.headers.get('set-cookie')).toMatch(/^__Host-mcpoc_signin_[A-Za-z0-9_-]{12}=.*; Secure$/);
    const plain = setup({ secureCookies: false, cookieName: 'flow', scopes: [DRIVE] }).handlers;
    const plainResponse = await plain.start(get('https://mcp.example.com/auth/start'));
    expect(plainResponse.headers.get('set-cookie')).toMatch(/^flow_[A-Za-z0-9_-]{12}=/);
    expect(plainResponse.headers.get('set-cookie')).not.toMatch(/Secure/);
    expect(new URL(plainResponse.headers.get('location') ?? '').searchParams.get('scope')).toBe(
      `openid email ${DRIVE}`,
    );
    expect(new URL(plainResponse.headers.get('location') ?? '').searchParams.has('login_hint')).toBe(false);
  });

  it('refuses a hint that is not an email, a parameter over 2,048 characters, and a return_to not allowed', async () => {
    const { handlers } = setup({ allowedReturnTo: ['https://app.example/done'] });
    const refused = async (query: string) => {
      const response = await handlers.start(get(`https://mcp.example.com/auth/start?${query}`, json));
      expect(response.status, query.slice(0, 40)).toBe(400);
      expect(response.headers.get('location')).toBeNull();
      return ((await response.json()) as { error_description: string }).error_description;
    };
    expect(await refused('login_hint=not-an-email')).toMatch(/email/i);
    expect(await refused(`return_to=${'x'.repeat(2049)}`)).toBe('query parameter return_to is too long');
    expect(await refused(`login_hint=${'a'.repeat(2040)}%40example.com`)).toBe(
      'query parameter login_hint is too long',
    );
    expect(await refused('return_to=https://evil.example/')).toBe(
      'return_to is not an allowed redirect target',
    );
    // 2,048 characters is still a parameter (refused here only for not being allowed).
    expect(await refused(`return_to=${'x'.repeat(2048)}`)).toBe(
      'return_to is not an allowed redirect target',
    );
    const ok = await handlers.start(
      get('https://mcp.example.com/auth/start?return_to=https://app.example/done&login_hint='),
    );
    expect(ok.status).toBe(302);
  });

  it('limits start per client address, counting requests without one together', async () => {
    const { handlers } = setup({ rateLimit: { limit: 1, windowMs: 60_000 } });
    const start = () => get('https://mcp.example.com/auth/start', json);
    expect((await handlers.start(start(), { clientAddress: '192.0.2.1' })).status).toBe(302);
    expect((await handlers.start(start(), { clientAddress: '192.0.2.1' })).status).toBe(429);
    expect((await handlers.start(start(), { clientAddress: '192.0.2.2' })).status).toBe(302);
    expect((await handlers.start(start())).status).toBe(302);
    expect((await handlers.start(start(), {})).status).toBe(429);
  });

  it('refills the budget after windowMs on the injected clock', async () => {
    const { handlers, clock } = setup({ rateLimit: { limit: 1, windowMs: 60_000 } });
    const start = () => handlers.start(get('https://mcp.example.com/auth/start'), { clientAddress: 'a' });
    expect((await start()).status).toBe(302);
    expect((await start()).status).toBe(429);
    clock.advance(60_000);
    expect((await start()).status).toBe(302);
  });

  it('marks cookies Secure only for an https callback, unless told', async () => {
    const plain = setup({ redirectUri: 'http://127.0.0.1:8080/auth/callback' }).handlers;
    const cookie =
      (await plain.start(get('http://127.0.0.1:8080/auth/start'))).headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^mcpoc_signin_/);
    expect(cookie).not.toMatch(/Secure/);
    const forced = setup({
      redirectUri: 'http://127.0.0.1:8080/auth/callback',
      secureCookies: true,
    }).handlers;
    expect((await forced.start(get('http://127.0.0.1:8080/auth/start'))).headers.get('set-cookie')).toMatch(
      /Secure$/,
    );
  });

  it('allows no return_to at all without allowedReturnTo', async () => {
    const { handlers } = setup();
    for (const target of ['https://app.example/done', 'Stryker was here', '/']) {
      const response = await handlers.start(
        get(`https://mcp.example.com/auth/start?return_to=${encodeURIComponent(target)}`),
      );
      expect(response.status, target).toBe(400);
    }
  });

  it('is on by default at 30 per address', async () => {
    const { handlers } = setup({ rateLimit: undefined });
    for (let i = 0; i < 30; i += 1) {
      expect(
        (await handlers.start(get('https://mcp.example.com/auth/start'), { clientAddress: 'a' })).status,
      ).toBe(302);
    }
    expect(
      (await handlers.start(get('https://mcp.example.com/auth/start'), { clientAddress: 'a' })).status,
    ).toBe(429);
  });
});

describe('callback', () => {
  it('issues a working bearer token and says everything a client needs, as JSON', async () => {
    const s = setup({
      mcpEndpoint: 'https://mcp.example.com/mcp',
      allowedReturnTo: ['https://app.example/done'],
      bearerTokenTtlMs: 3_600_000,
    });
    const user = freshUser();
    const response = await signIn(s.handlers, user, '?return_to=https://app.example/done');
    expect(response.status).toBe(200);
    expect(response.headers.get('set-cookie')).toMatch(/Max-Age=0/);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toEqual({
      user_id: user,
      scopes: ['openid', 'email'],
      refresh_token_stored: true,
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_at: s.clock.now() + 3_600_000,
      mcp_endpoint: 'https://mcp.example.com/mcp',
      return_to: 'https://app.example/done',
    });
    const auth = await s.sessionStore.verifyBearerToken(String(body.access_token));
    expect(auth.extra?.userId).toBe(user);
    const session = await s.sessionStore.getSession(user);
    expect(session?.scopes).toEqual(['openid', 'email']);
    expect(session?.issuer).toBe(provider.issuer);
    expect(session?.expiresAt).toBeGreaterThan(s.clock.now());
    expect(s.lines).toContainEqual({
      level: 'info',
      message: 'user signed in',
      fields: { userId: user, scopes: 2 },
    });
  });

  it('leaves mcp_endpoint and return_to out when there are none', async () => {
    const body = (await (await signIn(setup().handlers, freshUser())).json()) as Record<string, unknown>;
    expect(body).not.toHaveProperty('mcp_endpoint');
    expect(body).not.toHaveProperty('return_to');
  });

  it('shows the token once on a page, with the endpoint, the scopes, the return link', async () => {
    const s = setup({
      mcpEndpoint: 'https://mcp.example.com/mcp',
      allowedReturnTo: ['https://app.example/done'],
    });
    const user = freshUser();
    const response = await signIn(s.handlers, user, '?return_to=https://app.example/done', {});
    const html = await response.text();
    expect(response.headers.get('content-type')).toMatch(/text\/html/);
    expect(html).toContain(`Signed in as ${user}.`);
    expect(response.headers.get('set-cookie')).toMatch(/Max-Age=0/);
    expect(html).toMatch(/Authorization: Bearer [A-Za-z0-9_-]{20,}/);
    expect(html).toContain('MCP endpoint: https://mcp.example.com/mcp');
    expect(html).toContain('Granted scopes: openid email');
    expect(html).toContain('href="https://app.example/done"');
    expect(html).not.toContain('No refresh token was granted');
    const bare = await (await signIn(setup().handlers, freshUser(), '', {})).text();
    expect(bare).not.toContain('MCP endpoint:');
    expect(bare).not.toContain('<a ');
  });

  it('warns on the page when Google granted no refresh token even after asking again', async () => {
    const { handlers } = setup();
    const user = freshUser();
    const offline = (url: URL) => url.searchParams.delete('access_type');
    const first = await handlers.callback(
      (await throughGoogle(await handlers.start(get('https://mcp.example.com/auth/start')), user, offline))(),
    );
    const second = await handlers.callback((await throughGoogle(first, user, offline))());
    const html = await second.text();
    expect(html).toContain('No refresh token was granted');
  });

  it('answers Google’s refusal with a 400 naming its code, clearing the cookie', async () => {
    const { handlers } = setup();
    const started = await handlers.start(get('https://mcp.example.com/auth/start'));
    const cookie = (started.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const state = new URL(started.headers.get('location') ?? '').searchParams.get('state') ?? '';
    const response = await handlers.callback(
      get(`${CALLBACK}?${new URLSearchParams({ state, error: 'access_denied' })}`, { cookie, ...json }),
    );
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error_description: string }).error_description).toBe(
      'Google did not authorize (access_denied)',
    );
    expect(response.headers.get('set-cookie')).toMatch(/Max-Age=0/);
  });

  it('applies the policy and the login-hint match', async () => {
    const policy = setup({ policy: { allowedUsers: ['nobody@example.com'] } });
    expect((await signIn(policy.handlers, freshUser())).status).toBe(403);
    const strict = setup({ requireLoginHintMatch: true });
    const started = await strict.handlers.start(
      get('https://mcp.example.com/auth/start?login_hint=bob@example.com'),
    );
    expect((await strict.handlers.callback((await throughGoogle(started, freshUser()))(json))).status).toBe(
      403,
    );
  });

  it('answers a failure inside the handler with a generic 500, logged once', async () => {
    const s = setup();
    const started = await s.handlers.start(get('https://mcp.example.com/auth/start'));
    const request = (await throughGoogle(started, freshUser()))(json);
    vi.spyOn(s.sessionStore, 'issueBearerToken').mockRejectedValue(new Error('backend down at 10.0.0.7'));
    const response = await s.handlers.callback(request);
    expect(response.status).toBe(500);
    expect(await response.text()).not.toContain('10.0.0.7');
    expect(s.lines.filter((line) => line.level === 'error')).toHaveLength(1);
    expect(s.lines.find((line) => line.level === 'error')?.fields).toMatchObject({
      component: 'sign-in',
      operation: 'callback',
    });
  });
});

describe('revoke and status', () => {
  const post = (body?: string, type = 'application/x-www-form-urlencoded') =>
    new Request('https://mcp.example.com/auth/revoke', {
      method: 'POST',
      ...(body === undefined ? {} : { body, headers: { 'content-type': type } }),
    });

  it('revokes the verified user’s own credentials, naming them or not', async () => {
    const s = setup();
    for (const body of [
      undefined,
      'user_id=SELF',
      'userId=SELF',
      'user=SELF',
      'user_email=SELF',
      'email=SELF',
      '{"user_id":"SELF"}',
    ]) {
      const user = freshUser();
      await signIn(s.handlers, user);
      const request =
        body?.startsWith('{') === true
          ? post(body.replace('SELF', user.toUpperCase()), 'application/json')
          : post(body?.replace('SELF', encodeURIComponent(user.toUpperCase())));
      const response = await s.handlers.revoke(request, { userId: user });
      expect(response.status, String(body)).toBe(200);
      expect(await response.json()).toEqual({
        user_id: user,
        revoked: true,
        credentials_removed: true,
        provider_revoked: true,
      });
      expect(await s.store.get(user)).toBeUndefined();
    }
  });

  it('treats a body it cannot read (over 16 KiB) as naming nobody', async () => {
    const s = setup();
    const user = freshUser();
    await signIn(s.handlers, user);
    const response = await s.handlers.revoke(
      post(`user_id=victim%40example.com&pad=${'x'.repeat(17 * 1024)}`),
      { userId: user },
    );
    expect(response.status).toBe(200);
    expect(await s.store.get(user)).toBeUndefined();
  });

  it('refuses to revoke another user’s credentials, named in any field or even malformed', async () => {
    const s = setup();
    const user = freshUser();
    await signIn(s.handlers, user);
    for (const body of ['user_id=victim%40example.com', 'email=victim%40example.com', 'user=not-an-email']) {
      const response = await s.handlers.revoke(post(body), { userId: user });
      expect(response.status, body).toBe(403);
      expect(await response.json()).toEqual({
        error: 'access_denied',
        error_description: 'you can revoke only your own credentials',
      });
    }
    const refusals = s.lines.filter((line) =>
      line.message.startsWith('SECURITY: a revoke request named another user'),
    );
    expect(refusals.map((line) => line.fields)).toEqual([
      { userId: user },
      { userId: user },
      { userId: user },
    ]);
    expect(await s.store.get(user)).toBeDefined();
  });

  it('answers a failing revoke or status with a generic 500, logged', async () => {
    const s = setup();
    vi.spyOn(s.manager, 'revoke').mockRejectedValue(new Error('store down at 10.0.0.7'));
    vi.spyOn(s.manager, 'describe').mockRejectedValue(new Error('store down at 10.0.0.7'));
    const revoked = await s.handlers.revoke(post(), { userId: 'a@example.com' });
    const status = await s.handlers.status(get('https://mcp.example.com/auth/status'), {
      userId: 'a@example.com',
    });
    for (const [response, operation] of [
      [revoked, 'revoke'],
      [status, 'status'],
    ] as const) {
      expect(response.status).toBe(500);
      expect(await response.text()).not.toContain('10.0.0.7');
      expect(s.lines.some((line) => line.level === 'error' && line.fields.operation === operation)).toBe(
        true,
      );
    }
  });

  it('status: scopes, expiry and whether a refresh token is on file; never a token', async () => {
    const s = setup();
    const user = freshUser();
    await signIn(s.handlers, user);
    const stored = await s.store.get(user);
    const response = await s.handlers.status(get('https://mcp.example.com/auth/status'), {
      userId: user.toUpperCase(),
    });
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toEqual({
      user_id: user,
      scopes: ['openid', 'email'],
      access_token_expires_at: stored?.credentials.expiresAt,
      has_refresh_token: true,
      credentials_stored: true,
    });
    expect(JSON.stringify(body)).not.toContain(stored?.credentials.accessToken ?? '~');
  });

  it('status without credentials: the session’s scopes, or none', async () => {
    const s = setup();
    await s.sessionStore.storeSession('session-only@example.com', { scopes: ['openid'] });
    expect(
      await (
        await s.handlers.status(get('https://x/auth/status'), { userId: 'session-only@example.com' })
      ).json(),
    ).toEqual({
      user_id: 'session-only@example.com',
      scopes: ['openid'],
      access_token_expires_at: null,
      has_refresh_token: false,
      credentials_stored: false,
    });
    expect(
      (
        (await (
          await s.handlers.status(get('https://x/auth/status'), { userId: 'nobody@example.com' })
        ).json()) as { scopes: unknown }
      ).scopes,
    ).toEqual([]);
  });
});
