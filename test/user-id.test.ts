import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeUserIdFromStorage,
  encodeUserIdForStorage,
  InvalidInputError,
  isValidUserId,
  normaliseUserId,
} from '../src/index.js';

describe('normaliseUserId', () => {
  it.each([
    ['Alice@Example.COM', 'alice@example.com'],
    ['bob+tag@example.com', 'bob+tag@example.com'],
    ["o'brien@sub.example.co.uk", "o'brien@sub.example.co.uk"],
    ['x@xn--bcher-kva.example', 'x@xn--bcher-kva.example'],
  ])('accepts %s as %s', (raw, expected) => {
    expect(normaliseUserId(raw)).toBe(expected);
  });

  it.each([
    '',
    ' alice@example.com',
    'alice@example.com ',
    'alice',
    '@example.com',
    'alice@',
    'alice@localhost',
    'a..b@example.com',
    '.a@example.com',
    'a.@example.com',
    'a/b@example.com',
    'a\\b@example.com',
    'a%2f@example.com',
    'a@exa mple.com',
    'a@example..com',
    'a@-example.com',
    'a\u0000@example.com',
    'a\n@example.com',
    'ålice@example.com',
    '\u212Aelvin@example.com',
    'a@b@example.com',
    `${'a'.repeat(65)}@example.com`,
    `a@${'b'.repeat(250)}.com`,
  ])('refuses %j', (raw) => {
    expect(() => normaliseUserId(raw)).toThrow(InvalidInputError);
    expect(isValidUserId(raw)).toBe(false);
  });

  it('refuses non-strings', () => {
    for (const raw of [undefined, null, 42, {}, ['a@example.com']]) {
      expect(() => normaliseUserId(raw)).toThrow(InvalidInputError);
    }
  });

  it('never lets an accepted id contain a path separator, NUL or "..", whatever the input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (raw) => {
        if (!isValidUserId(raw)) return;
        const userId = normaliseUserId(raw);
        expect(
          userId.includes('/') || userId.includes('\\') || userId.includes('\u0000') || userId.includes('..'),
        ).toBe(false);
        expect(decodeUserIdFromStorage(encodeUserIdForStorage(userId))).toBe(userId);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('storage name encoding', () => {
  it('percent-encodes like urllib.parse.quote(email, safe="@._-")', () => {
    expect(encodeUserIdForStorage('alice@example.com')).toBe('alice@example.com');
    expect(encodeUserIdForStorage('bob+tag@example.com')).toBe('bob%2Btag@example.com');
    expect(encodeUserIdForStorage("o'b~x@example.com")).toBe('o%27b~x@example.com');
  });

  it('decodes only names that are valid user ids', () => {
    expect(decodeUserIdFromStorage('bob%2Btag@example.com')).toBe('bob+tag@example.com');
    expect(decodeUserIdFromStorage('%2e%2e%2f@example.com')).toBeUndefined();
    expect(decodeUserIdFromStorage('%E0%A4%A')).toBeUndefined();
    expect(decodeUserIdFromStorage('oauth_states')).toBeUndefined();
  });
});
