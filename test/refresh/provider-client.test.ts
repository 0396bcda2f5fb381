/**
 * The adapter over google-auth-library's OAuth2Client, against the Google-like provider over HTTP:
 * authorization URLs, code exchange and refresh re-dated on the injected clock, and per-user API
 * clients that carry neither the client secret nor the refresh token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryCredentialStore, type StoredCredentials } from '../../src/index.js';
import { type CredentialManagerOAuthOptions, resolveManagerOptions } from '../../src/refresh/options.js';
import { ProviderClient } from '../../src/refresh/provider-client.js';
import { ProviderFailureError } from '../../src/refresh/provider-errors.js';
import { type GoogleLikeProvider, startGoogleLikeProvider } from '../../src/testing/index.js';
import { FakeClock } from '../support/clock.js';
import { authorizationCode, REDIRECT_URI } from '../support/oauth.js';

const ALICE = 'alice@example.com';
const HOUR = 3_600_000;

let provider: GoogleLikeProvider;
let timeless: GoogleLikeProvider;
beforeAll(async () => {
  provider = await startGoogleLikeProvider();
  timeless = await startGoogleLikeProvider({ accessTokenTtlSeconds: null });
});
afterAll(async () => {
  await provider.close();
  await timeless.close();
});

function client(
  of: GoogleLikeProvider,
  overrides: Partial<CredentialManagerOAuthOptions> = {},
  clock = new FakeClock(),
) {
  const oauth: CredentialManagerOAuthOptions = {
    clientId: of.clientId,
    clientSecret: of.clientSecret,
    redirectUri: REDIRECT_URI,
    endpoints: of.endpoints,
    issuers: [of.issuer],
    ...overrides,
  };
  const resolved = resolveManagerOptions({ store: new MemoryCredentialStore(), oauth });
  return { providerClient: new ProviderClient(oauth, resolved, clock), clock };
}

describe('ProviderClient.authorizationUrl', () => {
  const base = { state: 'state-1', codeChallenge: 'challenge-1', scopes: ['openid', 'email'] };

  it('asks for offline access with PKCE S256, at the configured redirect URI by default', () => {
    const url = new URL(client(provider).providerClient.authorizationUrl(base));
    expect(`${url.origin}${url.pathname}`).toBe(provider.endpoints.oauth2AuthBaseUrl);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      access_type: 'offline',
      scope: 'openid email',
      state: 'state-1',
      code_challenge: 'challenge-1',
      code_challenge_method: 'S256',
      include_granted_scopes: 'true',
      redirect_uri: REDIRECT_URI,
      response_type: 'code',
      client_id: provider.clientId,
    });
  });

  it('takes a redirect URI, login hint and prompt per request', () => {
    const url = new URL(
      client(provider).providerClient.authorizationUrl({
        ...base,
        redirectUri: 'https://mcp.example.com/callback',
        loginHint: ALICE,
        prompt: 'consent',
      }),
    );
    expect(url.searchParams.get('redirect_uri')).toBe('https://mcp.example.com/callback');
    expect(url.searchParams.get('login_hint')).toBe(ALICE);
    expect(url.searchParams.get('prompt')).toBe('consent');
  });
});

describe('ProviderClient.exchangeCode', () => {
  it('uses the configured redirect URI when the request names none; the expiry is on the injected clock', async () => {
    const clock = new FakeClock(Date.UTC(2020, 0, 1));
    const { providerClient } = client(provider, {}, clock);
    const code = await authorizationCode(provider, ALICE);
    const tokens = await providerClient.exchangeCode(code);
    expect(tokens.access_token).toMatch(/^ya29\./);
    expect(tokens.refresh_token).toMatch(/^1\/\//);
    // 3599 s from the fake clock's now (less the time the request took), not from the wall clock.
    expect(tokens.expiry_date).toBeLessThanOrEqual(clock.now() + 3_599_000);
    expect(tokens.expiry_date).toBeGreaterThan(clock.now() + 3_599_000 - 60_000);
  });

  it('sends the redirect URI of the request, which must match the authorization request', async () => {
    const { providerClient } = client(provider);
    const elsewhere = 'http://127.0.0.1:9/elsewhere';
    const code = await authorizationCode(provider, ALICE, { redirectUri: elsewhere });
    await expect(providerClient.exchangeCode(code)).rejects.toMatchObject({ providerCode: 'invalid_grant' });
    const again = await authorizationCode(provider, ALICE, { redirectUri: elsewhere });
    expect(
      (await providerClient.exchangeCode({ ...again, redirectUri: elsewhere })).access_token,
    ).toBeDefined();
  });

  it('a response without expires_in gives no expiry (not NaN)', async () => {
    const { providerClient } = client(timeless);
    const tokens = await providerClient.exchangeCode(await authorizationCode(timeless, ALICE));
    expect(tokens.access_token).toBeDefined();
    expect(tokens.expiry_date).toBeUndefined();
  });

  it('a refused code is a sanitised ProviderFailureError', async () => {
    const { providerClient } = client(provider);
    const failure = await providerClient
      .exchangeCode({ code: 'not-a-code', codeVerifier: 'v' })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ProviderFailureError);
    expect(JSON.stringify(failure)).not.toContain(provider.clientSecret);
  });
});

describe('ProviderClient.refresh', () => {
  it('returns a rotated refresh token as the provider sent it, dated on the injected clock', async () => {
    const clock = new FakeClock(Date.UTC(2020, 0, 1));
    const { providerClient } = client(provider, {}, clock);
    const first = await providerClient.exchangeCode(
      await authorizationCode(provider, ALICE, { prompt: 'consent' }),
    );
    expect(first.refresh_token).toMatch(/^1\/\//);
    provider.setRotation(true);
    try {
      const refreshed = await providerClient.refresh(first.refresh_token as string);
      expect(refreshed.refresh_token).toMatch(/^1\/\//);
      expect(refreshed.refresh_token).not.toBe(first.refresh_token);
      expect(refreshed.expiry_date).toBeLessThanOrEqual(clock.now() + 3_599_000);
      expect(refreshed.expiry_date).toBeGreaterThan(clock.now() + 3_599_000 - 60_000);
    } finally {
      provider.setRotation(false);
    }
  });
});

describe('ProviderClient.userClient', () => {
  const record = (clock: FakeClock, expiresAt?: number): StoredCredentials => ({
    userId: ALICE,
    accessToken: 'ya29.current',
    refreshToken: '1//never-handed-out',
    scopes: ['openid', 'email'],
    tokenType: 'Bearer',
    ...(expiresAt === undefined ? {} : { expiresAt: clock.now() + expiresAt }),
  });

  it('carries the access token, dated on the wall clock, without the refresh token or client secret', async () => {
    const clock = new FakeClock(Date.UTC(2020, 0, 1));
    const { providerClient } = client(provider, {}, clock);
    const before = Date.now();
    const api = providerClient.userClient(record(clock, HOUR), 120_000, async () => record(clock, HOUR));
    expect(api.credentials).toMatchObject({
      access_token: 'ya29.current',
      token_type: 'Bearer',
      scope: 'openid email',
    });
    expect(api.credentials.refresh_token).toBeUndefined();
    // The record expires an hour after the fake clock's now: an hour from the wall clock's now.
    expect(api.credentials.expiry_date).toBeGreaterThanOrEqual(before + HOUR);
    expect(api.credentials.expiry_date).toBeLessThanOrEqual(Date.now() + HOUR);
    expect(JSON.stringify(api)).not.toContain(provider.clientSecret);
    expect(api.eagerRefreshThresholdMillis).toBe(120_000);
  });

  it('a record without an expiry gives the library none', () => {
    const clock = new FakeClock();
    const api = client(provider, {}, clock).providerClient.userClient(record(clock), 120_000, async () =>
      record(clock),
    );
    expect(api.credentials.expiry_date).toBeUndefined();
    expect(Object.keys(api.credentials)).not.toContain('expiry_date');
  });

  it('near expiry, the library asks the manager for fresh credentials instead of refreshing itself', async () => {
    const clock = new FakeClock();
    const { providerClient } = client(provider, {}, clock);
    let asked = 0;
    const refreshesBefore = provider.counters.refreshRequests;
    const api = providerClient.userClient(record(clock, 60_000), 120_000, async () => {
      asked += 1;
      return { ...record(clock, HOUR), accessToken: 'ya29.renewed' };
    });
    const { token } = await api.getAccessToken();
    expect(token).toBe('ya29.renewed');
    expect(asked).toBe(1);
    expect(provider.counters.refreshRequests).toBe(refreshesBefore);
  });

  it('far from expiry, the library uses the access token it has', async () => {
    const clock = new FakeClock();
    const { providerClient } = client(provider, {}, clock);
    let asked = 0;
    // Three minutes left: beyond this client's 2-minute threshold (the library's default is 5).
    const api = providerClient.userClient(record(clock, 180_000), 120_000, async () => {
      asked += 1;
      return record(clock, HOUR);
    });
    expect((await api.getAccessToken()).token).toBe('ya29.current');
    expect(asked).toBe(0);
  });
});
