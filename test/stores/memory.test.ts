import { describe, expect, it } from 'vitest';
import { MemoryCredentialStore, type StoreOperationEvent } from '../../src/index.js';
import { describeCredentialStoreContract, sampleCredentials } from '../../src/testing/index.js';

describeCredentialStoreContract('MemoryCredentialStore', { createStore: () => new MemoryCredentialStore() });

describe('MemoryCredentialStore', () => {
  it('reports each operation with its outcome and no record content', async () => {
    const events: StoreOperationEvent[] = [];
    const store = new MemoryCredentialStore({ onOperation: (event) => events.push(event) });
    const record = sampleCredentials('ops@example.com');
    const version = await store.put(record.userId, record);
    await store.get(record.userId);
    await store.get('missing@example.com');
    await store.put(record.userId, record, { ifVersion: 'stale' }).catch(() => {});
    await store.delete(record.userId, { ifVersion: version }).catch(() => {});
    for await (const _ of store.list()) {
      // drain
    }
    expect(events.map((event) => [event.operation, event.outcome])).toEqual([
      ['put', 'ok'],
      ['get', 'ok'],
      ['get', 'miss'],
      ['put', 'conflict'],
      ['delete', 'ok'],
      ['list', 'ok'],
    ]);
    expect(events[3]?.errorCode).toBe('CONFLICT');
    expect(events.every((event) => event.store === 'memory' && event.durationMs >= 0)).toBe(true);
    expect(JSON.stringify(events)).not.toContain(record.accessToken);
  });

  it('keeps working when the monitoring listener throws', async () => {
    const store = new MemoryCredentialStore({
      onOperation: () => {
        throw new Error('listener bug');
      },
    });
    const record = sampleCredentials('robust@example.com');
    await store.put(record.userId, record);
    expect((await store.get(record.userId))?.credentials).toEqual(record);
  });
});
