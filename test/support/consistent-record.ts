import type { StoredCredentials } from '../../src/index.js';

/**
 * A record whose every field is derived from `n`, so a reader can tell a whole record from a mix of
 * two writes. Large enough (about 20 KB) that a write spans many pages.
 */
export function consistentRecord(userId: string, n: number): StoredCredentials {
  return {
    userId,
    accessToken: `access-${n}-${'a'.repeat(8_000)}`,
    refreshToken: `refresh-${n}-${'r'.repeat(8_000)}`,
    expiresAt: 1_700_000_000_000 + n * 1000,
    scopes: Array.from({ length: 50 }, (_, i) => `scope-${n}-${i}`),
    tokenType: 'Bearer',
    clientId: `client-${n}`,
  };
}

/** Returns n if `record` is exactly consistentRecord(userId, n), otherwise undefined. */
export function generationOf(record: StoredCredentials): number | undefined {
  const n = Number(/^access-(\d+)-/.exec(record.accessToken)?.[1]);
  if (!Number.isInteger(n)) return undefined;
  return JSON.stringify(record) === JSON.stringify(consistentRecord(record.userId, n)) ? n : undefined;
}
