import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { subjectOf } from '../src/credentials.js';
import {
  CorruptCredentialsError,
  describeCredentials,
  formatPythonExpiry,
  fromGoogleTokens,
  fromPythonDocument,
  mergeRefreshedTokens,
  parsePythonExpiry,
  parseStoredCredentials,
  type StoredCredentials,
  splitScopes,
  toGoogleTokens,
  toPythonDocument,
} from '../src/index.js';
import { sampleCredentials } from '../src/testing/index.js';

const token = fc.string({ minLength: 1, maxLength: 40 }).filter((s) => s.trim() === s && !/\s/.test(s));
const scope = fc.stringMatching(/^[a-z][a-z0-9:/._-]{0,30}$/);
const recordArb: fc.Arbitrary<StoredCredentials> = fc
  .record(
    {
      userId: fc.constantFrom('a@example.com', 'b+c@example.org', 'x.y@sub.example.co.uk'),
      accessToken: fc.oneof(fc.constant(''), token),
      refreshToken: token,
      expiresAt: fc.integer({ min: 0, max: 4_102_444_800_000 }),
      scopes: fc.uniqueArray(scope, { maxLength: 5 }),
      tokenType: fc.constantFrom('Bearer', 'bearer', 'MAC'),
      idToken: token,
      clientId: token,
      tokenUri: fc.constant('https://oauth2.googleapis.com/token'),
      extra: fc.dictionary(
        fc.constantFrom('client_secret', 'universe_domain', 'account', 'custom'),
        fc.jsonValue(),
        {
          maxKeys: 3,
        },
      ),
    },
    { requiredKeys: ['userId', 'accessToken', 'scopes', 'tokenType'] },
  )
  .map((record) => {
    const out = { ...record } as StoredCredentials;
    if (out.extra && out.extra.client_secret === null) delete out.extra.client_secret;
    if (out.extra && Object.keys(out.extra).length === 0) delete out.extra;
    return JSON.parse(JSON.stringify(out)) as StoredCredentials;
  });

describe('google_workspace_mcp document codec', () => {
  it('round-trips any record through the JSON document losslessly', () => {
    fc.assert(
      fc.property(recordArb, (record) => {
        const document = JSON.parse(JSON.stringify(toPythonDocument(record)));
        expect(fromPythonDocument(document, record.userId)).toEqual(record);
      }),
      { numRuns: 300 },
    );
  });

  it('writes the seven keys the Python loader reads, with naive UTC expiry', () => {
    const record = sampleCredentials('writer@example.com', { expiresAt: Date.UTC(2026, 4, 12, 19, 34, 27) });
    const document = toPythonDocument(record);
    expect(Object.keys(document).slice(0, 7)).toEqual([
      'token',
      'refresh_token',
      'token_uri',
      'client_id',
      'client_secret',
      'scopes',
      'expiry',
    ]);
    expect(document.expiry).toBe('2026-05-12T19:34:27');
    expect(document.client_secret).toBe('test-client-secret');
    expect(toPythonDocument({ ...record, expiresAt: undefined }).expiry).toBeNull();
  });

  it('keeps a more precise original expiry text while the instant is unchanged, and drops it once refreshed', () => {
    const record = fromPythonDocument(
      { token: 't', scopes: [], expiry: '2026-05-12T19:34:27.123456' },
      'p@example.com',
    );
    expect(record.expiresAt).toBe(Date.UTC(2026, 4, 12, 19, 34, 27, 123));
    expect(toPythonDocument(record).expiry).toBe('2026-05-12T19:34:27.123456');
    const refreshed = mergeRefreshedTokens(record, {
      access_token: 'new',
      expiry_date: Date.UTC(2026, 4, 12, 20, 34, 27, 5),
    });
    expect(toPythonDocument(refreshed).expiry).toBe('2026-05-12T20:34:27.005000');
  });

  it('refuses documents that are not credentials, naming the user and never a value', () => {
    for (const document of [
      null,
      42,
      'text',
      [],
      { token: 12 },
      { scopes: 'openid' },
      { expiry: 'tomorrow' },
    ]) {
      const error = (() => {
        try {
          fromPythonDocument(document, 'bad@example.com');
        } catch (caught) {
          return caught;
        }
        return undefined;
      })();
      expect(error, JSON.stringify(document)).toBeInstanceOf(CorruptCredentialsError);
      expect((error as Error).message).toContain('bad@example.com');
      expect((error as Error).message).not.toContain('tomorrow');
    }
  });
});

describe('expiry parsing', () => {
  it.each([
    ['2026-05-12T19:34:27', Date.UTC(2026, 4, 12, 19, 34, 27)],
    ['2026-05-12T19:34:27.123456', Date.UTC(2026, 4, 12, 19, 34, 27, 123)],
    ['2026-05-12T19:34:27.5', Date.UTC(2026, 4, 12, 19, 34, 27, 500)],
    ['2026-05-12 19:34:27', Date.UTC(2026, 4, 12, 19, 34, 27)],
    ['2026-05-12T19:34:27Z', Date.UTC(2026, 4, 12, 19, 34, 27)],
    ['2026-05-12T19:34:27.654321Z', Date.UTC(2026, 4, 12, 19, 34, 27, 654)],
    ['2026-05-12T21:34:27+02:00', Date.UTC(2026, 4, 12, 19, 34, 27)],
    ['2026-05-12T14:34:27-0500', Date.UTC(2026, 4, 12, 19, 34, 27)],
    // Offsets with minutes: the minutes carry the offset's sign too.
    ['2026-05-13T01:04:27+05:30', Date.UTC(2026, 4, 12, 19, 34, 27)],
    ['2026-05-12T16:04:27-03:30', Date.UTC(2026, 4, 12, 19, 34, 27)],
    ['2026-05-12T19:34:27+00:45', Date.UTC(2026, 4, 12, 18, 49, 27)],
  ])('parses %s', (text, expected) => {
    expect(parsePythonExpiry(text)).toBe(expected);
  });

  it.each([
    '1969-12-31T23:59:59',
    '0001-01-01T00:00:00',
    '2026-05-12T00:30:00+01:00x',
    '',
    'tomorrow',
    '2026-02-30T00:00:00',
    '2026-13-01T00:00:00',
    '2026-05-12',
    '12/05/2026 19:34',
  ])('refuses %j', (text) => {
    expect(parsePythonExpiry(text)).toBeUndefined();
  });

  it('formats like Python datetime.isoformat()', () => {
    expect(formatPythonExpiry(Date.UTC(2026, 4, 12, 19, 34, 27))).toBe('2026-05-12T19:34:27');
    expect(formatPythonExpiry(Date.UTC(2026, 4, 12, 19, 34, 27, 7))).toBe('2026-05-12T19:34:27.007000');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_102_444_800_000 }), (ms) => {
        expect(parsePythonExpiry(formatPythonExpiry(ms))).toBe(ms);
      }),
    );
  });
});

describe('google-auth-library codec', () => {
  it('round-trips records through Credentials when the metadata comes back as base', () => {
    fc.assert(
      fc.property(recordArb, (record) => {
        const { userId, ...metadata } = record;
        expect(fromGoogleTokens(userId, toGoogleTokens(record), metadata)).toEqual(record);
      }),
      { numRuns: 300 },
    );
  });

  it('maps the fields by name and unit', () => {
    const record = sampleCredentials('gal@example.com', { expiresAt: 1_800_000_000_123, scopes: ['a', 'b'] });
    expect(toGoogleTokens(record)).toEqual({
      access_token: record.accessToken,
      refresh_token: record.refreshToken,
      expiry_date: 1_800_000_000_123,
      scope: 'a b',
      token_type: 'Bearer',
      id_token: record.idToken,
    });
    expect(
      fromGoogleTokens('GAL@example.com', {
        access_token: 'x',
        expiry_date: 5,
        scope: 'a  b a',
        token_type: null,
      }),
    ).toEqual({
      userId: 'gal@example.com',
      accessToken: 'x',
      expiresAt: 5,
      scopes: ['a', 'b'],
      tokenType: 'Bearer',
    });
  });
});

describe('mergeRefreshedTokens', () => {
  const previous = sampleCredentials('merge@example.com');

  it('keeps the stored refresh token when the response has none (Google does not resend it)', () => {
    const merged = mergeRefreshedTokens(previous, {
      access_token: 'ya29.new',
      expiry_date: 9,
      refresh_token: null,
    });
    expect(merged.refreshToken).toBe(previous.refreshToken);
    expect(merged.accessToken).toBe('ya29.new');
    expect(merged.expiresAt).toBe(9);
  });

  it('drops the expiry when the response has none, rather than keeping a stale one or NaN', () => {
    const merged = mergeRefreshedTokens(previous, { access_token: 'ya29.new' });
    expect(merged.expiresAt).toBeUndefined();
    expect('expiresAt' in merged).toBe(false);
    expect(mergeRefreshedTokens(previous, { access_token: 'a', expiry_date: 1234.9 }).expiresAt).toBe(1234);
  });

  it('takes a rotated refresh token', () => {
    expect(
      mergeRefreshedTokens(previous, { access_token: 'a', refresh_token: '1//rotated' }).refreshToken,
    ).toBe('1//rotated');
  });

  it('keeps client id, token URI, extra fields and (when the response omits scope) scopes', () => {
    const merged = mergeRefreshedTokens(previous, { access_token: 'a', expiry_date: 1 });
    expect(merged).toMatchObject({
      clientId: previous.clientId,
      tokenUri: previous.tokenUri,
      extra: previous.extra,
      scopes: previous.scopes,
      idToken: previous.idToken,
    });
    expect(mergeRefreshedTokens(previous, { access_token: 'a', scope: 'openid' }).scopes).toEqual(['openid']);
  });
});

describe('parseStoredCredentials', () => {
  it('names the user and the failing fields, never the values', () => {
    const error = (() => {
      try {
        parseStoredCredentials(
          { ...sampleCredentials('v@example.com'), expiresAt: 'ya29.LEAK' },
          'v@example.com',
        );
      } catch (caught) {
        return caught as Error;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(CorruptCredentialsError);
    expect(error?.message).toContain('expiresAt');
    expect(error?.message).not.toContain('LEAK');
  });

  it.each([
    ['an empty refresh token', { refreshToken: '' }, 'refreshToken'],
    ['a negative expiry', { expiresAt: -1 }, 'expiresAt'],
    ['a fractional expiry', { expiresAt: 1.5 }, 'expiresAt'],
    ['an empty token type', { tokenType: '' }, 'tokenType'],
    ['a user id that is not an address', { userId: 'not-an-address' }, 'userId'],
  ])('refuses %s read from storage', (_name, change, field) => {
    expect(() =>
      parseStoredCredentials({ ...sampleCredentials('e@example.com'), ...change }, 'e@example.com'),
    ).toThrow(expect.objectContaining({ code: 'CORRUPT', message: expect.stringContaining(field) }));
  });

  it('splits scopes on any whitespace and drops duplicates', () => {
    expect(splitScopes(' openid  email\topenid ')).toEqual(['openid', 'email']);
  });
});

describe('record helpers', () => {
  const token = (payload: unknown) => `eyJ.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.sig`;

  it('subjectOf: the stored subject first, else a non-empty string sub of the stored id_token', () => {
    const base = sampleCredentials('sub@example.com');
    expect(subjectOf({ ...base, subject: 'stored', idToken: token({ sub: 'other' }) })).toBe('stored');
    expect(subjectOf({ ...base, idToken: token({ sub: '42' }) })).toBe('42');
    for (const sub of ['', 42, null]) expect(subjectOf({ ...base, idToken: token({ sub }) })).toBeUndefined();
    expect(subjectOf({ ...base, idToken: 'not-a-jwt' })).toBeUndefined();
    expect(subjectOf({ ...base, idToken: 'eyJ.%%%.sig' })).toBeUndefined();
    const { idToken: _id, ...noToken } = base;
    expect(subjectOf(noToken)).toBeUndefined();
  });

  it('describeCredentials says whether tokens are on file, never what they are', () => {
    const summary = describeCredentials({ ...sampleCredentials('d@example.com'), accessToken: '' });
    expect(summary).toMatchObject({ hasAccessToken: false, hasRefreshToken: true });
    const { refreshToken: _r, ...noRefresh } = sampleCredentials('d@example.com');
    expect(describeCredentials(noRefresh)).toMatchObject({ hasAccessToken: true, hasRefreshToken: false });
    expect(JSON.stringify(summary)).not.toMatch(/ya29|1\/\//);
  });

  it('toGoogleTokens leaves out what a record does not have, and sends no empty access token', () => {
    const record: StoredCredentials = {
      userId: 'm@example.com',
      accessToken: '',
      scopes: [],
      tokenType: 'Bearer',
    };
    expect(toGoogleTokens(record)).toEqual({ access_token: null, token_type: 'Bearer', scope: '' });
  });

  it('fromGoogleTokens keeps the base record’s scopes and token type when the response has none', () => {
    const base = sampleCredentials('b@example.com', { scopes: ['openid', 'email'], tokenType: 'Bearer' });
    const record = fromGoogleTokens('b@example.com', { access_token: 'ya29.n', refresh_token: null }, base);
    expect(record).toMatchObject({
      scopes: ['openid', 'email'],
      tokenType: 'Bearer',
      refreshToken: base.refreshToken,
    });
    expect(record.expiresAt).toBeUndefined();
    expect(fromGoogleTokens('b@example.com', { access_token: 'x', token_type: 'MAC' }, base).tokenType).toBe(
      'MAC',
    );
  });
});
