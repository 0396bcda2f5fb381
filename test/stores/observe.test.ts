import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ConflictError,
  EncryptedCredentialStore,
  Keyring,
  MemoryCredentialStore,
  observeStore,
  type StoredCredentials,
  type StoreOperationEvent,
} from '../../src/index.js';
import { type RecordedLine, recordingLogger } from '../support/recording-logger.js';

const record = (userId: string): StoredCredentials => ({
  userId,
  accessToken: 'ya29.secret-access',
  refreshToken: '1//secret-refresh',
  scopes: ['openid', 'email'],
  tokenType: 'Bearer',
  expiresAt: 2_000_000_000_000,
});

describe('observeStore', () => {
  it('reports every operation of a store that has no monitoring of its own (the encrypted store)', async () => {
    const events: StoreOperationEvent[] = [];
    const inner = new MemoryCredentialStore();
    const keyring = new Keyring([{ id: 'k1', key: randomBytes(32) }]);
    const store = observeStore(new EncryptedCredentialStore(inner, { keyring }), {
      name: 'encrypted',
      onOperation: (event) => events.push(event),
    });

    expect(await store.get('Ada@Example.com')).toBeUndefined();
    const version = await store.put('ada@example.com', record('ada@example.com'));
    expect((await store.get('ada@example.com'))?.credentials.refreshToken).toBe('1//secret-refresh');
    await expect(
      store.put('ada@example.com', record('ada@example.com'), { ifVersion: 'stale' }),
    ).rejects.toBeInstanceOf(ConflictError);
    const listed: string[] = [];
    for await (const id of store.list()) listed.push(id);
    expect(await store.delete('bob@example.com')).toBe(false);
    expect(await store.delete('ada@example.com', { ifVersion: version })).toBe(true);
    await expect(store.get('not an email')).rejects.toMatchObject({ code: 'INVALID_INPUT' });

    expect(listed).toEqual(['ada@example.com']);
    expect(
      events.map(({ store: name, operation, userId, outcome, errorCode, count }) => ({
        name,
        operation,
        userId,
        outcome,
        errorCode,
        count,
      })),
    ).toEqual([
      {
        name: 'encrypted',
        operation: 'get',
        userId: 'ada@example.com',
        outcome: 'miss',
        errorCode: undefined,
        count: undefined,
      },
      {
        name: 'encrypted',
        operation: 'put',
        userId: 'ada@example.com',
        outcome: 'ok',
        errorCode: undefined,
        count: undefined,
      },
      {
        name: 'encrypted',
        operation: 'get',
        userId: 'ada@example.com',
        outcome: 'ok',
        errorCode: undefined,
        count: undefined,
      },
      {
        name: 'encrypted',
        operation: 'put',
        userId: 'ada@example.com',
        outcome: 'conflict',
        errorCode: 'CONFLICT',
        count: undefined,
      },
      {
        name: 'encrypted',
        operation: 'list',
        userId: undefined,
        outcome: 'ok',
        errorCode: undefined,
        count: 1,
      },
      {
        name: 'encrypted',
        operation: 'delete',
        userId: 'bob@example.com',
        outcome: 'miss',
        errorCode: undefined,
        count: undefined,
      },
      {
        name: 'encrypted',
        operation: 'delete',
        userId: 'ada@example.com',
        outcome: 'ok',
        errorCode: undefined,
        count: undefined,
      },
      {
        name: 'encrypted',
        operation: 'get',
        userId: undefined,
        outcome: 'error',
        errorCode: 'INVALID_INPUT',
        count: undefined,
      },
    ]);
    for (const event of events) expect(event.durationMs).toBeGreaterThanOrEqual(0);
    expect(JSON.stringify(events)).not.toMatch(/secret/);
  });

  it('passes results and errors through unchanged, and survives a listener that throws (logged once per call)', async () => {
    const lines: RecordedLine[] = [];
    const inner = new MemoryCredentialStore();
    const store = observeStore(inner, {
      onOperation: () => {
        throw new Error('listener bug');
      },
      logger: recordingLogger(lines),
    });
    await store.put('ada@example.com', record('ada@example.com'));
    expect((await store.get('ada@example.com'))?.credentials.accessToken).toBe('ya29.secret-access');
    expect(lines.filter((line) => line.message === 'store operation listener threw; ignored')).toHaveLength(
      2,
    );
    expect(lines[0]?.fields).toMatchObject({ store: 'custom', operation: 'put' });
  });

  it('keeps close when the store has one, and has none when it has none', async () => {
    let closed = 0;
    const inner = new MemoryCredentialStore();
    const withClose = Object.assign(Object.create(inner), { close: async () => void closed++ });
    await observeStore(withClose, { onOperation: () => {} }).close?.();
    expect(closed).toBe(1);
    expect(
      observeStore(
        {
          get: inner.get.bind(inner),
          put: inner.put.bind(inner),
          delete: inner.delete.bind(inner),
          list: inner.list.bind(inner),
        },
        { onOperation: () => {} },
      ).close,
    ).toBeUndefined();
  });
});

describe('what each event carries', () => {
  it('exactly its fields: no userId, errorCode or count keys when there are none', async () => {
    const events: StoreOperationEvent[] = [];
    const store = observeStore(new MemoryCredentialStore(), { onOperation: (event) => events.push(event) });
    await store.get('ada@example.com');
    for await (const _ of store.list());
    expect(Object.keys(events[0]!).sort()).toEqual(['durationMs', 'operation', 'outcome', 'store', 'userId']);
    expect(Object.keys(events[1]!).sort()).toEqual(['count', 'durationMs', 'operation', 'outcome', 'store']);
  });

  it('a duration measured from the start of the operation (within the time the call took)', async () => {
    const events: StoreOperationEvent[] = [];
    const store = observeStore(new MemoryCredentialStore(), { onOperation: (event) => events.push(event) });
    const before = performance.now();
    await store.get('ada@example.com');
    const elapsed = performance.now() - before;
    expect(events[0]!.durationMs).toBeGreaterThanOrEqual(0);
    expect(events[0]!.durationMs).toBeLessThanOrEqual(elapsed);
  });

  it('a listing that fails is reported once, as an error with what it had yielded', async () => {
    const events: StoreOperationEvent[] = [];
    const inner = new MemoryCredentialStore();
    await inner.put('ada@example.com', record('ada@example.com'));
    const failing = {
      get: inner.get.bind(inner),
      put: inner.put.bind(inner),
      delete: inner.delete.bind(inner),
      async *list() {
        yield 'ada@example.com';
        throw new Error('listing broke');
      },
    };
    const store = observeStore(failing, { name: 'flaky', onOperation: (event) => events.push(event) });
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const userId of store.list()) seen.push(userId);
      })(),
    ).rejects.toThrow('listing broke');
    expect(seen).toEqual(['ada@example.com']);
    expect(events).toMatchObject([{ store: 'flaky', operation: 'list', outcome: 'error', count: 1 }]);
    expect(events[0]).not.toHaveProperty('errorCode');
  });

  it('a store built without a listener lists without logging anything', async () => {
    const lines: RecordedLine[] = [];
    const inner = new MemoryCredentialStore({ logger: recordingLogger(lines) });
    await inner.put('ada@example.com', record('ada@example.com'));
    const listed: string[] = [];
    for await (const userId of inner.list()) listed.push(userId);
    expect(listed).toEqual(['ada@example.com']);
    expect(lines).toEqual([]);
  });
});
