/**
 * The Google leg of both sign-in modes on its own, against the Google-like provider: what a flow
 * asks Google for, and how the callback refuses what an attacker can send it (a link without this
 * browser's cookie, another flow's cookie, a short or oversized state, an expired or replayed flow, a
 * callback without a code) before any code is exchanged; what the flow binds the exchange to (scopes,
 * policy, the login hint, the expected user and Google account); and the single second round with
 * `prompt=consent` when Google granted no refresh token.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { GoogleSignIn, type GoogleSignInOptions, loginHintFrom } from '../../src/http/google-sign-in.js';
import { InvalidInputError } from '../../src/index.js';
import { Sealer } from '../../src/internal/seal.js';
import type { AuthorizationResult } from '../../src/manager/index.js';
import { sha256 } from '../../src/secrets.js';
import { type GoogleLikeProvider, startGoogleLikeProvider } from '../../src/testing/index.js';
import type { FakeClock } from '../support/clock.js';
import { managerHarness } from '../support/manager-harness.js';
import { REDIRECT_URI } from '../support/oauth.js';
import { type RecordedLine, recordingLogger } from '../support/recording-logger.js';

const FLOW_TTL_MS = 5 * 60_000;
const DRIVE = 'https://www.googleapis.com/auth/drive.readonly';

// The provider outlives each test and, like Google, grants a refresh token only on a user's first
// consent: each sign-in that expects one uses a user of its own.
let users = 0;
const freshUser = () => `user-${++users}@example.com`;

let provider: GoogleLikeProvider;
beforeAll(async () => {
  provider = await startGoogleLikeProvider();
});
afterAll(async () => {
  await provider.close();
});

function setup(overrides: Partial<GoogleSignInOptions> = {}) {
  const harness = managerHarness(provider);
  const lines: RecordedLine[] = [];
  const options: GoogleSignInOptions = {
    manager: harness.manager,
    sessionStore: harness.sessionStore,
    sealer: new Sealer(randomBytes(32).toString('base64url')),
    callbackUrl: REDIRECT_URI,
    scopes: ['email', DRIVE],
    flowTtlMs: FLOW_TTL_MS,
    cookies: { secure: false },
    cookieBase: 'flow',
    clock: harness.clock,
    logger: recordingLogger(lines),
    ...overrides,
  };
  const exchanges = vi.spyOn(harness.manager, 'completeAuthorization');
  return {
    ...harness,
    clock: harness.clock as FakeClock,
    lines,
    google: new GoogleSignIn(options),
    exchanges,
  };
}

/** A started flow as the browser holds it: the Google URL and the flow cookie. */
interface Started {
  google: URL;
  state: string;
  cookie: string;
  setCookies: string[];
}

function started(response: Response): Started {
  expect(response.status).toBe(302);
  const google = new URL(response.headers.get('location') ?? '');
  const setCookies = response.headers.getSetCookie();
  return {
    google,
    state: google.searchParams.get('state') ?? '',
    cookie: setCookies[0]?.split(';')[0] ?? '',
    setCookies,
  };
}

/** The user at Google: returns the callback URL Google redirects the browser to. */
async function atGoogle(url: URL, user: string, edit?: (url: URL) => void): Promise<URL> {
  const at = new URL(url);
  at.searchParams.set('login_hint', user);
  edit?.(at);
  const response = await fetch(at, { redirect: 'manual' });
  return new URL(response.headers.get('location') ?? '');
}

function callback(url: URL | string, cookie?: string): Request {
  return new Request(url, cookie === undefined ? {} : { headers: { cookie } });
}

function callbackWith(params: Record<string, string>, cookie?: string): Request {
  return callback(`${REDIRECT_URI}?${new URLSearchParams(params)}`, cookie);
}

async function refusalText(outcome: Awaited<ReturnType<GoogleSignIn['finish']>>): Promise<string> {
  if (outcome.kind !== 'response') throw new Error(`expected a refusal, got ${outcome.kind}`);
  expect(outcome.response.status).toBe(400);
  expect(outcome.response.headers.get('location')).toBeNull();
  return outcome.response.text();
}

const securityWarnings = (lines: RecordedLine[]) =>
  lines.filter((line) => line.level === 'warn' && line.message.startsWith('SECURITY'));

describe('GoogleSignIn.start', () => {
  it('asks Google for openid, email and the configured scopes once each, with PKCE, for the callback', async () => {
    const { google } = setup();
    expect(google.scopes).toEqual(['openid', 'email', DRIVE]);
    const flow = started(await google.start({ next: '/' }));
    const params = flow.google.searchParams;
    expect(params.get('scope')).toBe(`openid email ${DRIVE}`);
    expect(params.get('redirect_uri')).toBe(REDIRECT_URI);
    expect(params.get('code_challenge_method')).toBe('S256');
    expect(params.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(flow.state.length).toBeGreaterThanOrEqual(16);
    expect(params.has('login_hint')).toBe(false);
    expect(params.has('prompt')).toBe(false);
  });

  it('sets a flow cookie named after a hash of the state, so parallel flows coexist', async () => {
    const { google } = setup();
    const first = started(await google.start(1));
    const second = started(await google.start(2));
    expect(first.setCookies).toHaveLength(1);
    expect(first.setCookies[0]).toMatch(
      new RegExp(
        `^flow_${sha256(first.state).slice(0, 12)}=[^;]+; Path=/; Max-Age=300; HttpOnly; SameSite=Lax$`,
      ),
    );
    expect(second.cookie.split('=')[0]).not.toBe(first.cookie.split('=')[0]);
    const secure = started(await setup({ cookies: { secure: true } }).google.start(1));
    expect(secure.setCookies[0]).toMatch(/^__Host-flow_[A-Za-z0-9_-]{12}=.*; Secure$/);
  });

  it('passes the login hint and prompt, and asks for the flow’s own scopes when given', async () => {
    const { google } = setup();
    const flow = started(
      await google.start(null, {
        loginHint: 'alice@example.com',
        prompt: 'select_account',
        scopes: ['email', 'x:y'],
      }),
    );
    expect(flow.google.searchParams.get('login_hint')).toBe('alice@example.com');
    expect(flow.google.searchParams.get('prompt')).toBe('select_account');
    expect(flow.google.searchParams.get('scope')).toBe('openid email x:y');
  });
});

describe('GoogleSignIn.finish', () => {
  let s: ReturnType<typeof setup>;
  beforeEach(() => {
    s = setup();
  });

  it('signs the user in from this browser’s callback, hands back the payload and clears the cookie', async () => {
    const user = freshUser();
    const flow = started(await s.google.start({ next: '/tools' }));
    const outcome = await s.google.finish<{ next: string }>(
      callback(await atGoogle(flow.google, user), flow.cookie),
    );
    expect(outcome.kind).toBe('signed-in');
    if (outcome.kind !== 'signed-in') return;
    expect(outcome.result.userId).toBe(user);
    expect(outcome.result.hasRefreshToken).toBe(true);
    expect(outcome.payload).toEqual({ next: '/tools' });
    expect(outcome.setCookie).toBe(
      `${flow.cookie.split('=')[0]}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax`,
    );
    expect(s.exchanges).toHaveBeenCalledTimes(1);
    expect(s.exchanges.mock.calls[0]?.[0]).toEqual({
      code: expect.any(String),
      codeVerifier: expect.any(String),
      redirectUri: REDIRECT_URI,
      requestedScopes: ['openid', 'email', DRIVE],
    });
  });

  it('refuses a state that is missing, shorter than 16 or longer than 256 characters, without a cookie to clear', async () => {
    for (const state of [undefined, 'a'.repeat(15), 'a'.repeat(257)]) {
      const outcome = await s.google.finish(
        callbackWith(state === undefined ? { code: 'c' } : { state, code: 'c' }),
      );
      expect(await refusalText(outcome), String(state?.length)).toContain('the sign-in link is incomplete');
      if (outcome.kind === 'response') expect(outcome.response.headers.get('set-cookie')).toBeNull();
    }
    // 16 and 256 are well-formed: they fail only for want of this browser's cookie.
    for (const state of ['a'.repeat(16), 'a'.repeat(256)]) {
      expect(await refusalText(await s.google.finish(callbackWith({ state, code: 'c' })))).toContain(
        'started in another browser',
      );
    }
    expect(s.exchanges).not.toHaveBeenCalled();
  });

  it('refuses a callback from another browser, and logs it as a security event', async () => {
    const flow = started(await s.google.start(null));
    const back = await atGoogle(flow.google, freshUser());
    const outcome = await s.google.finish(callback(back));
    expect(await refusalText(outcome)).toContain('started in another browser');
    if (outcome.kind === 'response') {
      expect(outcome.response.headers.get('set-cookie')).toMatch(/^flow_[A-Za-z0-9_-]{12}=; .*Max-Age=0/);
    }
    expect(securityWarnings(s.lines)).toHaveLength(1);
    expect(s.exchanges).not.toHaveBeenCalled();
  });

  it('refuses another flow’s cookie presented under this flow’s name', async () => {
    const mine = started(await s.google.start(null));
    const other = started(await s.google.start(null));
    const forged = `${mine.cookie.split('=')[0]}=${other.cookie.slice(other.cookie.indexOf('=') + 1)}`;
    const outcome = await s.google.finish(callback(await atGoogle(mine.google, freshUser()), forged));
    expect(await refusalText(outcome)).toContain('started in another browser');
    expect(securityWarnings(s.lines)).toHaveLength(1);
    expect(s.exchanges).not.toHaveBeenCalled();
  });

  it('refuses a flow at its expiry to the millisecond, and completes it the millisecond before', async () => {
    const late = started(await s.google.start(null));
    const onTime = started(await s.google.start(null));
    const lateBack = await atGoogle(late.google, freshUser());
    const onTimeBack = await atGoogle(onTime.google, freshUser());
    s.clock.advance(FLOW_TTL_MS - 1);
    expect((await s.google.finish(callback(onTimeBack, onTime.cookie))).kind).toBe('signed-in');
    s.clock.advance(1);
    expect(await refusalText(await s.google.finish(callback(lateBack, late.cookie)))).toContain(
      'this sign-in expired',
    );
    expect(s.exchanges).toHaveBeenCalledTimes(1);
  });

  it('completes a flow once: a replayed callback is refused and logged', async () => {
    const flow = started(await s.google.start(null));
    const back = await atGoogle(flow.google, freshUser());
    expect((await s.google.finish(callback(back, flow.cookie))).kind).toBe('signed-in');
    expect(await refusalText(await s.google.finish(callback(back, flow.cookie)))).toContain('already used');
    expect(securityWarnings(s.lines).map((line) => line.message)).toEqual([
      'SECURITY: a Google callback was replayed; refused',
    ]);
    expect(s.exchanges).toHaveBeenCalledTimes(1);
  });

  it('marks the flow used until a minute after it expires (replicas’ clocks differ)', async () => {
    const flow = started(await s.google.start(null));
    const back = await atGoogle(flow.google, freshUser());
    s.clock.advance(90_000);
    const single = vi.spyOn(s.sessionStore, 'recordSingleUse');
    await s.google.finish(callback(back, flow.cookie));
    expect(single.mock.calls.map((call) => call[1])).toEqual([FLOW_TTL_MS - 90_000 + 60_000]);
  });

  it('reports Google’s error (the user declined) with the payload, its code cut to 64 characters', async () => {
    const flow = started(await s.google.start({ next: '/x' }));
    const outcome = await s.google.finish(
      callbackWith({ state: flow.state, error: `access_denied${'x'.repeat(100)}` }, flow.cookie),
    );
    expect(outcome).toEqual({
      kind: 'declined',
      error: `access_denied${'x'.repeat(51)}`,
      payload: { next: '/x' },
      setCookie: expect.stringMatching(/Max-Age=0/),
    });
    expect(s.exchanges).not.toHaveBeenCalled();
  });

  it('refuses a callback with no code or an empty one, clearing the cookie', async () => {
    for (const code of [undefined, '']) {
      const flow = started(await s.google.start(null));
      const outcome = await s.google.finish(
        callbackWith({ state: flow.state, ...(code === undefined ? {} : { code }) }, flow.cookie),
      );
      expect(await refusalText(outcome)).toContain('the callback has no code');
      if (outcome.kind === 'response')
        expect(outcome.response.headers.get('set-cookie')).toMatch(/Max-Age=0/);
    }
    expect(s.exchanges).not.toHaveBeenCalled();
  });

  it('answers a failed exchange with the refusal and the cookie cleared', async () => {
    const flow = started(await s.google.start(null));
    const back = await atGoogle(flow.google, freshUser());
    back.searchParams.set('code', 'not-a-code-google-issued');
    const outcome = await s.google.finish(callback(back, flow.cookie));
    expect(outcome.kind).toBe('response');
    if (outcome.kind !== 'response') return;
    expect(outcome.response.status).toBe(400);
    expect(outcome.response.headers.get('set-cookie')).toMatch(/^flow_.*Max-Age=0/);
  });
});

describe('what a flow binds the exchange to', () => {
  it('the flow’s own scopes, when it has them', async () => {
    const s = setup();
    const flow = started(await s.google.start(null, { scopes: [DRIVE] }));
    await s.google.finish(callback(await atGoogle(flow.google, freshUser()), flow.cookie));
    expect(s.exchanges.mock.calls[0]?.[0].requestedScopes).toEqual(['openid', 'email', DRIVE]);
    expect(s.exchanges.mock.calls[0]?.[0]).not.toHaveProperty('expectedUser');
  });

  it('the sign-in policy', async () => {
    const s = setup({ policy: { allowedUsers: ['bob@example.com'] } });
    const flow = started(await s.google.start(null));
    const outcome = await s.google.finish(callback(await atGoogle(flow.google, freshUser()), flow.cookie));
    expect(outcome.kind).toBe('response');
    if (outcome.kind === 'response') expect(outcome.response.status).toBe(403);
    expect(s.exchanges.mock.calls[0]?.[0].policy).toEqual({ allowedUsers: ['bob@example.com'] });
  });

  it('the login hint, only with requireLoginHintMatch', async () => {
    for (const requireLoginHintMatch of [false, true]) {
      const s = setup({ requireLoginHintMatch });
      const flow = started(await s.google.start(null, { loginHint: 'bob@example.com' }));
      // At Google the user picks another account than the hint.
      const outcome = await s.google.finish(callback(await atGoogle(flow.google, freshUser()), flow.cookie));
      expect(outcome.kind, String(requireLoginHintMatch)).toBe(
        requireLoginHintMatch ? 'response' : 'signed-in',
      );
      if (outcome.kind === 'response') {
        expect(outcome.response.status).toBe(403);
        expect(outcome.response.headers.get('set-cookie')).toMatch(/Max-Age=0/);
      }
    }
    const noHint = setup({ requireLoginHintMatch: true });
    const flow = started(await noHint.google.start(null));
    expect(
      (await noHint.google.finish(callback(await atGoogle(flow.google, freshUser()), flow.cookie))).kind,
    ).toBe('signed-in');
    expect(noHint.exchanges.mock.calls[0]?.[0]).not.toHaveProperty('expectedUser');
  });

  it('the expected user and the expected Google account', async () => {
    const s = setup();
    const asBob = started(await s.google.start(null, { expectedUser: 'bob@example.com' }));
    const wrongUser = await s.google.finish(
      callback(await atGoogle(asBob.google, 'alice@example.com'), asBob.cookie),
    );
    expect(wrongUser.kind === 'response' && wrongUser.response.status).toBe(403);

    const carol = started(await s.google.start(null));
    const signedIn = await s.google.finish(
      callback(await atGoogle(carol.google, 'carol@example.com'), carol.cookie),
    );
    if (signedIn.kind !== 'signed-in') throw new Error(signedIn.kind);
    const sub = signedIn.result.profile.sub;
    const bound = started(await s.google.start(null, { expectedSubject: sub }));
    provider.setUserClaims('carol@example.com', { sub: `${sub}-another-account` });
    try {
      const substituted = await s.google.finish(
        callback(await atGoogle(bound.google, 'carol@example.com'), bound.cookie),
      );
      expect(substituted.kind === 'response' && substituted.response.status).toBe(403);
    } finally {
      provider.setUserClaims('carol@example.com', { sub });
    }
  });
});

describe('the second round when Google granted no refresh token', () => {
  const offlineDropped = (url: URL) => url.searchParams.delete('access_type');

  async function firstRound(
    s: ReturnType<typeof setup>,
    user: string,
    options: Parameters<GoogleSignIn['start']>[1] = {},
  ) {
    const flow = started(await s.google.start({ next: '/again' }, options));
    const outcome = await s.google.finish(
      callback(await atGoogle(flow.google, user, offlineDropped), flow.cookie),
    );
    if (outcome.kind !== 'response') throw new Error(`expected a second round, got ${outcome.kind}`);
    return { flow, again: started(outcome.response), setCookies: outcome.response.headers.getSetCookie() };
  }

  it('sends the browser back to Google once, with prompt=consent and the account as hint', async () => {
    const s = setup();
    const user = freshUser();
    const { flow, again, setCookies } = await firstRound(s, user);
    expect(again.google.searchParams.get('prompt')).toBe('consent');
    expect(again.google.searchParams.get('login_hint')).toBe(user);
    expect(setCookies).toHaveLength(2);
    expect(setCookies[1]).toBe(`${flow.cookie.split('=')[0]}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax`);
    const outcome = await s.google.finish(callback(await atGoogle(again.google, user), again.cookie));
    expect(outcome.kind).toBe('signed-in');
    if (outcome.kind === 'signed-in') {
      expect(outcome.result.hasRefreshToken).toBe(true);
      expect(outcome.payload).toEqual({ next: '/again' });
    }
  });

  it('never a third round: without a refresh token the second round signs in as is', async () => {
    const s = setup();
    const user = freshUser();
    const { again } = await firstRound(s, user);
    const outcome = await s.google.finish(
      callback(await atGoogle(again.google, user, offlineDropped), again.cookie),
    );
    expect(outcome.kind).toBe('signed-in');
    if (outcome.kind === 'signed-in') expect(outcome.result.hasRefreshToken).toBe(false);
  });

  it('carries the flow’s scopes, expected user and expected account into the second round', async () => {
    const s = setup();
    const user = freshUser();
    const sub = await subjectOf(user);
    const { again } = await firstRound(s, user, {
      scopes: ['email'],
      expectedUser: user,
      expectedSubject: sub,
    });
    expect(again.google.searchParams.get('scope')).toBe('openid email');
    const exchange = await s.google.finish(callback(await atGoogle(again.google, user), again.cookie));
    expect(exchange.kind).toBe('signed-in');
    expect(s.exchanges.mock.calls[1]?.[0]).toMatchObject({
      requestedScopes: ['openid', 'email'],
      expectedUser: user,
      expectedSubject: sub,
    });
  });

  it('refuses another user, or the same address on another Google account, at the second round', async () => {
    const s = setup();
    const user = freshUser();
    const sub = await subjectOf(user);
    const byUser = await firstRound(s, user, { expectedUser: user });
    const other = await s.google.finish(
      callback(await atGoogle(byUser.again.google, freshUser()), byUser.again.cookie),
    );
    expect(other.kind === 'response' && other.response.status).toBe(403);

    const byAccount = await firstRound(s, user, { expectedSubject: sub });
    provider.setUserClaims(user, { sub: `${sub}-another-account` });
    try {
      const substituted = await s.google.finish(
        callback(await atGoogle(byAccount.again.google, user), byAccount.again.cookie),
      );
      expect(substituted.kind === 'response' && substituted.response.status).toBe(403);
    } finally {
      provider.setUserClaims(user, { sub });
    }
  });

  /** The `sub` the provider gives a user, read from one sign-in of its own. */
  async function subjectOf(user: string): Promise<string> {
    const s = setup();
    const flow = started(await s.google.start(null));
    const outcome = await s.google.finish(callback(await atGoogle(flow.google, user), flow.cookie));
    if (outcome.kind !== 'signed-in') throw new Error(outcome.kind);
    return (outcome.result as AuthorizationResult).profile.sub;
  }
});

describe('loginHintFrom', () => {
  it('is undefined for none or empty, the normalised email otherwise, and refuses anything else', () => {
    expect(loginHintFrom(null)).toBeUndefined();
    expect(loginHintFrom('')).toBeUndefined();
    expect(loginHintFrom('Alice@Example.com')).toBe('alice@example.com');
    expect(() => loginHintFrom('not an email')).toThrow(InvalidInputError);
  });
});
