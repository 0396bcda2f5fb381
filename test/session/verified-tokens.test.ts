import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/errors.js';
import { sha256 } from '../../src/secrets.js';
import type { SessionBackend } from '../../src/session/backend.js';
import { MemorySessionBackend } from '../../src/session/memory-backend.js';
import { OAuth21SessionStore } from '../../src/session/session-store.js';
import {
  DEFAULT_VERIFIED_TOKEN_CACHE_MAX,
  DEFAULT_VERIFIED_TOKEN_CACHE_TTL_MS,
  isTokenShaped,
  MAX_BEARER_TOKEN_LENGTH,
  RecentVerifications,
  resolveVerifiedTokenCache,
} from '../../src/session/verified-tokens.js';
import { FakeClock } from '../support/clock.js';

/** The memory backend under a wrapper that says nothing about where it keeps entries (a custom backend). */
function undeclared(inner: MemorySessionBackend): SessionBackend {
  return new Proxy(inner, {
    get(target, property) {
      if (property === 'locality' || property === 'getSync') return undefined;
      const value = Reflect.get(target, property);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe('RecentVerifications', () => {
  it('recalls a verification for less than ttlMs after it was made, then no more', () => {
    const recent = new RecentVerifications<{ verifiedAt: number; user: string }>({ max: 10, ttlMs: 1_000 });
    recent.remember('token', { verifiedAt: 5_000, user: 'ada' });
    expect(recent.recall('token', 5_999)).toEqual({ verifiedAt: 5_000, user: 'ada' });
    expect(recent.recall('token', 6_000)).toBeUndefined();
    recent.forget('token');
    expect(recent.recall('token', 5_500)).toBeUndefined();
    expect(recent.ttlMs).toBe(1_000);
  });

  it('drops expired entries on time: the first remember ttlMs after the last sweep sweeps them', () => {
    const recent = new RecentVerifications<{ verifiedAt: number }>({ max: 100, ttlMs: 1_000 });
    recent.remember('a', { verifiedAt: 0 }); // sweeps (nothing yet)
    recent.remember('b', { verifiedAt: 999 });
    recent.remember('c', { verifiedAt: 1_500 }); // due: a (1,500 ms old) goes, b stays
    expect(recent.size).toBe(2);
    expect(recent.recall('b', 1_500)).toBeDefined();
    recent.remember('d', { verifiedAt: 2_499 }); // 999 ms after the last sweep: not due, b stays held
    expect(recent.size).toBe(3);
    recent.remember('e', { verifiedAt: 2_500 }); // due: b and c (exactly 1,000 ms old) go
    expect(recent.size).toBe(2);
    expect(recent.recall('d', 2_500)).toBeDefined();
    expect(recent.recall('e', 2_500)).toBeDefined();
  });

  it('holds at most `max`, keeping the one recalled last', () => {
    const recent = new RecentVerifications<{ verifiedAt: number }>({ max: 2, ttlMs: 1_000 });
    recent.remember('a', { verifiedAt: 0 });
    recent.remember('b', { verifiedAt: 0 });
    expect(recent.recall('a', 1)).toBeDefined();
    recent.remember('c', { verifiedAt: 0 });
    expect(recent.recall('a', 1)).toBeDefined();
    expect(recent.recall('b', 1)).toBeUndefined();
    expect(recent.recall('c', 1)).toBeDefined();
  });
});

describe('isTokenShaped', () => {
  it(`accepts a non-empty string of at most ${MAX_BEARER_TOKEN_LENGTH} characters only`, () => {
    expect(isTokenShaped('a')).toBe(true);
    expect(isTokenShaped('a'.repeat(MAX_BEARER_TOKEN_LENGTH))).toBe(true);
    expect(isTokenShaped('a'.repeat(MAX_BEARER_TOKEN_LENGTH + 1))).toBe(false);
    expect(isTokenShaped('')).toBe(false);
    expect(isTokenShaped(42)).toBe(false);
  });
});

describe('resolveVerifiedTokenCache', () => {
  const memory = new MemorySessionBackend();

  it('defaults by the backend’s declared locality: 60 s in process, 5 s shared or undeclared', () => {
    expect(resolveVerifiedTokenCache(undefined, memory)).toEqual({
      max: DEFAULT_VERIFIED_TOKEN_CACHE_MAX,
      ttlMs: DEFAULT_VERIFIED_TOKEN_CACHE_TTL_MS.inProcess,
    });
    expect(resolveVerifiedTokenCache({}, undeclared(memory))).toEqual({
      max: DEFAULT_VERIFIED_TOKEN_CACHE_MAX,
      ttlMs: DEFAULT_VERIFIED_TOKEN_CACHE_TTL_MS.shared,
    });
  });

  it('is off with false or a zero lifetime, and refuses nonsense naming the option', () => {
    expect(resolveVerifiedTokenCache(false, memory)).toBe(false);
    expect(resolveVerifiedTokenCache({ ttlMs: 0 }, memory)).toBe(false);
    expect(() => resolveVerifiedTokenCache({ max: 0 }, memory)).toThrow('verifiedTokenCache.max');
    expect(() => resolveVerifiedTokenCache({ ttlMs: Number.NaN }, memory)).toThrow(ConfigurationError);
    expect(() => resolveVerifiedTokenCache({ ttlMs: -1 }, memory)).toThrow('verifiedTokenCache.ttlMs');
    for (const nonsense of [true, null, 60_000, 'on']) {
      expect(() => resolveVerifiedTokenCache(nonsense as never, memory)).toThrow(
        'verifiedTokenCache must be an object or false',
      );
    }
    expect(resolveVerifiedTokenCache(undefined, memory)).toEqual(resolveVerifiedTokenCache({}, memory));
  });
});

describe('the session store decides by `locality`, not by guessing from getSync', () => {
  /** A token revoked behind this store's back (as another replica would): how long is it still accepted? */
  async function acceptedAfterRemoteRevoke(
    backend: SessionBackend,
    inner: MemorySessionBackend,
    clock: FakeClock,
  ) {
    const store = new OAuth21SessionStore({ backend, clock });
    await store.storeSession('ada@example.com');
    const { token } = await store.issueBearerToken('ada@example.com');
    await store.verifyBearerToken(token);
    await inner.delete('token', sha256(token));
    const accepted: number[] = [];
    for (const after of [4_999, 5_000, 59_999, 60_000]) {
      const at = new FakeClock();
      clock.set(at.now() + after);
      accepted.push(
        await store.verifyBearerToken(token).then(
          () => after,
          () => -after,
        ),
      );
    }
    return accepted;
  }

  it('an undeclared backend is shared: another replica’s revoke holds within 5 s', async () => {
    const clock = new FakeClock();
    const inner = new MemorySessionBackend({ clock });
    expect(await acceptedAfterRemoteRevoke(undeclared(inner), inner, clock)).toEqual([
      4_999, -5_000, -59_999, -60_000,
    ]);
  });

  it('a backend that declares itself shared is shared even when it has getSync', async () => {
    const clock = new FakeClock();
    const inner = new MemorySessionBackend({ clock });
    const declaredShared = new Proxy(inner, {
      get(target, property) {
        if (property === 'locality') return 'shared';
        const value = Reflect.get(target, property);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    expect(await acceptedAfterRemoteRevoke(declaredShared, inner, clock)).toEqual([
      4_999, -5_000, -59_999, -60_000,
    ]);
  });

  it('the memory backend is in process: a verification is remembered 60 s (no other replica can revoke)', async () => {
    const clock = new FakeClock();
    const inner = new MemorySessionBackend({ clock });
    expect(await acceptedAfterRemoteRevoke(inner, inner, clock)).toEqual([4_999, 5_000, 59_999, -60_000]);
  });
});
