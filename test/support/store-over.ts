import type { CredentialStore, MemoryCredentialStore } from '../../src/index.js';

/** `inner`, with some of its methods replaced (a fault or a race a test needs). */
export function storeOver(inner: MemoryCredentialStore, replaced: Partial<CredentialStore>): CredentialStore {
  return {
    get: (userId) => inner.get(userId),
    put: (userId, record, options) => inner.put(userId, record, options),
    delete: (userId, options) => inner.delete(userId, options),
    list: () => inner.list(),
    ...replaced,
  };
}
