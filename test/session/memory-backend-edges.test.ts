/**
 * The in-memory session backend at its exact edges: an entry and a claim end at their expiry
 * instant, counting purges what expired (and only that), per-namespace limits apply to sets too, a
 * namespace may be limited to one entry, and resizing keeps the most recent entries.
 */
import { describe, expect, it } from 'vitest';
import { MemorySessionBackend } from '../../src/session/index.js';
import { FakeClock } from '../support/clock.js';

describe('MemorySessionBackend edges', () => {
  it('an entry is gone at exactly its expiry, and count purges it (and only it)', async () => {
    const clock = new FakeClock();
    const backend = new MemorySessionBackend({ clock });
    await backend.set('ns', 'short', 1, { ttlMs: 1_000 });
    await backend.set('ns', 'long', 2, { ttlMs: 2_000 });
    expect(await backend.count('ns')).toBe(2);
    clock.advance(999);
    expect(await backend.count('ns')).toBe(2);
    clock.advance(1);
    expect(await backend.count('ns')).toBe(1);
    expect(await backend.get('ns', 'long')).toBe(2);
    clock.advance(1_000);
    expect(await backend.count('ns')).toBe(0);
  });

  it('a claim holds until exactly its expiry; then the next claimer is first again', async () => {
    const clock = new FakeClock();
    const backend = new MemorySessionBackend({ clock });
    await backend.set('tokens', 't', { v: 1 }, { ttlMs: 60_000 });
    expect(await backend.claim('tokens', 't', 'first', 1_000)).toMatchObject({
      first: true,
      firstMarker: 'first',
    });
    clock.advance(999);
    expect(await backend.claim('tokens', 't', 'second', 1_000)).toMatchObject({
      first: false,
      firstMarker: 'first',
    });
    clock.advance(1);
    expect(await backend.claim('tokens', 't', 'third', 1_000)).toMatchObject({
      first: true,
      firstMarker: 'third',
    });
    expect(await backend.claim('tokens', 'missing', 'x', 1_000)).toBeUndefined();
  });

  it('applies a per-namespace limit to the sets of that namespace too', async () => {
    const backend = new MemorySessionBackend({ maxEntries: 100, maxEntriesByNamespace: { idx: 2 } });
    for (const user of ['a', 'b', 'c']) await backend.addMember('idx', user, 'm', 60_000);
    expect(await backend.takeMembers('idx', 'a')).toEqual([]);
    expect(await backend.takeMembers('idx', 'c')).toEqual(['m']);
  });

  it('limits a namespace to one entry, keeping the most recent when it shrinks', async () => {
    const backend = new MemorySessionBackend();
    for (const key of ['a', 'b', 'c']) await backend.set('ns', key, key, { ttlMs: 60_000 });
    backend.limitNamespace('ns', 1);
    expect(await backend.count('ns')).toBe(1);
    expect(await backend.get('ns', 'c')).toBe('c');
    expect(() => backend.limitNamespace('ns', 0)).toThrow(RangeError);
    expect(() => backend.limitNamespace('ns', 1.5)).toThrow('maxEntries for ns must be a positive integer');
  });

  it('take answers the value once, and nothing for a missing or expired key', async () => {
    const clock = new FakeClock();
    const backend = new MemorySessionBackend({ clock });
    await backend.set('ns', 'k', 'v', { ttlMs: 1_000 });
    expect(await backend.take('ns', 'k')).toBe('v');
    expect(await backend.take('ns', 'k')).toBeUndefined();
    await backend.set('ns', 'k', 'v', { ttlMs: 1_000 });
    clock.advance(1_000);
    expect(await backend.take('ns', 'k')).toBeUndefined();
    expect(await backend.delete('ns', 'k')).toBe(false);
  });

  it('keeps exactly maxMembersPerSet members, dropping the oldest beyond it', async () => {
    const backend = new MemorySessionBackend({ maxMembersPerSet: 2 });
    await backend.addMember('idx', 'u', 'a', 60_000);
    await backend.addMember('idx', 'u', 'b', 60_000);
    expect(await backend.takeMembers('idx', 'u')).toEqual(['a', 'b']);
    for (const member of ['a', 'b', 'c']) await backend.addMember('idx', 'u', member, 60_000);
    expect(await backend.takeMembers('idx', 'u')).toEqual(['b', 'c']);
  });

  it('an entry lives at least 1 ms whatever ttl it is given', async () => {
    const clock = new FakeClock();
    const backend = new MemorySessionBackend({ clock });
    await backend.set('ns', 'k', 'v', { ttlMs: 0 });
    expect(await backend.get('ns', 'k')).toBe('v');
    clock.advance(1);
    expect(await backend.get('ns', 'k')).toBeUndefined();
  });
});
