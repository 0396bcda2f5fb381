/**
 * Sign-in and revocation on their own, with a scripted provider and id_token claims chosen per test:
 * each guard of `authorization.ts` refused or admitted by its own test. The same paths against a
 * Google-like provider over HTTP are in manager.test.ts.
 */

import type { Credentials } from 'google-auth-library';
import { describe, expect, it } from 'vitest';
import {
  AccessDeniedError,
  ConflictError,
  type CredentialStore,
  InvalidInputError,
  MemoryCredentialStore,
  ProviderError,
  type StoredCredentials,
} from '../../src/index.js';
import {
  type AuthorizationContext,
  admittedBy,
  type CompleteAuthorizationInput,
  completeAuthorization,
  revokeUser,
} from '../../src/refresh/authorization.js';
import { ManagerEvents } from '../../src/refresh/events.js';
import type { IdTokenVerifier } from '../../src/refresh/id-token.js';
import type { ProviderClient } from '../../src/refresh/provider-client.js';
import { OAuth21SessionStore } from '../../src/session/index.js';
import { FakeClock } from '../support/clock.js';
import { type RecordedLine, recordingLogger } from '../support/recording-logger.js';
import { rejectionOf } from '../support/rejection.js';
import { storeOver } from '../support/store-over.js';

const ALICE = 'alice@example.com';
const TOKEN_URL = 'https://oauth2.example.test/token';

interface Claims {
  sub?: unknown;
  email?: unknown;
  email_verified?: unknown;
  hd?: unknown;
  name?: unknown;
  picture?: unknown;
  iss?: unknown;
}

/** A provider that answers from a script, and records what it was asked to revoke. */
class ScriptedProvider {
  readonly tokenUrl = TOKEN_URL;
  readonly revoked: string[] = [];
  exchanges = 0;
  tokens: Credentials = {
    access_token: 'ya29.fresh',
    id_token: 'id.token',
    refresh_token: '1//fresh',
    scope: 'openid email',
    token_type: 'Bearer',
    expiry_date: Date.UTC(2026, 10, 26, 13, 0, 0),
  };
  exchangeFailure: unknown;
  revokeFailure: unknown;

  async exchangeCode(): Promise<Credentials> {
    this.exchanges += 1;
    if (this.exchangeFailure !== undefined) throw this.exchangeFailure;
    return { ...this.tokens };
  }

  async revoke(token: string): Promise<void> {
    this.revoked.push(token);
    if (this.revokeFailure !== undefined) throw this.revokeFailure;
  }
}

function setup(
  options: {
    claims?: Claims;
    store?: CredentialStore;
    withSessions?: boolean;
    persistClientSecret?: boolean;
  } = {},
) {
  const clock = new FakeClock();
  const lines: RecordedLine[] = [];
  const logger = recordingLogger(lines);
  const provider = new ScriptedProvider();
  const store = options.store ?? new MemoryCredentialStore();
  const sessionStore = options.withSessions === false ? undefined : new OAuth21SessionStore({ clock });
  const claims: Claims = options.claims ?? { sub: 'sub-alice', email: ALICE, email_verified: true };
  const verified: string[] = [];
  const idTokens = {
    async verify(token: string) {
      verified.push(token);
      return { ...claims };
    },
  } as unknown as IdTokenVerifier;
  const events = new ManagerEvents(logger);
  const forgotten: string[] = [];
  const remembered: Array<{ userId: string; credentials: StoredCredentials }> = [];
  const context: AuthorizationContext = {
    store,
    sessionStore,
    provider: provider as unknown as ProviderClient,
    idTokens,
    events,
    logger,
    clock,
    oauth: { clientId: 'client-1', clientSecret: 'secret-1' },
    maxConflictRetries: 2,
    persistClientSecret: options.persistClientSecret ?? false,
    forget: (userId) => forgotten.push(userId),
    remember: (userId, credentials) => remembered.push({ userId, credentials }),
  };
  return { context, clock, lines, provider, store, sessionStore, verified, events, forgotten, remembered };
}

const input = (extra: Partial<CompleteAuthorizationInput> = {}): CompleteAuthorizationInput => ({
  code: 'code-1',
  codeVerifier: 'verifier-1',
  ...extra,
});

/** A failed request as gaxios reports it (the provider's status and OAuth error field). */
const providerAnswer = (status: number, error?: string) =>
  Object.assign(new Error(`Request failed with status code ${status}`), {
    response: { status, data: error === undefined ? 'Service Unavailable' : { error } },
  });

describe('admittedBy (the sign-in policy)', () => {
  it('admits anyone when neither list is set or both are empty', () => {
    expect(admittedBy({}, ALICE, undefined)).toBe(true);
    expect(admittedBy({ allowedDomains: [], allowedUsers: [] }, ALICE, undefined)).toBe(true);
  });

  it('with only users listed, admits a listed user and refuses everyone else', () => {
    const policy = { allowedUsers: ['Alice@Example.com'] };
    expect(admittedBy(policy, ALICE, undefined)).toBe(true);
    expect(admittedBy(policy, 'bob@example.com', undefined)).toBe(false);
  });

  it('with only domains listed, admits on the hosted domain (any case) and refuses without one', () => {
    const policy = { allowedDomains: ['Example.com', 'corp.test'] };
    expect(admittedBy(policy, ALICE, 'EXAMPLE.com')).toBe(true);
    expect(admittedBy(policy, 'bob@corp.test', 'corp.test')).toBe(true);
    // The email's domain alone admits nobody: a consumer account can carry any address.
    expect(admittedBy(policy, ALICE, undefined)).toBe(false);
    expect(admittedBy(policy, ALICE, 'other.test')).toBe(false);
    expect(admittedBy(policy, ALICE, 42)).toBe(false);
  });

  it('with both lists, admits on either and refuses on neither', () => {
    const policy = { allowedDomains: ['corp.test'], allowedUsers: ['guest@gmail.com'] };
    expect(admittedBy(policy, 'guest@gmail.com', undefined)).toBe(true);
    expect(admittedBy(policy, 'bob@corp.test', 'corp.test')).toBe(true);
    expect(admittedBy(policy, 'eve@gmail.com', undefined)).toBe(false);
  });
});

describe('completeAuthorization: the code and the token response', () => {
  it.each([
    ['missing', undefined],
    ['not a string', 42],
    ['empty', ''],
    ['longer than 2048 characters', 'c'.repeat(2049)],
  ])('refuses a code that is %s before asking the provider', async (_label, code) => {
    const { context, provider, store } = setup();
    const error = await rejectionOf(completeAuthorization(context, input({ code: code as string })));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(provider.exchanges).toBe(0);
    expect(await store.get(ALICE)).toBeUndefined();
  });

  it('accepts a code of exactly 2048 characters', async () => {
    const { context, provider } = setup();
    await completeAuthorization(context, input({ code: 'c'.repeat(2048) }));
    expect(provider.exchanges).toBe(1);
  });

  it('refuses a call without an input object', async () => {
    const { context } = setup();
    const error = await rejectionOf(
      completeAuthorization(context, undefined as unknown as CompleteAuthorizationInput),
    );
    expect(error).toBeInstanceOf(InvalidInputError);
  });

  it.each([
    ['no access token', { access_token: undefined }],
    ['no id_token', { id_token: undefined }],
  ])('refuses a token response with %s and stores nothing', async (_label, change) => {
    const { context, provider, store, verified } = setup();
    provider.tokens = { ...provider.tokens, ...change };
    const error = await rejectionOf(completeAuthorization(context, input()));
    expect(error).toBeInstanceOf(ProviderError);
    expect(verified).toEqual([]);
    expect(await store.get(ALICE)).toBeUndefined();
  });

  it('an invalid_grant at the exchange is an InvalidInputError (a used or expired code)', async () => {
    const { context, provider } = setup();
    provider.exchangeFailure = providerAnswer(400, 'invalid_grant');
    const error = await rejectionOf(completeAuthorization(context, input()));
    expect(error).toBeInstanceOf(InvalidInputError);
    // The provider's answer stays as the (sanitised) cause, for the log.
    expect(String(error.cause)).toBe('ProviderResponse: invalid_grant');
  });

  it('another provider failure at the exchange is a ProviderError', async () => {
    const { context, provider } = setup();
    provider.exchangeFailure = providerAnswer(503);
    const error = await rejectionOf(completeAuthorization(context, input()));
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).not.toBeInstanceOf(InvalidInputError);
  });

  it('saves what the provider granted, with the defaults where it said nothing', async () => {
    const { context, provider, store, events } = setup();
    provider.tokens = {
      access_token: 'ya29.a',
      id_token: 'id.a',
      refresh_token: null,
      expiry_date: Date.UTC(2026, 10, 26, 13, 0, 0) + 0.7,
    };
    const authorized: unknown[] = [];
    events.on('authorized', (payload) => authorized.push(payload));
    const result = await completeAuthorization(context, input({ requestedScopes: ['openid', 'email'] }));
    const saved = (await store.get(ALICE))?.credentials;
    expect(saved).toMatchObject({
      userId: ALICE,
      subject: 'sub-alice',
      accessToken: 'ya29.a',
      idToken: 'id.a',
      tokenType: 'Bearer',
      scopes: ['openid', 'email'],
      clientId: 'client-1',
      tokenUri: TOKEN_URL,
      expiresAt: Date.UTC(2026, 10, 26, 13, 0, 0),
    });
    expect(saved).not.toHaveProperty('refreshToken');
    expect(saved).not.toHaveProperty('extra');
    expect(result).toEqual({
      userId: ALICE,
      scopes: ['openid', 'email'],
      expiresAt: Date.UTC(2026, 10, 26, 13, 0, 0),
      hasRefreshToken: false,
      replacedAccount: false,
      profile: { sub: 'sub-alice', email: ALICE },
    });
    expect(authorized).toEqual([
      { userId: ALICE, durationMs: 0, scopes: ['openid', 'email'], hasRefreshToken: false },
    ]);
  });

  it('a scope and token type in the response win over what was requested', async () => {
    const { context, provider, store } = setup();
    provider.tokens = { ...provider.tokens, scope: 'openid drive', token_type: 'DPoP' };
    const result = await completeAuthorization(context, input({ requestedScopes: ['openid', 'email'] }));
    expect(result.scopes).toEqual(['openid', 'drive']);
    expect((await store.get(ALICE))?.credentials.tokenType).toBe('DPoP');
  });

  it('without scope in the response or requested scopes, the record has no scopes', async () => {
    const { context, provider, store } = setup();
    provider.tokens = { ...provider.tokens, scope: undefined };
    const result = await completeAuthorization(context, input());
    expect(result.scopes).toEqual([]);
    expect((await store.get(ALICE))?.credentials.scopes).toEqual([]);
  });

  it('a response without an expiry saves none (not NaN, not 0)', async () => {
    const { context, provider, store, remembered } = setup();
    provider.tokens = { ...provider.tokens, expiry_date: undefined };
    const result = await completeAuthorization(context, input());
    expect(result.expiresAt).toBeUndefined();
    expect((await store.get(ALICE))?.credentials).not.toHaveProperty('expiresAt');
    expect(Object.keys(remembered[0]?.credentials ?? {})).not.toContain('expiresAt');
  });

  it('reports the profile claims that are strings, and only those', async () => {
    const { context } = setup({
      claims: {
        sub: 'sub-alice',
        email: ALICE,
        email_verified: true,
        name: 'Alice',
        picture: 'https://example.com/a.png',
        hd: 'example.com',
        iss: 'https://accounts.google.com',
      },
    });
    const result = await completeAuthorization(context, input());
    expect(result.profile).toEqual({
      sub: 'sub-alice',
      email: ALICE,
      name: 'Alice',
      picture: 'https://example.com/a.png',
      hd: 'example.com',
      iss: 'https://accounts.google.com',
    });
    const other = setup({
      claims: { sub: 's', email: ALICE, email_verified: true, name: 1, picture: {}, hd: [], iss: null },
    });
    expect((await completeAuthorization(other.context, input())).profile).toEqual({ sub: 's', email: ALICE });
  });

  it('times the authorization on the injected clock', async () => {
    const { context, provider, clock, events } = setup();
    const exchange = provider.exchangeCode.bind(provider);
    provider.exchangeCode = async () => {
      clock.advance(250);
      return exchange();
    };
    const durations: number[] = [];
    events.on('authorized', (payload) => durations.push(payload.durationMs));
    await completeAuthorization(context, input());
    expect(durations).toEqual([250]);
  });

  it('logs at info when the sign-in brought no refresh token, and not otherwise', async () => {
    const first = setup();
    await completeAuthorization(first.context, input());
    expect(first.lines.filter((line) => line.message.includes('no refresh token'))).toEqual([]);
    const second = setup();
    second.provider.tokens = { ...second.provider.tokens, refresh_token: undefined };
    await completeAuthorization(second.context, input());
    expect(second.lines.filter((line) => line.message.includes('no refresh token'))).toEqual([
      { level: 'info', message: 'no refresh token granted in this sign-in', fields: { userId: ALICE } },
    ]);
  });

  it('replaces the cached credentials: forgets the user, then remembers the saved record', async () => {
    const { context, forgotten, remembered, store } = setup();
    await completeAuthorization(context, input());
    expect(forgotten).toEqual([ALICE]);
    expect(remembered).toEqual([{ userId: ALICE, credentials: (await store.get(ALICE))?.credentials }]);
  });
});

describe('completeAuthorization: who may sign in', () => {
  it.each([
    ['no email', { sub: 's', email_verified: true }],
    ['an email that is not a string', { sub: 's', email: 7, email_verified: true }],
    ['email_verified false', { sub: 's', email: ALICE, email_verified: false }],
    ['email_verified missing', { sub: 's', email: ALICE }],
    ['email_verified as the string "true"', { sub: 's', email: ALICE, email_verified: 'true' }],
    ['no sub', { email: ALICE, email_verified: true }],
    ['a sub that is not a string', { sub: 7, email: ALICE, email_verified: true }],
    ['an empty sub', { sub: '', email: ALICE, email_verified: true }],
  ])('refuses an id_token with %s (email-unverified) and stores nothing', async (_label, claims) => {
    const { context, store } = setup({ claims });
    const error = await rejectionOf(completeAuthorization(context, input()));
    expect(error).toBeInstanceOf(AccessDeniedError);
    expect((error as AccessDeniedError).reason).toBe('email-unverified');
    expect(await store.get(ALICE)).toBeUndefined();
  });

  it('refuses another user than the expected one (compared normalised)', async () => {
    const { context, store } = setup();
    await completeAuthorization(context, input({ expectedUser: 'Alice@EXAMPLE.com' }));
    expect(await store.get(ALICE)).toBeDefined();
    const other = setup();
    const error = await rejectionOf(
      completeAuthorization(other.context, input({ expectedUser: 'bob@example.com' })),
    );
    expect((error as AccessDeniedError).reason).toBe('unexpected-user');
    expect(await other.store.get(ALICE)).toBeUndefined();
  });

  it('refuses another Google account than the expected subject, with a SECURITY warning', async () => {
    const { context, store, lines } = setup();
    const error = await rejectionOf(completeAuthorization(context, input({ expectedSubject: 'sub-other' })));
    expect(error).toBeInstanceOf(AccessDeniedError);
    expect((error as AccessDeniedError).reason).toBe('unexpected-account');
    expect(await store.get(ALICE)).toBeUndefined();
    expect(lines).toEqual([
      {
        level: 'warn',
        message: 'SECURITY: a sign-in bound to one Google account came back as another; refused',
        fields: { userId: ALICE },
      },
    ]);
    const same = setup();
    await completeAuthorization(same.context, input({ expectedSubject: 'sub-alice' }));
    expect(await same.store.get(ALICE)).toBeDefined();
  });

  it('refuses an account the policy does not admit, logs it, and stores nothing', async () => {
    const { context, store, lines } = setup({
      claims: { sub: 's', email: ALICE, email_verified: true, hd: 'example.com' },
    });
    const error = await rejectionOf(
      completeAuthorization(context, input({ policy: { allowedDomains: ['corp.test'] } })),
    );
    expect((error as AccessDeniedError).reason).toBe('not-allowed');
    expect(await store.get(ALICE)).toBeUndefined();
    expect(lines.map((line) => line.level)).toEqual(['warn']);
    expect(lines[0]?.fields).toEqual({ userId: ALICE });
    const admitted = setup({ claims: { sub: 's', email: ALICE, email_verified: true, hd: 'example.com' } });
    await completeAuthorization(admitted.context, input({ policy: { allowedDomains: ['example.com'] } }));
    expect(await admitted.store.get(ALICE)).toBeDefined();
  });
});

describe('completeAuthorization: the record on file', () => {
  const existing = (overrides: Partial<StoredCredentials> = {}): StoredCredentials => ({
    userId: ALICE,
    subject: 'sub-alice',
    accessToken: 'ya29.old',
    refreshToken: '1//old',
    scopes: ['openid'],
    tokenType: 'Bearer',
    extra: { kept: 'yes', expiry: 'stale' },
    ...overrides,
  });

  it('same account: keeps the refresh token on file when none is granted, and the extra fields', async () => {
    const { context, provider, store } = setup();
    await store.put(ALICE, existing(), { ifVersion: null });
    provider.tokens = { ...provider.tokens, refresh_token: undefined };
    const result = await completeAuthorization(context, input());
    const saved = (await store.get(ALICE))?.credentials;
    expect(saved?.refreshToken).toBe('1//old');
    expect(saved?.extra).toEqual({ kept: 'yes' });
    expect(result.hasRefreshToken).toBe(true);
    expect(result.replacedAccount).toBe(false);
    expect(provider.revoked).toEqual([]);
  });

  it('same account: an empty refresh token in the response is none, and the one on file stays', async () => {
    const { context, provider, store } = setup();
    await store.put(ALICE, existing(), { ifVersion: null });
    provider.tokens = { ...provider.tokens, refresh_token: '' };
    const result = await completeAuthorization(context, input());
    expect((await store.get(ALICE))?.credentials.refreshToken).toBe('1//old');
    expect(result.hasRefreshToken).toBe(true);
  });

  it('same account: a newly granted refresh token replaces the one on file', async () => {
    const { context, store } = setup();
    await store.put(ALICE, existing(), { ifVersion: null });
    await completeAuthorization(context, input());
    expect((await store.get(ALICE))?.credentials.refreshToken).toBe('1//fresh');
  });

  it('another account at the same address inherits nothing; the old grant is revoked, its sessions end', async () => {
    const { context, provider, store, sessionStore, lines } = setup();
    await store.put(ALICE, existing({ subject: 'sub-previous' }), { ifVersion: null });
    await sessionStore?.storeSession(ALICE);
    provider.tokens = { ...provider.tokens, refresh_token: undefined };
    const result = await completeAuthorization(context, input());
    const saved = (await store.get(ALICE))?.credentials;
    expect(saved?.subject).toBe('sub-alice');
    expect(saved).not.toHaveProperty('refreshToken');
    expect(saved).not.toHaveProperty('extra');
    expect(result).toMatchObject({ replacedAccount: true, hasRefreshToken: false });
    expect(provider.revoked).toEqual(['1//old']);
    expect(await sessionStore?.getSession(ALICE)).toBeUndefined();
    expect(lines.filter((line) => line.level === 'warn').map((line) => line.message)).toEqual([
      'this address now signs in as another Google account; the previous account’s grant was replaced and its sessions ended',
    ]);
  });

  it('another account without a refresh token on file: its access token is revoked instead', async () => {
    const { context, provider, store } = setup();
    await store.put(ALICE, existing({ subject: 'sub-previous', refreshToken: undefined }), {
      ifVersion: null,
    });
    await completeAuthorization(context, input());
    expect(provider.revoked).toEqual(['ya29.old']);
  });

  it('another account with no token at all: nothing to revoke, sessions still end', async () => {
    const { context, provider, store, sessionStore } = setup();
    await store.put(ALICE, existing({ subject: 'sub-previous', refreshToken: undefined, accessToken: '' }), {
      ifVersion: null,
    });
    await sessionStore?.storeSession(ALICE);
    const result = await completeAuthorization(context, input());
    expect(result.replacedAccount).toBe(true);
    expect(provider.revoked).toEqual([]);
    expect(await sessionStore?.getSession(ALICE)).toBeUndefined();
  });

  it('a failed revoke of the replaced grant is logged with the provider code only; the sign-in stands', async () => {
    const { context, provider, store, lines } = setup();
    await store.put(ALICE, existing({ subject: 'sub-previous' }), { ifVersion: null });
    provider.revokeFailure = providerAnswer(503);
    const result = await completeAuthorization(context, input());
    expect(result.replacedAccount).toBe(true);
    expect(lines).toContainEqual({
      level: 'warn',
      message: 'could not revoke the previous account’s grant at the provider',
      fields: { userId: ALICE, providerCode: 'HTTP 503' },
    });
    expect(JSON.stringify(lines)).not.toContain('1//old');
  });

  it('without a session store, replacing an account still works', async () => {
    const { context, store } = setup({ withSessions: false });
    await store.put(ALICE, existing({ subject: 'sub-previous' }), { ifVersion: null });
    expect((await completeAuthorization(context, input())).replacedAccount).toBe(true);
  });

  it('a corrupt record on file is replaced by the fresh sign-in', async () => {
    const memory = new MemoryCredentialStore();
    let corrupt = true;
    const store = storeOver(memory, {
      get: async (userId) => {
        if (corrupt) {
          const { CorruptCredentialsError } = await import('../../src/errors.js');
          throw new CorruptCredentialsError('unreadable', { userId });
        }
        return memory.get(userId);
      },
      put: async (userId, record, options) => {
        expect(options).toEqual({});
        corrupt = false;
        return memory.put(userId, record, options);
      },
      delete: (userId) => memory.delete(userId),
    });
    const { context } = setup({ store });
    const result = await completeAuthorization(context, input());
    expect(result.hasRefreshToken).toBe(true);
    expect((await memory.get(ALICE))?.credentials.accessToken).toBe('ya29.fresh');
  });

  it('another failure reading the record fails the sign-in and writes nothing', async () => {
    const memory = new MemoryCredentialStore();
    let puts = 0;
    const store = storeOver(memory, {
      get: async () => {
        throw new Error('store down');
      },
      put: async (userId, record, options) => {
        puts += 1;
        return memory.put(userId, record, options);
      },
      delete: (userId) => memory.delete(userId),
    });
    const { context } = setup({ store });
    await expect(completeAuthorization(context, input())).rejects.toThrow('store down');
    expect(puts).toBe(0);
  });

  it('writes only if absent when there is no record, and only over the version it read', async () => {
    const memory = new MemoryCredentialStore();
    const conditions: unknown[] = [];
    const store = storeOver(memory, {
      get: (userId) => memory.get(userId),
      put: async (userId, record, options) => {
        conditions.push(options);
        return memory.put(userId, record, options);
      },
      delete: (userId) => memory.delete(userId),
    });
    const { context } = setup({ store });
    await completeAuthorization(context, input());
    const version = (await memory.get(ALICE))?.version;
    await completeAuthorization(context, input());
    expect(conditions).toEqual([{ ifVersion: null }, { ifVersion: version }]);
  });

  it('a write that keeps losing ends in a ConflictError after the retries', async () => {
    const memory = new MemoryCredentialStore();
    let puts = 0;
    const store = storeOver(memory, {
      get: (userId) => memory.get(userId),
      put: async (userId, record) => {
        puts += 1;
        // Another replica writes between every read and write.
        await memory.put(userId, { ...record, accessToken: `other-${puts}` });
        return memory.put(userId, record, { ifVersion: 'stale' });
      },
      delete: (userId) => memory.delete(userId),
    });
    const { context, remembered } = setup({ store });
    const error = await rejectionOf(completeAuthorization(context, input()));
    expect(error).toBeInstanceOf(ConflictError);
    expect(error.message).toBe(`could not save credentials of ${ALICE}: the record kept changing`);
    expect((error as ConflictError).userId).toBe(ALICE);
    expect(puts).toBe(3);
    expect(remembered).toEqual([]);
  });

  it('persists the client secret only when asked, and never a stale expiry in extra', async () => {
    const { context, store } = setup({ persistClientSecret: true });
    await store.put(ALICE, existing(), { ifVersion: null });
    await completeAuthorization(context, input());
    expect((await store.get(ALICE))?.credentials.extra).toEqual({ kept: 'yes', client_secret: 'secret-1' });
  });
});

describe('revokeUser', () => {
  const record: StoredCredentials = {
    userId: ALICE,
    subject: 'sub-alice',
    accessToken: 'ya29.current',
    refreshToken: '1//current',
    scopes: ['openid'],
    tokenType: 'Bearer',
  };

  it('revokes the refresh token, deletes the record, ends the sessions, forgets the user', async () => {
    const { context, provider, store, sessionStore, forgotten, events, clock } = setup();
    await store.put(ALICE, record, { ifVersion: null });
    await sessionStore?.storeSession(ALICE);
    const revokeAt = provider.revoke.bind(provider);
    provider.revoke = async (token) => {
      clock.advance(40);
      return revokeAt(token);
    };
    const emitted: unknown[] = [];
    events.on('revoked', (payload) => emitted.push(payload));
    expect(await revokeUser(context, ALICE)).toStrictEqual({
      userId: ALICE,
      removed: true,
      providerRevoked: true,
    });
    expect(provider.revoked).toEqual(['1//current']);
    expect(await store.get(ALICE)).toBeUndefined();
    expect(await sessionStore?.getSession(ALICE)).toBeUndefined();
    expect(forgotten).toEqual([ALICE]);
    expect(emitted).toEqual([{ userId: ALICE, durationMs: 40, removed: true, providerRevoked: true }]);
  });

  it('without a refresh token, revokes the access token', async () => {
    const { context, provider, store } = setup();
    await store.put(ALICE, { ...record, refreshToken: undefined }, { ifVersion: null });
    await revokeUser(context, ALICE);
    expect(provider.revoked).toEqual(['ya29.current']);
  });

  it('with no token on file, asks the provider nothing and reports it unrevoked', async () => {
    const { context, provider, store } = setup();
    await store.put(ALICE, { ...record, refreshToken: undefined, accessToken: '' }, { ifVersion: null });
    expect(await revokeUser(context, ALICE)).toEqual({
      userId: ALICE,
      removed: true,
      providerRevoked: false,
    });
    expect(provider.revoked).toEqual([]);
  });

  it('an unknown user: nothing removed, nothing revoked, sessions still ended', async () => {
    const { context, provider, sessionStore } = setup();
    await sessionStore?.storeSession(ALICE);
    expect(await revokeUser(context, ALICE)).toEqual({
      userId: ALICE,
      removed: false,
      providerRevoked: false,
    });
    expect(provider.revoked).toEqual([]);
    expect(await sessionStore?.getSession(ALICE)).toBeUndefined();
  });

  it('a token the provider no longer knows (invalid_token) counts as revoked, without a warning', async () => {
    const { context, provider, store, lines } = setup();
    await store.put(ALICE, record, { ifVersion: null });
    provider.revokeFailure = providerAnswer(400, 'invalid_token');
    expect(await revokeUser(context, ALICE)).toStrictEqual({
      userId: ALICE,
      removed: true,
      providerRevoked: true,
    });
    expect(lines.filter((line) => line.level === 'warn')).toEqual([]);
  });

  it('a provider failure is reported and logged with its code; the record is deleted anyway', async () => {
    const { context, provider, store, lines } = setup();
    await store.put(ALICE, record, { ifVersion: null });
    provider.revokeFailure = providerAnswer(503);
    expect(await revokeUser(context, ALICE)).toEqual({
      userId: ALICE,
      removed: true,
      providerRevoked: false,
      providerError: 'HTTP 503',
    });
    expect(await store.get(ALICE)).toBeUndefined();
    expect(lines).toEqual([
      {
        level: 'warn',
        message: 'provider revoke failed',
        fields: { userId: ALICE, providerCode: 'HTTP 503' },
      },
    ]);
  });

  it('a corrupt record is deleted without a provider call', async () => {
    const memory = new MemoryCredentialStore();
    await memory.put(ALICE, record);
    const { CorruptCredentialsError } = await import('../../src/errors.js');
    const store = storeOver(memory, {
      get: async (userId) => {
        throw new CorruptCredentialsError('unreadable', { userId });
      },
      put: (userId, value, options) => memory.put(userId, value, options),
      delete: (userId) => memory.delete(userId),
    });
    const { context, provider } = setup({ store });
    expect(await revokeUser(context, ALICE)).toEqual({
      userId: ALICE,
      removed: true,
      providerRevoked: false,
    });
    expect(provider.revoked).toEqual([]);
  });

  it('another read failure fails the revoke before anything is deleted', async () => {
    const memory = new MemoryCredentialStore();
    await memory.put(ALICE, record);
    const store = storeOver(memory, {
      get: async () => {
        throw new Error('store down');
      },
      put: (userId, value, options) => memory.put(userId, value, options),
      delete: (userId) => memory.delete(userId),
    });
    const { context, sessionStore } = setup({ store });
    await sessionStore?.storeSession(ALICE);
    await expect(revokeUser(context, ALICE)).rejects.toThrow('store down');
    expect(await memory.get(ALICE)).toBeDefined();
  });

  it('a failed delete still ends the sessions and forgets the user', async () => {
    const memory = new MemoryCredentialStore();
    await memory.put(ALICE, record);
    const store = storeOver(memory, {
      get: (userId) => memory.get(userId),
      put: (userId, value, options) => memory.put(userId, value, options),
      delete: async () => {
        throw new Error('delete failed');
      },
    });
    const { context, sessionStore, forgotten } = setup({ store });
    await sessionStore?.storeSession(ALICE);
    await expect(revokeUser(context, ALICE)).rejects.toThrow('delete failed');
    expect(await sessionStore?.getSession(ALICE)).toBeUndefined();
    expect(forgotten).toEqual([ALICE]);
  });

  it('without a session store, revoke still deletes', async () => {
    const { context, store } = setup({ withSessions: false });
    await store.put(ALICE, record, { ifVersion: null });
    expect((await revokeUser(context, ALICE)).removed).toBe(true);
  });
});
