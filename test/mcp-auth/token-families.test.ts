/**
 * TokenFamilies' verified-token cache: what a remembered verification still checks (the session, on
 * every request), what this replica's revocations end at once, and the bound within which another
 * replica's revocation takes effect.
 */
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logger.js';
import { TokenFamilies } from '../../src/mcp-auth/token-families.js';
import { MemorySessionBackend, OAuth21SessionStore, type SessionBackend } from '../../src/session/index.js';
import { FakeClock } from '../support/clock.js';

const USER = 'cache@example.com';
const CLIENT = 'client-1';

function setup(cache: { max: number; ttlMs: number } | false, accessTokenTtlMs = 3_600_000) {
  const clock = new FakeClock();
  const inner = new MemorySessionBackend({ clock });
  const reads: string[] = [];
  const backend = new Proxy(inner, {
    get(target, property) {
      if (property === 'getSync' || property === 'locality') return undefined;
      if (property === 'get') {
        return (namespace: string, key: string) => {
          reads.push(namespace);
          return target.get(namespace, key);
        };
      }
      const value = Reflect.get(target, property);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as SessionBackend;
  const sessionStore = new OAuth21SessionStore({ backend, clock });
  const families = (verifiedTokenCache: { max: number; ttlMs: number } | false = cache) =>
    new TokenFamilies({
      backend,
      sessionStore,
      clock,
      logger: silentLogger,
      accessTokenTtlMs,
      refreshTokenTtlMs: 30 * 86_400_000,
      maxRefreshTokenLifetimeMs: undefined,
      refreshReuseGraceMs: 10_000,
      authorizationCodeTtlMs: 300_000,
      verifiedTokenCache,
    });
  const replica = families();
  /** A code for USER (signed in), as the authorization endpoint would issue it. */
  const issueCode = async (on: TokenFamilies = replica) => {
    await sessionStore.storeSession(USER);
    const session = (await sessionStore.getSession(USER))!;
    return on.issueCode({
      clientId: CLIENT,
      userId: USER,
      generation: session.generation,
      scopes: ['mcp:read'],
      resource: 'http://127.0.0.1/mcp',
      redirectUri: 'http://127.0.0.1/cb',
      codeChallenge: 'c'.repeat(43),
    });
  };
  const signIn = async (on: TokenFamilies = replica) =>
    (await on.exchangeCode(await issueCode(on), () => {})).tokens;
  return { clock, reads, sessionStore, replica, families, issueCode, signIn };
}

describe('TokenFamilies verified-token cache', () => {
  it('a remembered token costs one read (the session), not the token and its family', async () => {
    const { replica, signIn, reads } = setup({ max: 100, ttlMs: 60_000 });
    const tokens = await signIn();
    await replica.verify(tokens.access_token);
    reads.length = 0;
    const access = await replica.verify(tokens.access_token);
    expect(access).toMatchObject({ userId: USER, clientId: CLIENT, scopes: ['mcp:read'] });
    expect(reads).toEqual(['session']);
  });

  it('without the cache every verification reads the token, its family’s revocation and the session', async () => {
    const { replica, signIn, reads } = setup(false);
    const tokens = await signIn();
    await replica.verify(tokens.access_token);
    reads.length = 0;
    await replica.verify(tokens.access_token);
    expect(reads.sort()).toEqual(['mcp-access', 'mcp-family-revoked', 'session']);
  });

  it('a sign-out ends a remembered token at once', async () => {
    const { replica, signIn, sessionStore } = setup({ max: 100, ttlMs: 60_000 });
    const tokens = await signIn();
    await replica.verify(tokens.access_token);
    await sessionStore.removeSession(USER);
    await expect(replica.verify(tokens.access_token)).rejects.toMatchObject({ error: 'invalid_token' });
    // Signing in again does not revive it (another session generation).
    await sessionStore.storeSession(USER);
    await expect(replica.verify(tokens.access_token)).rejects.toMatchObject({ error: 'invalid_token' });
  });

  it('revoking the access token, or its family, on this replica ends it at once', async () => {
    const { replica, signIn } = setup({ max: 100, ttlMs: 60_000 });
    const first = await signIn();
    await replica.verify(first.access_token);
    expect(await replica.revoke(CLIENT, first.access_token)).toMatchObject({ kind: 'access' });
    await expect(replica.verify(first.access_token)).rejects.toMatchObject({ error: 'invalid_token' });

    const second = await signIn();
    await replica.verify(second.access_token);
    expect(await replica.revoke(CLIENT, second.refresh_token!)).toMatchObject({ kind: 'refresh' });
    await expect(replica.verify(second.access_token)).rejects.toMatchObject({ error: 'invalid_token' });
  });

  it('a family revoked on another replica ends here within ttlMs, not later', async () => {
    const { replica, families, signIn, clock } = setup({ max: 100, ttlMs: 5_000 });
    const other = families();
    const tokens = await signIn();
    await replica.verify(tokens.access_token);
    await other.revoke(CLIENT, tokens.refresh_token!);
    await expect(other.verify(tokens.access_token)).rejects.toMatchObject({ error: 'invalid_token' });
    clock.advance(4_999);
    await expect(replica.verify(tokens.access_token)).resolves.toMatchObject({ userId: USER });
    clock.advance(1);
    await expect(replica.verify(tokens.access_token)).rejects.toMatchObject({ error: 'invalid_token' });
  });

  it('a remembered token still expires on time', async () => {
    const { replica, signIn, clock } = setup({ max: 100, ttlMs: 60_000 }, 30_000);
    const tokens = await signIn();
    await replica.verify(tokens.access_token);
    clock.advance(30_000);
    await expect(replica.verify(tokens.access_token)).rejects.toMatchObject({ error: 'invalid_token' });
  });
});

/**
 * Each layer of a pair that masks the other in an end-to-end flow, tested alone: the code's expiry
 * in the PKCE challenge lookup and in the exchange (the backend keeps a code a minute past its
 * expiry, so its own expiry is what refuses it); a family's revocation marker in verification and
 * in refresh (the access token's own record is still there).
 */
describe('TokenFamilies layers', () => {
  it('the challenge lookup refuses a code at its expiry, on its own', async () => {
    const { replica, issueCode, clock } = setup(false);
    const code = await issueCode();
    clock.advance(299_999);
    expect(await replica.challengeFor(CLIENT, code)).toBe('c'.repeat(43));
    await expect(replica.challengeFor('another-client', code)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
    clock.advance(1);
    await expect(replica.challengeFor(CLIENT, code)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('the exchange refuses a code at its expiry, on its own (no challenge lookup before it)', async () => {
    const { replica, issueCode, clock } = setup(false);
    const early = await issueCode();
    clock.advance(299_999);
    await expect(replica.exchangeCode(early, () => {})).resolves.toMatchObject({ grant: { userId: USER } });
    const late = await issueCode();
    clock.advance(300_000);
    await expect(replica.exchangeCode(late, () => {})).rejects.toMatchObject({
      error: 'invalid_grant',
      message: 'the authorization code expired',
    });
  });

  it('a revoked family ends its access token in verification and its refresh token in refresh', async () => {
    const { replica, families, signIn, reads } = setup(false);
    const tokens = await signIn();
    await families().revoke(CLIENT, tokens.refresh_token!);
    reads.length = 0;
    await expect(replica.verify(tokens.access_token)).rejects.toMatchObject({ error: 'invalid_token' });
    // The access token's record was found; the family's revocation marker refused it.
    expect(reads).toEqual(expect.arrayContaining(['mcp-access', 'mcp-family-revoked']));
    await expect(replica.refresh(CLIENT, tokens.refresh_token!, {})).rejects.toMatchObject({
      error: 'invalid_grant',
    });
  });
});
