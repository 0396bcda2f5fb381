import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../src/http/rate-limit.js';
import { ConfigurationError } from '../../src/index.js';
import { FakeClock } from '../support/clock.js';

describe('RateLimiter', () => {
  it('allows `limit` per window per key, then says when to retry; a new window starts afresh', () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ limit: 2, windowMs: 10_000 }, { clock });
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('a').allowed).toBe(true);
    clock.advance(4_000);
    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterSeconds: 6 });
    expect(limiter.take('b').allowed).toBe(true);
    clock.advance(6_000);
    expect(limiter.take('a').allowed).toBe(true);
  });

  it('tracks a bounded number of keys', () => {
    const limiter = new RateLimiter({ limit: 1, windowMs: 60_000 }, { maxKeys: 10 });
    for (let i = 0; i < 100; i++) limiter.take(`k${i}`);
    expect(limiter.take('k0').allowed).toBe(true); // forgotten, so allowed again
    expect(limiter.take('k99').allowed).toBe(false);
  });

  it('refuses unusable limits, naming the option', () => {
    expect(() => new RateLimiter({ limit: 0, windowMs: 1 }, { option: 'rateLimits.register' })).toThrow(
      new ConfigurationError('rateLimits.register.limit must be a positive integer'),
    );
    expect(() => new RateLimiter({ limit: 1, windowMs: Number.NaN })).toThrow('windowMs');
  });
});
