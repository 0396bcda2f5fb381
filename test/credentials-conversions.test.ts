/**
 * The record conversions, field by field: google-auth-library tokens in and out, a refresh response
 * merged into a record, the Google account a record belongs to, and the google_workspace_mcp
 * document in both directions. Each optional field is checked present, absent and kept.
 */
import { describe, expect, it } from 'vitest';
import {
  fromGoogleTokens,
  fromPythonDocument,
  mergeRefreshedTokens,
  subjectOf,
  toGoogleTokens,
  toPythonDocument,
} from '../src/credentials.js';
import { CorruptCredentialsError, type StoredCredentials } from '../src/index.js';
import { rejectionOf } from './support/rejection.js';

const USER = 'conv@example.com';
const idToken = (payload: unknown) =>
  `eyJhbGciOiJub25lIn0.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.sig`;

const base: Omit<StoredCredentials, 'userId'> = {
  accessToken: 'ya29.old',
  refreshToken: '1//old',
  expiresAt: 1_900_000_000_000,
  scopes: ['openid', 'email'],
  tokenType: 'Bearer',
  idToken: idToken({ sub: 'old-sub' }),
  clientId: 'client',
};

describe('fromGoogleTokens', () => {
  it('takes every field the tokens carry, the expiry truncated to whole milliseconds', () => {
    const record = fromGoogleTokens(
      USER,
      {
        access_token: 'ya29.new',
        refresh_token: '1//new',
        expiry_date: 1_900_000_000_123.9,
        id_token: idToken({ sub: 'new-sub' }),
        scope: 'openid email openid',
        token_type: 'bearer',
      },
      base,
    );
    expect(record).toMatchObject({
      userId: USER,
      accessToken: 'ya29.new',
      refreshToken: '1//new',
      expiresAt: 1_900_000_000_123,
      idToken: idToken({ sub: 'new-sub' }),
      scopes: ['openid', 'email'],
      tokenType: 'bearer',
      clientId: 'client',
    });
  });

  it('keeps the base’s refresh token, id_token, scopes (a copy) and type when the tokens omit them; no expiry is no expiry', () => {
    const record = fromGoogleTokens(USER, { access_token: 'ya29.new' }, base);
    expect(record.refreshToken).toBe('1//old');
    expect(record.idToken).toBe(base.idToken);
    expect(record.scopes).toEqual(['openid', 'email']);
    expect(record.scopes).not.toBe(base.scopes);
    expect(record.tokenType).toBe('Bearer');
    expect('expiresAt' in record).toBe(false);
    const bare = fromGoogleTokens(USER, { access_token: 'ya29.new', refresh_token: '', id_token: '' });
    expect(bare).toStrictEqual({ userId: USER, accessToken: 'ya29.new', scopes: [], tokenType: 'Bearer' });
  });
});

describe('mergeRefreshedTokens and toGoogleTokens', () => {
  const previous: StoredCredentials = { userId: USER, ...base };

  it('replaces the id_token only when the response has one, and the refresh token only when rotated', () => {
    const kept = mergeRefreshedTokens(previous, { access_token: 'ya29.next', expiry_date: 1 });
    expect(kept.idToken).toBe(base.idToken);
    expect(kept.refreshToken).toBe('1//old');
    const replaced = mergeRefreshedTokens(previous, {
      access_token: 'ya29.next',
      refresh_token: '1//rotated',
      id_token: idToken({ sub: 'old-sub', iat: 2 }),
    });
    expect(replaced.idToken).toBe(idToken({ sub: 'old-sub', iat: 2 }));
    expect(replaced.refreshToken).toBe('1//rotated');
    expect(
      mergeRefreshedTokens(previous, { access_token: 'ya29.next', token_type: 'bearer' }).tokenType,
    ).toBe('bearer');
    expect(kept.tokenType).toBe('Bearer');
    expect('expiresAt' in replaced).toBe(false);
  });

  it('hands google-auth-library only the fields a record has', () => {
    expect(
      toGoogleTokens({ userId: USER, accessToken: 'ya29.a', scopes: ['openid'], tokenType: 'Bearer' }),
    ).toStrictEqual({
      access_token: 'ya29.a',
      scope: 'openid',
      token_type: 'Bearer',
    });
    expect(toGoogleTokens(previous)).toMatchObject({
      refresh_token: '1//old',
      expiry_date: 1_900_000_000_000,
      id_token: base.idToken,
    });
  });
});

describe('subjectOf', () => {
  const record = (fields: Partial<StoredCredentials>): StoredCredentials => ({
    userId: USER,
    accessToken: 'a',
    scopes: [],
    tokenType: 'Bearer',
    ...fields,
  });

  it('is the stored subject first, else the id_token’s non-empty string sub, else nothing', () => {
    expect(subjectOf(record({ subject: 'kept', idToken: idToken({ sub: 'other' }) }))).toBe('kept');
    expect(subjectOf(record({ idToken: idToken({ sub: '1234' }) }))).toBe('1234');
    for (const sub of ['', ['1234'], 1234, null]) {
      expect(subjectOf(record({ idToken: idToken({ sub }) })), JSON.stringify(sub)).toBeUndefined();
    }
    expect(subjectOf(record({ idToken: 'no-dots' }))).toBeUndefined();
    expect(subjectOf(record({ idToken: 'a.bm90IGpzb24.c' }))).toBeUndefined();
    expect(subjectOf(record({}))).toBeUndefined();
  });
});

describe('the google_workspace_mcp document', () => {
  it('reads null scopes as none, and the id_token and subject it carries', () => {
    const record = fromPythonDocument(
      { token: 'ya29.p', scopes: null, id_token: 'eyJ.p', subject: '42', user_email: USER },
      USER,
    );
    expect(record.scopes).toEqual([]);
    expect(record.idToken).toBe('eyJ.p');
    expect(record.subject).toBe('42');
  });

  it('refuses an unreadable expiry, naming the user', async () => {
    const error = await rejectionOf(
      Promise.resolve().then(() => fromPythonDocument({ token: 't', expiry: 'soon' }, USER)),
    );
    expect(error).toBeInstanceOf(CorruptCredentialsError);
    expect((error as CorruptCredentialsError).userId).toBe(USER);
  });

  it('writes an empty access token as null, the subject, and extra keys only where they name nothing interpreted', () => {
    const document = toPythonDocument({
      userId: USER,
      accessToken: '',
      scopes: ['openid'],
      tokenType: 'Bearer',
      subject: '42',
      expiresAt: 1_900_000_000_000,
      extra: { token: 'planted', user_email: 'eve@example.com', expiry: 1_900_000_000, other: 'kept' },
    });
    expect(document.token).toBeNull();
    expect(document.subject).toBe('42');
    expect(document.user_email).toBe(USER);
    expect(document.other).toBe('kept');
    // A non-string expiry kept in extra is never taken for the original text.
    expect(document.expiry).toBe('2030-03-17T17:46:40');
    const withToken = toPythonDocument({
      userId: USER,
      accessToken: 'ya29.a',
      scopes: [],
      tokenType: 'Bearer',
    });
    expect(withToken.token).toBe('ya29.a');
    expect('subject' in withToken).toBe(false);
    expect('id_token' in withToken).toBe(false);
    expect(
      toPythonDocument({ userId: USER, accessToken: 'a', idToken: 'eyJ.i', scopes: [], tokenType: 'Bearer' })
        .id_token,
    ).toBe('eyJ.i');
  });
});
