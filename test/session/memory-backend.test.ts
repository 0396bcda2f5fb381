import { describe, expect, it } from 'vitest';
import { MemorySessionBackend, OAuth21SessionStore } from '../../src/session/index.js';
import { FakeClock } from '../support/clock.js';

describe('MemorySessionBackend', () => {
  it('bounds each namespace by its maximum, dropping the least recently used', async () => {
    const backend = new MemorySessionBackend({ maxEntries: 100, maxEntriesByNamespace: { small: 10 } });
    for (let i = 0; i < 1_000; i++) {
      await backend.set('big', `k${i}`, { i }, { ttlMs: 60_000 });
      await backend.set('small', `k${i}`, { i }, { ttlMs: 60_000 });
    }
    expect(await backend.count('big')).toBe(100);
    expect(await backend.count('small')).toBe(10);
    expect(await backend.get('big', 'k999')).toEqual({ i: 999 });
    expect(await backend.get('big', 'k0')).toBeUndefined();
  });

  it('counts a read as a use: the entry read last outlives one written after it but never read', async () => {
    const backend = new MemorySessionBackend({ maxEntriesByNamespace: { small: 2 } });
    await backend.set('small', 'read', 1, { ttlMs: 60_000 });
    await backend.set('small', 'unread', 2, { ttlMs: 60_000 });
    expect(await backend.get('small', 'read')).toBe(1);
    await backend.set('small', 'third', 3, { ttlMs: 60_000 });
    expect(await backend.get('small', 'read')).toBe(1);
    expect(await backend.get('small', 'unread')).toBeUndefined();
  });

  it('warns once per namespace when the limit drops a live entry, never for expired ones', async () => {
    const clock = new FakeClock();
    const warnings: Array<{ fields: Record<string, unknown>; message: string | undefined }> = [];
    const silent = () => {};
    const logger = {
      debug: silent,
      info: silent,
      warn: (fields: Record<string, unknown>, message?: string) => warnings.push({ fields, message }),
      error: silent,
    };
    const backend = new MemorySessionBackend({ clock, logger, maxEntriesByNamespace: { dead: 2, live: 2 } });
    await backend.set('dead', 'a', 1, { ttlMs: 1_000 });
    await backend.set('dead', 'b', 1, { ttlMs: 1_000 });
    clock.advance(1_000);
    await backend.set('dead', 'c', 1, { ttlMs: 1_000 });
    expect(warnings).toEqual([]);
    for (const key of ['a', 'b', 'c', 'd', 'e']) await backend.set('live', key, 1, { ttlMs: 60_000 });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ fields: { namespace: 'live', maxEntries: 2 } });
    expect(warnings[0]?.message).toMatch(/signed out/);
  });

  it('never warns when a live entry is replaced, taken or deleted (only the limit signs anyone out)', async () => {
    const warnings: unknown[] = [];
    const silent = () => {};
    const logger = {
      debug: silent,
      info: silent,
      warn: (fields: unknown) => warnings.push(fields),
      error: silent,
    };
    const backend = new MemorySessionBackend({ logger, maxEntriesByNamespace: { live: 2 } });
    await backend.set('live', 'a', 1, { ttlMs: 60_000 });
    await backend.set('live', 'a', 2, { ttlMs: 60_000 });
    await backend.set('live', 'b', 1, { ttlMs: 60_000 });
    expect(await backend.take('live', 'b')).toBe(1);
    expect(await backend.delete('live', 'a')).toBe(true);
    expect(warnings).toEqual([]);
  });

  it('a session store over the default backend warns when maxSessions signs users out', async () => {
    const lines: string[] = [];
    const silent = () => {};
    const store = new OAuth21SessionStore({
      maxSessions: 2,
      logger: {
        debug: silent,
        info: silent,
        warn: (_f, message) => lines.push(String(message)),
        error: silent,
      },
    });
    for (const user of ['a', 'b', 'c']) await store.storeSession(`${user}@example.com`);
    expect(await store.getSession('a@example.com')).toBeUndefined();
    expect(lines.filter((line) => /session backend is full/.test(line))).toHaveLength(1);
  });

  it('expires entries and sets on the injected clock', async () => {
    const clock = new FakeClock();
    const backend = new MemorySessionBackend({ clock });
    await backend.set('ns', 'k', { v: 1 }, { ttlMs: 1_000 });
    await backend.addMember('idx', 'user', 'm1', 1_000);
    clock.advance(999);
    expect(await backend.get('ns', 'k')).toEqual({ v: 1 });
    clock.advance(2);
    expect(await backend.get('ns', 'k')).toBeUndefined();
    expect(await backend.takeMembers('idx', 'user')).toEqual([]);
  });

  it('bounds each set and extends (never shortens) its lifetime', async () => {
    const clock = new FakeClock();
    const backend = new MemorySessionBackend({ clock, maxMembersPerSet: 3 });
    await backend.addMember('idx', 'u', 'a', 10_000);
    for (const member of ['b', 'c', 'd']) await backend.addMember('idx', 'u', member, 1_000);
    clock.advance(5_000);
    expect(await backend.takeMembers('idx', 'u')).toEqual(['b', 'c', 'd']);
  });

  it('hands out frozen copies, so callers cannot change stored state', async () => {
    const backend = new MemorySessionBackend();
    const value = { list: [1, 2] };
    await backend.set('ns', 'k', value, { ttlMs: 1_000 });
    value.list.push(3);
    const read = await backend.get<{ list: number[] }>('ns', 'k');
    expect(read).toEqual({ list: [1, 2] });
    expect(Object.isFrozen(read?.list)).toBe(true);
  });

  it('keeps a value its writer froze as given (no copy), and copies one that is not frozen', async () => {
    const backend = new MemorySessionBackend();
    const frozen = Object.freeze({ userId: 'a@example.com', scopes: Object.freeze(['openid']) });
    await backend.set('ns', 'frozen', frozen, { ttlMs: 1_000 });
    expect(await backend.get('ns', 'frozen')).toBe(frozen);
    const open = { scopes: ['openid'] };
    await backend.set('ns', 'open', open, { ttlMs: 1_000 });
    expect(await backend.get('ns', 'open')).not.toBe(open);
  });

  it('keeps members in insertion order, moves a re-added one to the end, and removes exactly one', async () => {
    const backend = new MemorySessionBackend();
    for (const member of ['a', 'b', 'c', 'a']) await backend.addMember('idx', 'u', member, 1_000);
    await backend.removeMember('idx', 'u', 'b');
    await backend.removeMember('idx', 'u', 'not-there');
    await backend.removeMember('idx', 'nobody', 'a');
    expect(await backend.takeMembers('idx', 'u')).toEqual(['c', 'a']);
    expect(await backend.takeMembers('idx', 'u')).toEqual([]);
  });

  it('keeps the session store within its configured bounds when flooded', async () => {
    const store = new OAuth21SessionStore({ maxSessions: 50, maxBearerTokens: 50, maxStates: 20 });
    for (let i = 0; i < 500; i++) {
      await store.storeSession(`user${i}@example.com`);
      await store.issueBearerToken(`user${i}@example.com`);
      await store.storeOAuthState(`state-${i}-${'x'.repeat(20)}`, { codeVerifier: 'v'.repeat(43) });
    }
    const stats = await store.stats();
    expect(stats.sessions).toBe(50);
    expect(stats.bearerTokens).toBe(50);
    expect(stats.oauthStates).toBe(20);
  });
});
