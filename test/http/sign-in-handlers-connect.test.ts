/**
 * Connect links of the bearer-mode sign-in handlers (incremental authorization), against the
 * Google-like provider: scope bounds, expiry to the millisecond, single use with its mark, bound to
 * one user and one Google account, and what completing one does (session scopes, onConnected, no
 * bearer token).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_CONNECT_LINK_TTL_MS, type SignInHandlersOptions } from '../../src/http/sign-in-handlers.js';
import { ConfigurationError, InvalidInputError } from '../../src/index.js';
import { type GoogleLikeProvider, startGoogleLikeProvider } from '../../src/testing/index.js';
import {
  CONNECT,
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

const freshUser = userFactory('connect');

describe('connect links', () => {
  it('need connectUrl, and 1 to 50 scopes of at most 256 characters', async () => {
    const { handlers } = setup({ connectUrl: undefined });
    await expect(handlers.connectLink({ userId: 'a@example.com', scopes: [DRIVE] })).rejects.toThrow(
      ConfigurationError,
    );
    const s = setup();
    for (const scopes of [
      [],
      Array.from({ length: 51 }, (_, i) => `s${i}`),
      ['x'.repeat(257)],
      [DRIVE, 'x'.repeat(257)],
      [42 as unknown as string],
      [DRIVE, 42 as unknown as string],
    ]) {
      await expect(s.handlers.connectLink({ userId: 'a@example.com', scopes })).rejects.toThrow(
        InvalidInputError,
      );
    }
    const fifty = Array.from({ length: 50 }, (_, i) => `s${i}`);
    await expect(
      s.handlers.connectLink({ userId: 'a@example.com', scopes: [...fifty, 's0'] }),
    ).resolves.toBeDefined();
    await expect(
      s.handlers.connectLink({ userId: 'a@example.com', scopes: ['x'.repeat(256)] }),
    ).resolves.toBeDefined();
  });

  it('is a sealed link at connectUrl with an elicitation id, expiring after connectLinkTtlMs', async () => {
    const s = setup();
    const link = await s.handlers.connectLink({ userId: 'A@Example.com', scopes: [DRIVE] });
    expect(link.url.startsWith(`${CONNECT}?t=`)).toBe(true);
    expect(link.elicitationId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(link.expiresAt).toBe(s.clock.now() + DEFAULT_CONNECT_LINK_TTL_MS);
    const custom = setup({ connectLinkTtlMs: 60_000 });
    expect((await custom.handlers.connectLink({ userId: 'a@example.com', scopes: [DRIVE] })).expiresAt).toBe(
      custom.clock.now() + 60_000,
    );
  });

  it('opens once, before its expiry to the millisecond, to Google for the user and the scopes', async () => {
    const s = setup();
    const late = await s.handlers.connectLink({ userId: 'A@Example.com', scopes: [DRIVE, DRIVE] });
    const onTime = await s.handlers.connectLink({ userId: 'a@example.com', scopes: [DRIVE] });
    s.clock.advance(DEFAULT_CONNECT_LINK_TTL_MS - 1);
    const opened = await s.handlers.connect(get(onTime.url));
    expect(opened.status).toBe(302);
    const google = new URL(opened.headers.get('location') ?? '');
    expect(google.searchParams.get('login_hint')).toBe('a@example.com');
    expect(google.searchParams.get('scope')).toBe(`openid email ${DRIVE}`);
    const again = await s.handlers.connect(get(onTime.url, json));
    expect(again.status).toBe(400);
    expect(((await again.json()) as { error_description: string }).error_description).toMatch(/already used/);
    expect(s.lines).toContainEqual({
      level: 'warn',
      message: 'SECURITY: a connect link was opened twice; refused',
      fields: { userId: 'a@example.com' },
    });
    s.clock.advance(1);
    const expired = await s.handlers.connect(get(late.url, json));
    expect(expired.status).toBe(400);
    expect(((await expired.json()) as { error_description: string }).error_description).toMatch(
      /expired or is not valid/,
    );
    for (const url of [`${CONNECT}`, `${CONNECT}?t=forged`]) {
      expect((await s.handlers.connect(get(url))).status).toBe(400);
    }
  });

  it('marks a link used until a minute after it expires', async () => {
    const s = setup();
    const link = await s.handlers.connectLink({ userId: 'a@example.com', scopes: [DRIVE] });
    s.clock.advance(1_000);
    const single = vi.spyOn(s.sessionStore, 'recordSingleUse');
    await s.handlers.connect(get(link.url));
    expect(single.mock.calls[0]?.[1]).toBe(DEFAULT_CONNECT_LINK_TTL_MS - 1_000 + 60_000);
  });

  it('grants the scopes to that user only: another account at Google is refused', async () => {
    const s = setup();
    const user = freshUser();
    const link = await s.handlers.connectLink({ userId: user, scopes: [DRIVE] });
    const callback = await throughGoogle(await s.handlers.connect(get(link.url)), freshUser());
    expect((await s.handlers.callback(callback(json))).status).toBe(403);
  });

  it('grants the scopes to that Google account only', async () => {
    const s = setup();
    const user = freshUser();
    const first = (await (await signIn(s.handlers, user)).json()) as { user_id: string };
    expect(first.user_id).toBe(user);
    const link = await s.handlers.connectLink({
      userId: user,
      subject: 'another-account-sub',
      scopes: [DRIVE],
    });
    const callback = await throughGoogle(await s.handlers.connect(get(link.url)), user);
    expect((await s.handlers.callback(callback(json))).status).toBe(403);
  });

  it('completes: the session gets the new scopes, onConnected hears it, no bearer token is issued', async () => {
    const events: unknown[] = [];
    const s = setup({ onConnected: (event) => events.push(event) });
    const user = freshUser();
    const link = await s.handlers.connectLink({
      userId: user,
      scopes: [DRIVE],
      mcpSessionId: 'mcp-session-1',
    });
    const issue = vi.spyOn(s.sessionStore, 'issueBearerToken');
    const callback = await throughGoogle(await s.handlers.connect(get(link.url)), user);
    const response = await s.handlers.callback(callback(json));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      user_id: user,
      scopes: ['openid', 'email', DRIVE],
      connected: true,
    });
    expect(response.headers.get('set-cookie')).toMatch(/Max-Age=0/);
    expect(events).toEqual([
      {
        userId: user,
        elicitationId: link.elicitationId,
        scopes: ['openid', 'email', DRIVE],
        mcpSessionId: 'mcp-session-1',
      },
    ]);
    expect(issue).not.toHaveBeenCalled();
    const session = await s.sessionStore.getSession(user);
    expect(session?.scopes).toEqual(['openid', 'email', DRIVE]);
    expect(session?.expiresAt).toBeGreaterThan(s.clock.now());
    expect(s.lines).toContainEqual({
      level: 'info',
      message: 'user granted more Google access',
      fields: { userId: user, scopes: 3 },
    });
  });

  it('completes without onConnected, and when onConnected rejects with nothing', async () => {
    for (const onConnected of [undefined, () => Promise.reject(undefined)]) {
      const s = setup(onConnected === undefined ? {} : { onConnected });
      const user = freshUser();
      const link = await s.handlers.connectLink({ userId: user, scopes: [DRIVE] });
      const callback = await throughGoogle(await s.handlers.connect(get(link.url)), user);
      expect((await s.handlers.callback(callback(json))).status).toBe(200);
      const warned = s.lines.filter((line) => line.message === 'onConnected failed; ignored');
      expect(warned).toEqual(
        onConnected === undefined
          ? []
          : [expect.objectContaining({ fields: { userId: user, error: 'undefined' } })],
      );
    }
  });

  it('completes with a page, without an MCP session, and despite a failing onConnected', async () => {
    const events: unknown[] = [];
    const s = setup({
      onConnected: (event) => {
        events.push(event);
        throw new TypeError('notification failed');
      },
    });
    const user = freshUser();
    const link = await s.handlers.connectLink({ userId: user, scopes: [DRIVE] });
    const callback = await throughGoogle(await s.handlers.connect(get(link.url)), user);
    const response = await s.handlers.callback(callback());
    expect(response.status).toBe(200);
    expect(await response.text()).toContain(`${user} granted: openid email ${DRIVE}`);
    expect(response.headers.get('set-cookie')).toMatch(/Max-Age=0/);
    // Strict: onConnected is the server's own code, which may look for the key itself.
    expect(events).toStrictEqual([
      { userId: user, elicitationId: link.elicitationId, scopes: ['openid', 'email', DRIVE] },
    ]);
    expect(s.lines).toContainEqual({
      level: 'warn',
      message: 'onConnected failed; ignored',
      fields: { userId: user, error: 'TypeError' },
    });
  });
});
