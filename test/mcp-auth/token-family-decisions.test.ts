/**
 * Every decision of TokenFamilies on its own, each with the refusal it gives: codes (unknown,
 * replayed, expired to the millisecond, the exchange's check, a sign-out since), refresh (another
 * client, another resource, wider scopes, a revoked or missing family, expiry and the family's
 * maximum lifetime to the millisecond, reuse inside and one millisecond outside the grace window, a
 * revocation landing while the new pair is issued), what a pair looks like and how long each part
 * lives, verification and RFC 7009 revocation by the owner and by another client.
 */
import { describe, expect, it, vi } from 'vitest';
import { TokenFamilies, type TokenFamiliesOptions } from '../../src/mcp-auth/token-families.js';
import { sha256 } from '../../src/secrets.js';
import { MemorySessionBackend, OAuth21SessionStore } from '../../src/session/index.js';
import { FakeClock } from '../support/clock.js';
import { type RecordedLine, recordingLogger } from '../support/recording-logger.js';

const USER = 'family@example.com';
const CLIENT = 'client-1';
const RESOURCE = 'https://mcp.example.com/mcp';
const ACCESS_TTL = 3_600_000;
const REFRESH_TTL = 30 * 86_400_000;
const CODE_TTL = 300_000;
const GRACE = 10_000;
const RETENTION = 7 * 86_400_000;

function setup(overrides: Partial<TokenFamiliesOptions> = {}, sessionTtlMs = 2 * REFRESH_TTL) {
  const clock = new FakeClock();
  const backend = new MemorySessionBackend({ clock });
  const sessionStore = new OAuth21SessionStore({ backend, clock, sessionTtlMs });
  const lines: RecordedLine[] = [];
  const options: TokenFamiliesOptions = {
    backend,
    sessionStore,
    clock,
    logger: recordingLogger(lines),
    accessTokenTtlMs: ACCESS_TTL,
    refreshTokenTtlMs: REFRESH_TTL,
    maxRefreshTokenLifetimeMs: undefined,
    refreshReuseGraceMs: GRACE,
    authorizationCodeTtlMs: CODE_TTL,
    verifiedTokenCache: false,
    ...overrides,
  };
  const families = new TokenFamilies(options);
  const issueCode = async (scopes = ['mcp:read', 'mcp:write']) => {
    const session = (await sessionStore.getSession(USER)) ?? (await sessionStore.storeSession(USER));
    return families.issueCode({
      clientId: CLIENT,
      userId: USER,
      generation: session.generation,
      scopes,
      resource: RESOURCE,
      redirectUri: 'https://client.example/cb',
      codeChallenge: 'c'.repeat(43),
    });
  };
  const signIn = async (scopes?: string[]) =>
    (await families.exchangeCode(await issueCode(scopes), () => {})).tokens;
  const warnings = () => lines.filter((line) => line.level === 'warn');
  return { clock, backend, sessionStore, lines, warnings, families, issueCode, signIn, options };
}

const refusal = (error: string, message?: string) => ({
  error,
  ...(message === undefined ? {} : { message }),
});

describe('authorization codes', () => {
  it('an unknown code is invalid_grant, and revokes nothing', async () => {
    const s = setup();
    const tokens = await s.signIn();
    await expect(s.families.exchangeCode('x'.repeat(43), () => {})).rejects.toMatchObject(
      refusal('invalid_grant', 'invalid authorization code'),
    );
    await expect(s.families.verify(tokens.access_token)).resolves.toMatchObject({ userId: USER });
    expect(s.warnings()).toEqual([]);
  });

  it('a replayed code is refused and revokes the family its first exchange started', async () => {
    const s = setup();
    const code = await s.issueCode();
    const { tokens } = await s.families.exchangeCode(code, () => {});
    await expect(s.families.exchangeCode(code, () => {})).rejects.toMatchObject(
      refusal('invalid_grant', 'invalid authorization code'),
    );
    expect(s.warnings()).toEqual([
      {
        level: 'warn',
        message: 'SECURITY: authorization code replayed; revoking what it issued',
        fields: { clientId: CLIENT, userId: USER },
      },
    ]);
    await expect(s.families.verify(tokens.access_token)).rejects.toMatchObject(refusal('invalid_token'));
    await expect(s.families.refresh(CLIENT, tokens.refresh_token, {})).rejects.toMatchObject(
      refusal('invalid_grant', 'the refresh token was revoked'),
    );
  });

  it('a replay is recognised for the refresh token’s lifetime', async () => {
    const s = setup();
    const code = await s.issueCode();
    const set = vi.spyOn(s.backend, 'set');
    await s.families.exchangeCode(code, () => {});
    expect(set.mock.calls.find((call) => call[0] === 'mcp-code-used')?.[3]).toEqual({ ttlMs: REFRESH_TTL });
  });

  it('a code is kept a minute past its expiry, so a late exchange is told it expired', async () => {
    const s = setup();
    const set = vi.spyOn(s.backend, 'set');
    await s.issueCode();
    expect(set.mock.calls.find((call) => call[0] === 'mcp-code')?.[3]).toEqual({ ttlMs: CODE_TTL + 60_000 });
  });

  it('the exchange’s check runs on the code’s record before anything is issued', async () => {
    const s = setup();
    const code = await s.issueCode();
    const seen: unknown[] = [];
    const set = vi.spyOn(s.backend, 'set');
    await expect(
      s.families.exchangeCode(code, (record) => {
        seen.push(record);
        throw new Error('redirect_uri mismatch');
      }),
    ).rejects.toThrow('redirect_uri mismatch');
    expect(seen).toEqual([
      expect.objectContaining({
        clientId: CLIENT,
        userId: USER,
        redirectUri: 'https://client.example/cb',
        codeChallenge: 'c'.repeat(43),
        expiresAt: s.clock.now() + CODE_TTL,
      }),
    ]);
    expect(set).not.toHaveBeenCalled();
  });

  it('a user who signed out (or in again) since the code was issued gets nothing', async () => {
    for (const signInAgain of [false, true]) {
      const s = setup();
      const code = await s.issueCode();
      await s.sessionStore.removeSession(USER);
      if (signInAgain) await s.sessionStore.storeSession(USER);
      const set = vi.spyOn(s.backend, 'set');
      await expect(s.families.exchangeCode(code, () => {})).rejects.toMatchObject(
        refusal('invalid_grant', 'the user signed out; sign in again'),
      );
      // No family was started, so there is none to revoke.
      expect(set.mock.calls.map((call) => call[0])).not.toContain('mcp-family-revoked');
    }
  });

  it('the grant carries the code’s client, user, generation, scopes and resource', async () => {
    const s = setup();
    const generation = (await s.sessionStore.storeSession(USER)).generation;
    const { grant } = await s.families.exchangeCode(await s.issueCode(['mcp:read']), () => {});
    expect(grant).toEqual({
      clientId: CLIENT,
      userId: USER,
      generation,
      scopes: ['mcp:read'],
      resource: RESOURCE,
    });
  });
});

describe('the token pair', () => {
  it('is an mcpat_/mcprt_ pair, Bearer, expires_in in whole seconds, with the scopes', async () => {
    const s = setup({ accessTokenTtlMs: 90_500 });
    const tokens = await s.signIn(['mcp:read', 'mcp:write']);
    expect(tokens).toEqual({
      access_token: expect.stringMatching(/^mcpat_[A-Za-z0-9_-]{43}$/),
      token_type: 'Bearer',
      expires_in: 90,
      refresh_token: expect.stringMatching(/^mcprt_[A-Za-z0-9_-]{43}$/),
      scope: 'mcp:read mcp:write',
    });
    expect(await s.signIn([])).not.toHaveProperty('scope');
  });

  it('stores the access token for its lifetime, the refresh token and family for theirs plus a week', async () => {
    const s = setup();
    const set = vi.spyOn(s.backend, 'set');
    await s.signIn();
    const ttl = (namespace: string) => set.mock.calls.find((call) => call[0] === namespace)?.[3];
    expect(ttl('mcp-access')).toEqual({ ttlMs: ACCESS_TTL });
    expect(ttl('mcp-refresh')).toEqual({ ttlMs: REFRESH_TTL + RETENTION });
    expect(ttl('mcp-family')).toEqual({ ttlMs: REFRESH_TTL + RETENTION });
  });

  it('an access token lives to the millisecond of its lifetime', async () => {
    const s = setup();
    const tokens = await s.signIn();
    s.clock.advance(ACCESS_TTL - 1);
    await expect(s.families.verify(tokens.access_token)).resolves.toMatchObject({
      expiresAt: s.clock.now() + 1,
    });
    s.clock.advance(1);
    await expect(s.families.verify(tokens.access_token)).rejects.toMatchObject(refusal('invalid_token'));
  });
});

describe('refresh', () => {
  it('rotates: a new pair, the user’s session extended, the old refresh token spent', async () => {
    const day = 86_400_000;
    const s = setup({}, day);
    const first = await s.signIn();
    s.clock.advance(day - 60_000);
    const { tokens, grant } = await s.families.refresh(CLIENT, first.refresh_token, {});
    expect(tokens.refresh_token).not.toBe(first.refresh_token);
    expect(grant.scopes).toEqual(['mcp:read', 'mcp:write']);
    s.clock.advance(120_000); // past the session's first day: the refresh extended it
    expect(await s.sessionStore.getSession(USER)).toBeDefined();
    await expect(s.families.verify(tokens.access_token)).resolves.toMatchObject({ userId: USER });
  });

  it('an unknown refresh token is invalid_grant', async () => {
    const s = setup();
    await expect(s.families.refresh(CLIENT, `mcprt_${'x'.repeat(43)}`, {})).rejects.toMatchObject(
      refusal('invalid_grant', 'invalid refresh token'),
    );
  });

  it('another client presenting it revokes the family and says why', async () => {
    const s = setup();
    const tokens = await s.signIn();
    await expect(s.families.refresh('client-2', tokens.refresh_token, {})).rejects.toMatchObject(
      refusal('invalid_grant', 'the refresh token was issued to another client'),
    );
    expect(s.warnings()[0]?.fields).toEqual({ clientId: 'client-2', userId: USER, ownerClientId: CLIENT });
    await expect(s.families.refresh(CLIENT, tokens.refresh_token, {})).rejects.toMatchObject(
      refusal('invalid_grant', 'the refresh token was revoked'),
    );
  });

  it('another resource is invalid_target and leaves the token usable', async () => {
    const s = setup();
    const tokens = await s.signIn();
    await expect(
      s.families.refresh(CLIENT, tokens.refresh_token, { resource: 'https://other.example/mcp' }),
    ).rejects.toMatchObject(refusal('invalid_target'));
    await expect(
      s.families.refresh(CLIENT, tokens.refresh_token, { resource: RESOURCE }),
    ).resolves.toBeDefined();
  });

  it('narrows scopes, keeps them for none or an empty list, refuses wider ones and leaves the token usable', async () => {
    const s = setup();
    let tokens = await s.signIn();
    await expect(
      s.families.refresh(CLIENT, tokens.refresh_token, { scopes: ['mcp:read', 'mcp:admin'] }),
    ).rejects.toMatchObject(refusal('invalid_scope'));
    const kept = await s.families.refresh(CLIENT, tokens.refresh_token, { scopes: [] });
    expect(kept.grant.scopes).toEqual(['mcp:read', 'mcp:write']);
    tokens = kept.tokens;
    const narrowed = await s.families.refresh(CLIENT, tokens.refresh_token, { scopes: ['mcp:write'] });
    expect(narrowed.grant.scopes).toEqual(['mcp:write']);
    expect(narrowed.tokens.scope).toBe('mcp:write');
  });

  it('a refresh token expires to the millisecond', async () => {
    const s = setup();
    const early = await s.signIn();
    const late = await s.signIn();
    s.clock.advance(REFRESH_TTL - 1);
    await expect(s.families.refresh(CLIENT, early.refresh_token, {})).resolves.toBeDefined();
    s.clock.advance(1);
    await expect(s.families.refresh(CLIENT, late.refresh_token, {})).rejects.toMatchObject(
      refusal('invalid_grant', 'the refresh token expired; sign in again'),
    );
  });

  it('a family with a maximum lifetime ends then, however active, and its tokens never outlive it', async () => {
    const max = 45 * 86_400_000;
    const s = setup({ maxRefreshTokenLifetimeMs: max });
    const set = vi.spyOn(s.backend, 'set');
    let tokens = await s.signIn();
    s.clock.advance(20 * 86_400_000);
    tokens = (await s.families.refresh(CLIENT, tokens.refresh_token, {})).tokens;
    // 30 days from now would pass the family's end (45 days from the start): the token ends with it.
    const lastRefresh = set.mock.calls.filter((call) => call[0] === 'mcp-refresh').pop();
    expect(lastRefresh?.[3]).toEqual({ ttlMs: 25 * 86_400_000 + RETENTION });
    s.clock.advance(25 * 86_400_000 - 1);
    tokens = (await s.families.refresh(CLIENT, tokens.refresh_token, {})).tokens;
    s.clock.advance(1);
    await expect(s.families.refresh(CLIENT, tokens.refresh_token, {})).rejects.toMatchObject(
      refusal('invalid_grant'),
    );
  });

  it('the family’s end refuses on its own, even when a token’s record says later', async () => {
    const s = setup({ maxRefreshTokenLifetimeMs: 86_400_000 });
    const tokens = await s.signIn();
    // A record written before the limit was lowered (or by a replica with another setting).
    s.clock.advance(86_400_000);
    const record = s.backend.getSync<Record<string, unknown>>('mcp-refresh', sha256(tokens.refresh_token))!;
    await s.backend.set(
      'mcp-refresh',
      sha256(tokens.refresh_token),
      { ...record, expiresAt: s.clock.now() + 86_400_000 },
      { ttlMs: 2 * 86_400_000 },
    );
    await expect(s.families.refresh(CLIENT, tokens.refresh_token, {})).rejects.toMatchObject(
      refusal('invalid_grant', 'the grant expired (its maximum lifetime passed); sign in again'),
    );
  });

  it('a revoked family is refused before anything is spent or issued (not only by the check after issuing)', async () => {
    const s = setup();
    const tokens = await s.signIn();
    const record = s.backend.getSync<{ familyId: string }>('mcp-refresh', sha256(tokens.refresh_token))!;
    await s.families.revokeFamily(record.familyId);
    const set = vi.spyOn(s.backend, 'set');
    const claim = vi.spyOn(s.backend, 'claim');
    await expect(s.families.refresh(CLIENT, tokens.refresh_token, {})).rejects.toMatchObject(
      refusal('invalid_grant', 'the refresh token was revoked'),
    );
    expect(claim).not.toHaveBeenCalled();
    expect(set).not.toHaveBeenCalled();
  });

  it('a token whose record vanished between the read and the claim is invalid_grant', async () => {
    const s = setup();
    const tokens = await s.signIn();
    vi.spyOn(s.backend, 'claim').mockResolvedValue(undefined);
    await expect(s.families.refresh(CLIENT, tokens.refresh_token, {})).rejects.toMatchObject(
      refusal('invalid_grant', 'invalid refresh token'),
    );
  });

  it('a family whose record is gone counts as revoked', async () => {
    const s = setup();
    const tokens = await s.signIn();
    const record = s.backend.getSync<{ familyId: string }>('mcp-refresh', sha256(tokens.refresh_token))!;
    await s.backend.delete('mcp-family', record.familyId);
    await expect(s.families.refresh(CLIENT, tokens.refresh_token, {})).rejects.toMatchObject(
      refusal('invalid_grant', 'the refresh token was revoked'),
    );
  });

  it('a user who signed out ends the family at the next refresh', async () => {
    const s = setup();
    const tokens = await s.signIn();
    await s.sessionStore.removeSession(USER);
    await s.sessionStore.storeSession(USER);
    await expect(s.families.refresh(CLIENT, tokens.refresh_token, {})).rejects.toMatchObject(
      refusal('invalid_grant', 'the user signed out; sign in again'),
    );
    const record = s.backend.getSync<{ familyId: string }>('mcp-refresh', sha256(tokens.refresh_token))!;
    expect(s.backend.getSync('mcp-family-revoked', record.familyId)).toBe(1);
  });

  it('reuse within the grace window (to the millisecond) gets a fresh pair; one millisecond later revokes', async () => {
    const s = setup();
    const tokens = await s.signIn();
    const first = await s.families.refresh(CLIENT, tokens.refresh_token, {});
    s.clock.advance(GRACE);
    const again = await s.families.refresh(CLIENT, tokens.refresh_token, {});
    expect(again.tokens.refresh_token).not.toBe(first.tokens.refresh_token);
    expect(s.lines.filter((line) => line.level === 'debug')).toHaveLength(1);
    expect(s.warnings()).toEqual([]);
    s.clock.advance(1);
    await expect(s.families.refresh(CLIENT, tokens.refresh_token, {})).rejects.toMatchObject(
      refusal('invalid_grant', 'the refresh token was already used'),
    );
    expect(s.warnings()).toEqual([
      {
        level: 'warn',
        message: 'SECURITY: refresh token reuse outside the grace window; revoking its whole family',
        fields: { clientId: CLIENT, userId: USER, secondsSinceFirstUse: 10 },
      },
    ]);
    // Every pair of the family is dead, the ones issued in the grace window too.
    for (const pair of [first.tokens, again.tokens]) {
      await expect(s.families.verify(pair.access_token)).rejects.toMatchObject(refusal('invalid_token'));
      await expect(s.families.refresh(CLIENT, pair.refresh_token, {})).rejects.toMatchObject(
        refusal('invalid_grant'),
      );
    }
  });

  it('keeps a spent token’s claim for its remaining life plus a week', async () => {
    const s = setup();
    const tokens = await s.signIn();
    const claim = vi.spyOn(s.backend, 'claim');
    s.clock.advance(1_000);
    await s.families.refresh(CLIENT, tokens.refresh_token, {});
    expect(claim.mock.calls[0]?.[2]).toBe(String(s.clock.now()));
    expect(claim.mock.calls[0]?.[3]).toBe(REFRESH_TTL - 1_000 + RETENTION);
  });

  it('a revocation that lands while the new pair is issued wins: the caller gets nothing', async () => {
    const s = setup();
    const tokens = await s.signIn();
    const record = s.backend.getSync<{ familyId: string }>('mcp-refresh', sha256(tokens.refresh_token))!;
    const touch = s.sessionStore.touchSession.bind(s.sessionStore);
    vi.spyOn(s.sessionStore, 'touchSession').mockImplementation(async (user) => {
      await s.families.revokeFamily(record.familyId);
      return touch(user);
    });
    await expect(s.families.refresh(CLIENT, tokens.refresh_token, {})).rejects.toMatchObject(
      refusal('invalid_grant', 'the refresh token was revoked'),
    );
  });
});

describe('revokeFamily', () => {
  it('keeps its marker as long as any token of the family could live, plus a week', async () => {
    for (const [max, lifetime] of [
      [undefined, REFRESH_TTL],
      [90 * 86_400_000, 90 * 86_400_000],
    ] as const) {
      const s = setup({ maxRefreshTokenLifetimeMs: max });
      const set = vi.spyOn(s.backend, 'set');
      await s.families.revokeFamily('family-1');
      expect(set).toHaveBeenCalledWith('mcp-family-revoked', 'family-1', 1, { ttlMs: lifetime + RETENTION });
    }
  });
});

describe('verify', () => {
  it('refuses what is not token-shaped, unknown, revoked, or of a signed-out session', async () => {
    const s = setup();
    const tokens = await s.signIn();
    for (const malformed of ['', 'x'.repeat(513)]) {
      await expect(s.families.verify(malformed)).rejects.toMatchObject(
        refusal('invalid_token', 'invalid access token'),
      );
    }
    await expect(s.families.verify(`mcpat_${'y'.repeat(43)}`)).rejects.toMatchObject(
      refusal('invalid_token', 'unknown or revoked access token'),
    );
    const seen: unknown[] = [];
    const access = await s.families.verify(tokens.access_token, (session) => seen.push(session.userId));
    expect(access).toEqual({
      token: tokens.access_token,
      clientId: CLIENT,
      userId: USER,
      scopes: ['mcp:read', 'mcp:write'],
      expiresAt: s.clock.now() + ACCESS_TTL,
      resource: RESOURCE,
    });
    expect(seen).toEqual([USER]);
    await s.sessionStore.removeSession(USER);
    await s.sessionStore.storeSession(USER);
    await expect(s.families.verify(tokens.access_token)).rejects.toMatchObject(
      refusal('invalid_token', 'the user signed out'),
    );
  });

  it('refuses an access token at its own expiry, on a backend that keeps expired entries', async () => {
    const s = setup();
    const tokens = await s.signIn();
    const key = sha256(tokens.access_token);
    const record = s.backend.getSync<Record<string, unknown>>('mcp-access', key)!;
    // Kept by the backend a day longer than the token lives: only the record's own expiry refuses it.
    await s.backend.set('mcp-access', key, record, { ttlMs: ACCESS_TTL + 86_400_000 });
    s.clock.advance(ACCESS_TTL);
    await expect(s.families.verify(tokens.access_token)).rejects.toMatchObject(
      refusal('invalid_token', 'the access token expired'),
    );
  });

  it('refuses a token of a revoked family', async () => {
    const s = setup();
    const tokens = await s.signIn();
    await s.families.revoke(CLIENT, tokens.refresh_token);
    await expect(s.families.verify(tokens.access_token)).rejects.toMatchObject(
      refusal('invalid_token', 'the access token was revoked'),
    );
  });

  it('with the cache, tells a remembered token’s sign-out and refuses the session’s other generation', async () => {
    const s = setup({ verifiedTokenCache: { max: 10, ttlMs: 60_000 } });
    const tokens = await s.signIn();
    const seen: string[] = [];
    await s.families.verify(tokens.access_token);
    await s.families.verify(tokens.access_token, (session) => seen.push(session.generation));
    expect(seen).toEqual([(await s.sessionStore.getSession(USER))!.generation]);
    await s.sessionStore.removeSession(USER);
    await expect(s.families.verify(tokens.access_token)).rejects.toMatchObject(
      refusal('invalid_token', 'the user signed out'),
    );
    // Forgotten: signing in again reads the token again and finds the old generation.
    await s.sessionStore.storeSession(USER);
    await expect(s.families.verify(tokens.access_token)).rejects.toMatchObject(
      refusal('invalid_token', 'the user signed out'),
    );
  });

  /** A token verified (remembered with its sign-in's generation), then its user signed out and in again. */
  async function rememberedThenSignedOutAndIn() {
    const s = setup({ verifiedTokenCache: { max: 10, ttlMs: 60_000 } });
    const tokens = await s.signIn();
    await s.families.verify(tokens.access_token);
    await s.sessionStore.removeSession(USER);
    await s.sessionStore.storeSession(USER); // a live session again, of another generation
    return { s, tokens };
  }

  it('with the cache, a remembered token is refused once its user signed out and in again, without a verification between', async () => {
    const { s, tokens } = await rememberedThenSignedOutAndIn();
    await expect(s.families.verify(tokens.access_token)).rejects.toMatchObject(
      refusal('invalid_token', 'the user signed out'),
    );
  });

  it('with the cache, the remembered entry’s own generation check refuses, not only the stored record’s', async () => {
    const { s, tokens } = await rememberedThenSignedOutAndIn();
    // Without the stored record the later layer would say "unknown": the answer must come from the remembered entry.
    await s.backend.delete('mcp-access', sha256(tokens.access_token));
    await expect(s.families.verify(tokens.access_token)).rejects.toMatchObject(
      refusal('invalid_token', 'the user signed out'),
    );
  });

  it('with the cache, a token revoked by its owner here is unknown at once', async () => {
    const s = setup({ verifiedTokenCache: { max: 10, ttlMs: 60_000 } });
    const tokens = await s.signIn();
    await s.families.verify(tokens.access_token);
    await s.families.revoke(CLIENT, tokens.access_token);
    await expect(s.families.verify(tokens.access_token)).rejects.toMatchObject(
      refusal('invalid_token', 'unknown or revoked access token'),
    );
  });
});

describe('revoke (RFC 7009)', () => {
  it('the owner revokes an access token (that token only) or a refresh token (its family)', async () => {
    const s = setup();
    const tokens = await s.signIn();
    expect(await s.families.revoke(CLIENT, tokens.access_token)).toEqual({ kind: 'access', userId: USER });
    await expect(s.families.verify(tokens.access_token)).rejects.toMatchObject(refusal('invalid_token'));
    const next = await s.families.refresh(CLIENT, tokens.refresh_token, {});
    expect(await s.families.revoke(CLIENT, next.tokens.refresh_token)).toEqual({
      kind: 'refresh',
      userId: USER,
    });
    await expect(s.families.verify(next.tokens.access_token)).rejects.toMatchObject(refusal('invalid_token'));
  });

  it('another client’s tokens are left alone and logged; unknown and malformed ones are ignored', async () => {
    const s = setup();
    const tokens = await s.signIn();
    expect(await s.families.revoke('client-2', tokens.access_token)).toBeUndefined();
    expect(await s.families.revoke('client-2', tokens.refresh_token)).toBeUndefined();
    expect(s.warnings().map((line) => line.fields)).toEqual([
      { clientId: 'client-2', ownerClientId: CLIENT, userId: USER },
      { clientId: 'client-2', ownerClientId: CLIENT, userId: USER },
    ]);
    await expect(s.families.verify(tokens.access_token)).resolves.toMatchObject({ userId: USER });
    await expect(s.families.refresh(CLIENT, tokens.refresh_token, {})).resolves.toBeDefined();
    expect(await s.families.revoke(CLIENT, `mcpat_${'z'.repeat(43)}`)).toBeUndefined();
    expect(await s.families.revoke(CLIENT, '')).toBeUndefined();
    expect(await s.families.revoke(CLIENT, 'x'.repeat(513))).toBeUndefined();
  });
});
