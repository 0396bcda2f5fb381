import { describe, expect, it } from 'vitest';
import { ServiceCache } from '../../src/refresh/service-cache.js';
import { FakeClock } from '../support/clock.js';

describe('ServiceCache', () => {
  it("clears one user's clients and no one else's", () => {
    const cache = new ServiceCache(10, 60_000, new FakeClock());
    cache.set('ada@example.com', 'drive', 'ada-drive');
    cache.set('ada@example.com', 'gmail', 'ada-gmail');
    cache.set('bob@example.com', 'drive', 'bob-drive');
    cache.clear('ada@example.com');
    expect(cache.get('ada@example.com', 'drive')).toBeUndefined();
    expect(cache.get('ada@example.com', 'gmail')).toBeUndefined();
    expect(cache.get('bob@example.com', 'drive')).toMatchObject({ value: 'bob-drive' });
    expect(cache.size).toBe(1);
    expect(cache.userCount).toBe(1);
    cache.clear('nobody@example.com');
    expect(cache.size).toBe(1);
  });

  it('keeps a client until its lifetime ends, on the injected clock', () => {
    const clock = new FakeClock();
    const cache = new ServiceCache(10, 1_000, clock);
    cache.set('ada@example.com', 'drive', 'ada-drive');
    clock.advance(999);
    expect(cache.get('ada@example.com', 'drive')).toMatchObject({ value: 'ada-drive' });
    clock.advance(2);
    expect(cache.get('ada@example.com', 'drive')).toBeUndefined();
    // The expired entry left the index too: nothing is kept for a user without clients.
    expect(cache.userCount).toBe(0);
  });

  it('evicts the least recently used past `max`, and a later clear of that user still works', () => {
    const cache = new ServiceCache(2, 60_000, new FakeClock());
    cache.set('ada@example.com', 'drive', 1);
    cache.set('bob@example.com', 'drive', 2);
    cache.set('bob@example.com', 'gmail', 3);
    expect(cache.get('ada@example.com', 'drive')).toBeUndefined();
    expect(cache.size).toBe(2);
    expect(cache.userCount).toBe(1);
    cache.set('ada@example.com', 'drive', 4);
    cache.clear('bob@example.com');
    expect(cache.size).toBe(1);
    expect(cache.get('ada@example.com', 'drive')).toMatchObject({ value: 4 });
  });

  it('replacing a client keeps it clearable', () => {
    const cache = new ServiceCache(10, 60_000, new FakeClock());
    cache.set('ada@example.com', 'drive', 1);
    cache.set('ada@example.com', 'drive', 2);
    expect(cache.get('ada@example.com', 'drive')).toMatchObject({ value: 2 });
    expect(cache.userCount).toBe(1);
    cache.clear('ada@example.com');
    expect(cache.get('ada@example.com', 'drive')).toBeUndefined();
    expect(cache.userCount).toBe(0);
  });
});
