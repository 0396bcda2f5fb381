import { describe, expect, it } from 'vitest';
import {
  checkPythonDocument,
  checkStoredCredentials,
  describeShapeIssues,
  isPlainObject,
  shapeSchema,
} from '../../src/internal/record-shape.js';
import { sampleCredentials } from '../../src/testing/index.js';

describe('checkStoredCredentials', () => {
  it('returns a copy in one key order, drops unknown keys and normalises the user id', () => {
    const record = sampleCredentials('order@example.com');
    const shuffled = Object.fromEntries(Object.entries({ ...record, stray: 1 }).reverse());
    const result = checkStoredCredentials({ ...shuffled, userId: 'Order@Example.com' });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(Object.keys(result.value)).toEqual(Object.keys(record));
    expect(result.value.userId).toBe('order@example.com');
    expect(result.value.scopes).not.toBe(record.scopes);
    expect(result.value.extra).not.toBe(record.extra);
    expect(result.value).toEqual(record);
  });

  it.each([
    ['a non-object', 'ya29.secret', '(root)', 'invalid_type'],
    ['an array', ['ya29.secret'], '(root)', 'invalid_type'],
    ['a user id that is no address', { userId: 'ya29.secret' }, 'userId', 'invalid_value'],
    ['an access token that is a number', { accessToken: 42 }, 'accessToken', 'invalid_type'],
    ['an empty refresh token', { refreshToken: '' }, 'refreshToken', 'too_small'],
    ['a fractional expiry', { expiresAt: 1.5 }, 'expiresAt', 'invalid_type'],
    ['NaN as expiry', { expiresAt: Number.NaN }, 'expiresAt', 'invalid_type'],
    ['a negative expiry', { expiresAt: -1 }, 'expiresAt', 'too_small'],
    [
      'a scope that is not a string',
      { scopes: ['openid', { s: 'ya29.secret' }] },
      'scopes.1',
      'invalid_type',
    ],
    ['scopes that are a string', { scopes: 'openid email' }, 'scopes', 'invalid_type'],
    ['an empty token type', { tokenType: '' }, 'tokenType', 'too_small'],
    ['a subject over 255 characters', { subject: 's'.repeat(256) }, 'subject', 'too_big'],
    ['extra that is an array', { extra: ['ya29.secret'] }, 'extra', 'invalid_type'],
  ])('refuses %s, naming the field and never the value', (_name, change, path, code) => {
    const input =
      typeof change === 'object' && change !== null && !Array.isArray(change)
        ? { ...sampleCredentials('bad@example.com'), ...change }
        : change;
    const result = checkStoredCredentials(input);
    expect(result).toEqual({ ok: false, issues: [{ path, code }] });
    if (!result.ok) expect(describeShapeIssues(result.issues)).not.toContain('secret');
  });

  it('accepts the optional fields absent or undefined, and an empty access token', () => {
    const result = checkStoredCredentials({
      userId: 'min@example.com',
      accessToken: '',
      refreshToken: undefined,
      scopes: [],
      tokenType: 'Bearer',
    });
    expect(result).toEqual({
      ok: true,
      value: { userId: 'min@example.com', accessToken: '', scopes: [], tokenType: 'Bearer' },
    });
  });
});

describe('checkPythonDocument', () => {
  it('keeps unknown keys, accepts null for every interpreted key, and refuses wrong types', () => {
    const document = { token: null, refresh_token: null, scopes: null, universe_domain: 'googleapis.com' };
    expect(checkPythonDocument(document)).toEqual({ ok: true, value: document });
    expect(checkPythonDocument({ token: 7, scopes: [1] })).toEqual({
      ok: false,
      issues: [
        { path: 'token', code: 'invalid_type' },
        { path: 'scopes.0', code: 'invalid_type' },
      ],
    });
  });
});

describe('shapeSchema', () => {
  it('speaks safeParse and Standard Schema v1', () => {
    const schema = shapeSchema(checkStoredCredentials);
    const record = sampleCredentials('std@example.com');
    expect(schema.safeParse(record)).toEqual({ success: true, data: record });
    expect(schema['~standard'].validate(record)).toEqual({ value: record });
    expect(schema['~standard'].validate({ ...record, scopes: [1] })).toEqual({
      issues: [{ message: 'invalid_type', path: ['scopes', '0'] }],
    });
    expect(schema['~standard']).toMatchObject({ version: 1, vendor: 'mcp-oauth-credentials' });
    const refused = schema.safeParse({ ...record, scopes: [1] });
    expect(refused.success).toBe(false);
    expect(refused).toEqual({ success: false, issues: [{ path: 'scopes.0', code: 'invalid_type' }] });
  });
});

describe('required fields', () => {
  it('refuses a record without scopes or a token type, and null where null is not allowed', () => {
    const record = sampleCredentials('required@example.com');
    for (const [key, value] of [
      ['scopes', undefined],
      ['scopes', null],
      ['tokenType', undefined],
      ['tokenType', null],
      ['accessToken', undefined],
    ] as const) {
      const result = checkStoredCredentials({ ...record, [key]: value });
      expect(result.ok, `${key}: ${value}`).toBe(false);
      if (!result.ok) expect(result.issues).toEqual([{ path: key, code: 'invalid_type' }]);
    }
  });
});

describe('isPlainObject', () => {
  it('is an object literal or a null-prototype object, nothing else', () => {
    expect(isPlainObject({})).toBe(true);
    expect(isPlainObject(Object.create(null))).toBe(true);
    for (const value of [undefined, null, 0, 'x', true, [], new Date(0), new Map()]) {
      expect(isPlainObject(value), String(value)).toBe(false);
    }
  });
});

describe('record-shape edges', () => {
  it('accepts a null-prototype object, refuses class instances, and holds length limits exactly', () => {
    const plain = Object.assign(Object.create(null), sampleCredentials('proto@example.com'));
    expect(checkStoredCredentials(plain).ok).toBe(true);
    expect(checkStoredCredentials({ ...sampleCredentials('m@example.com'), extra: new Map() })).toEqual({
      ok: false,
      issues: [{ path: 'extra', code: 'invalid_type' }],
    });
    expect(
      checkStoredCredentials({ ...sampleCredentials('s@example.com'), subject: 's'.repeat(255) }).ok,
    ).toBe(true);
  });

  it('requires the required fields: absent is not optional', () => {
    const { accessToken: _a, scopes: _s, tokenType: _t, ...rest } = sampleCredentials('req@example.com');
    expect(checkStoredCredentials({ ...rest, userId: 42 })).toEqual({
      ok: false,
      issues: [
        { path: 'userId', code: 'invalid_type' },
        { path: 'accessToken', code: 'invalid_type' },
        { path: 'scopes', code: 'invalid_type' },
        { path: 'tokenType', code: 'invalid_type' },
      ],
    });
  });

  it('leaves absent optional fields absent (no keys holding undefined)', () => {
    const result = checkStoredCredentials({
      userId: 'keys@example.com',
      accessToken: 'a',
      scopes: [],
      tokenType: 'Bearer',
      subject: undefined,
      refreshToken: undefined,
      expiresAt: undefined,
      idToken: undefined,
      clientId: undefined,
      tokenUri: undefined,
      extra: undefined,
    });
    expect(result.ok && Object.keys(result.value)).toEqual(['userId', 'accessToken', 'scopes', 'tokenType']);
  });

  it('the document check: a non-object, copied scopes, null scopes kept', () => {
    expect(checkPythonDocument('ya29.secret')).toEqual({
      ok: false,
      issues: [{ path: '(root)', code: 'invalid_type' }],
    });
    const scopes = ['openid'];
    const result = checkPythonDocument({ scopes });
    expect(result.ok && result.value.scopes).toEqual(['openid']);
    expect(result.ok && result.value.scopes).not.toBe(scopes);
    expect(checkPythonDocument({ scopes: null })).toEqual({ ok: true, value: { scopes: null } });
    expect(checkPythonDocument({})).toEqual({ ok: true, value: {} });
  });

  it('describes at most three issues, and gives Standard Schema an empty path for the root', () => {
    const issues = ['a', 'b', 'c', 'd'].map((path) => ({ path, code: 'invalid_type' as const }));
    expect(describeShapeIssues(issues)).toBe('a: invalid_type; b: invalid_type; c: invalid_type');
    expect(shapeSchema(checkStoredCredentials)['~standard'].validate(7)).toEqual({
      issues: [{ message: 'invalid_type', path: [] }],
    });
  });
});
