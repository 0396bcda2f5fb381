import { describe, expect, it } from 'vitest';
import type { StoredCredentials } from '../../src/credentials.js';
import { CredentialsCache } from '../../src/refresh/credentials-cache.js';

const record = (userId: string): StoredCredentials => ({
  userId,
  accessToken: `ya29.${userId}`,
  scopes: ['openid', 'email'],
  tokenType: 'Bearer',
  clientId: 'client',
  expiresAt: 10_000,
});

describe('CredentialsCache', () => {
  it('keeps a frozen copy stamped with when it was cached; the caller keeps its own object', () => {
    const cache = new CredentialsCache(10);
    const mine = record('ada@example.com');
    const kept = cache.remember('ada@example.com', mine, 5);
    expect(kept).not.toBe(mine);
    expect(Object.isFrozen(kept)).toBe(true);
    expect(Object.isFrozen(kept.scopes)).toBe(true);
    expect(Object.isFrozen(mine)).toBe(false);
    expect(cache.get('ada@example.com')).toEqual({ credentials: kept, cachedAt: 5 });
  });

  it('files the record under the normalised id it is given, whatever the record says', () => {
    const cache = new CredentialsCache(10);
    const kept = cache.remember('ada@example.com', record('Ada@Example.com'), 0);
    expect(kept.userId).toBe('ada@example.com');
  });

  it('shares scope lists and the client id between users', () => {
    const cache = new CredentialsCache(10);
    const ada = cache.remember('ada@example.com', record('ada@example.com'), 0);
    const bob = cache.remember('bob@example.com', record('bob@example.com'), 0);
    expect(bob.scopes).toBe(ada.scopes);
    expect(bob.clientId).toBe(ada.clientId);
  });

  it('adds no client id or token endpoint to a record that has none', () => {
    const cache = new CredentialsCache(10);
    const { clientId: _clientId, ...withoutClient } = record('ada@example.com');
    const kept = cache.remember('ada@example.com', withoutClient, 0);
    expect(Object.keys(kept)).not.toContain('clientId');
    expect(Object.keys(kept)).not.toContain('tokenUri');
    const withEndpoint = cache.remember(
      'bob@example.com',
      { ...record('bob@example.com'), tokenUri: 'https://t' },
      0,
    );
    expect(withEndpoint).toMatchObject({ clientId: 'client', tokenUri: 'https://t' });
  });

  it('keeps the user read last when full, not the one cached last', () => {
    const cache = new CredentialsCache(2);
    cache.remember('a@example.com', record('a@example.com'), 0);
    cache.remember('b@example.com', record('b@example.com'), 0);
    expect(cache.get('a@example.com')).toBeDefined();
    cache.remember('c@example.com', record('c@example.com'), 0);
    expect(cache.get('a@example.com')).toBeDefined();
    expect(cache.get('b@example.com')).toBeUndefined();
  });

  it('forgets a user, and holds at most `maxUsers`', () => {
    const cache = new CredentialsCache(2);
    cache.remember('a@example.com', record('a@example.com'), 0);
    cache.remember('b@example.com', record('b@example.com'), 0);
    cache.remember('c@example.com', record('c@example.com'), 0);
    expect(cache.size).toBe(2);
    expect(cache.get('a@example.com')).toBeUndefined();
    cache.forget('b@example.com');
    expect(cache.get('b@example.com')).toBeUndefined();
    expect(cache.size).toBe(1);
  });
});
