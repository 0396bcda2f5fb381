import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/errors.js';
import {
  DEFAULT_BEARER_TOKEN_PREFIX,
  DEFAULT_BEARER_TOKEN_TTL_MS,
  MemorySessionBackend,
  OAuth21SessionStore,
  type OAuth21SessionStoreOptions,
} from '../../src/session/index.js';
import { FakeClock } from '../support/clock.js';

describe('OAuth21SessionStore options', () => {
  it.each<[string, OAuth21SessionStoreOptions]>([
    ['sessionTtlMs', { sessionTtlMs: 0 }],
    ['bindingTtlMs', { bindingTtlMs: Number.NaN }],
    ['bearerTokenTtlMs', { bearerTokenTtlMs: -1 }],
    ['stateTtlMs', { stateTtlMs: Number.POSITIVE_INFINITY }],
    ['maxSessions', { maxSessions: 0 }],
    ['maxBindings', { maxBindings: 1.5 }],
    ['maxBearerTokens', { maxBearerTokens: -10 }],
    ['maxStates', { maxStates: Number.NaN }],
    ['verifiedTokenCache.max', { verifiedTokenCache: { max: 0 } }],
  ])('refuses a bad %s with a ConfigurationError naming it', (name, options) => {
    const make = () => new OAuth21SessionStore(options);
    expect(make).toThrow(ConfigurationError);
    expect(make).toThrow(name);
  });

  it('applies the exported defaults: the token prefix and a 30-day token', async () => {
    const clock = new FakeClock();
    const store = new OAuth21SessionStore({ clock, backend: new MemorySessionBackend({ clock }) });
    await store.storeSession('ada@example.com');
    const issued = await store.issueBearerToken('ada@example.com');
    expect(issued.token.startsWith(DEFAULT_BEARER_TOKEN_PREFIX)).toBe(true);
    expect(issued.expiresAt).toBe(clock.now() + DEFAULT_BEARER_TOKEN_TTL_MS);
  });
});
