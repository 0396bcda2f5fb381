import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/index.js';
import {
  checkId,
  checkState,
  isId,
  MAX_ID_LENGTH,
  positive,
  sessionFields,
} from '../../src/session/input.js';

describe('sessionFields', () => {
  it('copies the fields given, and adds none that were not', () => {
    const scopes = ['openid', 'email'];
    const fields = sessionFields({
      scopes,
      expiresAt: 5,
      issuer: 'https://i',
      clientId: 'c',
      mcpSessionId: 's-1',
    });
    expect(fields).toEqual({ scopes, expiresAt: 5, issuer: 'https://i', clientId: 'c', mcpSessionId: 's-1' });
    expect(fields.scopes).not.toBe(scopes);
    expect(Object.keys(sessionFields({}))).toEqual([]);
  });

  it.each([
    ['scopes that are not an array', { scopes: 'openid email' as never }],
    ['scopes with a non-string', { scopes: ['openid', 7 as never] }],
    ['an MCP session id with a space', { mcpSessionId: 'a b' }],
    ['an MCP session id too long', { mcpSessionId: 'x'.repeat(MAX_ID_LENGTH + 1) }],
  ])('refuses %s', (_label, input) => {
    expect(() => sessionFields(input)).toThrow(InvalidInputError);
  });
});

describe('positive', () => {
  it('rounds a positive duration up', () => {
    expect(positive(0.2, 'ttlMs')).toBe(1);
    expect(positive(5, 'ttlMs')).toBe(5);
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])('refuses %s, naming the option', (value) => {
    expect(() => positive(value, 'ttlMs')).toThrow(InvalidInputError);
    expect(() => positive(value, 'ttlMs')).toThrow('ttlMs must be a positive number of milliseconds');
  });
});

describe('isId and checkId', () => {
  it('accept 1 to 256 printable ASCII characters, nothing else', () => {
    expect(isId('a')).toBe(true);
    expect(isId('x'.repeat(MAX_ID_LENGTH))).toBe(true);
    expect(isId('x'.repeat(MAX_ID_LENGTH + 1))).toBe(false);
    expect(isId('')).toBe(false);
    expect(isId('a b')).toBe(false);
    expect(isId('é')).toBe(false);
    expect(isId(7)).toBe(false);
    // Not a string, even one that would read as a valid id.
    expect(isId(['mcp-session-1'])).toBe(false);
    expect(isId({ length: 3, toString: () => 'abc' })).toBe(false);
    expect(() => checkId('ok', 'session id')).not.toThrow();
    expect(() => checkId('not ok', 'session id')).toThrow(
      'session id must be 1 to 256 printable ASCII characters',
    );
  });
});

describe('checkState', () => {
  it('accepts 16 to 256 printable ASCII characters', () => {
    expect(() => checkState('s'.repeat(16))).not.toThrow();
    expect(() => checkState('s'.repeat(MAX_ID_LENGTH))).not.toThrow();
  });

  it.each([
    ['15 characters', 's'.repeat(15)],
    ['257 characters', 's'.repeat(MAX_ID_LENGTH + 1)],
    ['a space', `${'s'.repeat(16)} `],
    ['a number', 1234567890123456],
    ['nothing', undefined],
  ])('refuses %s', (_label, state) => {
    expect(() => checkState(state)).toThrow(InvalidInputError);
  });
});
