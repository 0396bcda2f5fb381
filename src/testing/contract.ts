/**
 * The shared contract suite every {@link CredentialStore} passes: built-in stores in this package's
 * own tests, and your adapter in yours.
 *
 * ```ts
 * // my-store.test.ts
 * import { describeCredentialStoreContract } from 'mcp-oauth-credentials/testing';
 * describeCredentialStoreContract('MyStore', { createStore: () => new MyStore(freshDatabase()) });
 * ```
 *
 * Requires vitest (ESM); import this subpath from test files only.
 *
 * @module
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { StoredCredentials } from '../credentials.js';
import {
  ConflictError,
  CorruptCredentialsError,
  InvalidInputError,
  isCredentialError,
  StorageUnavailableError,
} from '../errors.js';
import type { CredentialStore } from '../stores/types.js';

/** Options of {@link describeCredentialStoreContract}. */
export interface CredentialStoreContractOptions {
  /** Creates an empty store for one test. Called once per test. */
  createStore: () => CredentialStore | Promise<CredentialStore>;
  /** Releases what `createStore` created (connections, directories). Called after each test. */
  disposeStore?: (store: CredentialStore) => void | Promise<void>;
  /** How many writers race in the concurrency tests. Default 20. */
  concurrency?: number;
  /**
   * Optional: damages the stored record of `userId` in `store`'s backend (invalid JSON, a field of
   * the wrong type), so the suite can check that `get` rejects with `CorruptCredentialsError` naming
   * the user while other users stay readable. Without it, that case is skipped (and says why).
   */
  corruptRecord?: (store: CredentialStore, userId: string) => Promise<void>;
  /**
   * Optional: a store whose backend is down (a closed port, a stopped server), so the suite can check
   * that every method rejects with `StorageUnavailableError` and none pretends nothing is stored.
   */
  createUnavailableStore?: () => CredentialStore | Promise<CredentialStore>;
  /** Registers the adapter's own tests in the same `describe`, with a store opener. */
  additionalTests?: (context: { open: () => Promise<CredentialStore> }) => void;
}

/**
 * Calls a store method and returns its promise; a method that throws synchronously fails the test
 * with a message saying so (callers `await` or `.catch` a store's result: a synchronous throw escapes
 * them).
 */
function settle<T>(method: string, call: () => Promise<T>): Promise<T> {
  let result: Promise<T>;
  try {
    result = call();
  } catch (error) {
    throw new Error(
      `store.${method} threw synchronously (${error instanceof Error ? error.name : typeof error}) instead of returning a rejected promise`,
    );
  }
  if (!(result instanceof Promise) && typeof (result as { then?: unknown })?.then !== 'function') {
    throw new Error(`store.${method} did not return a promise`);
  }
  return result;
}

let sequence = 0;

/**
 * A valid record for `userId` with every field set, for tests. `overrides` replace fields.
 */
export function sampleCredentials(
  userId: string,
  overrides: Partial<StoredCredentials> = {},
): StoredCredentials {
  sequence += 1;
  return {
    userId,
    accessToken: `ya29.test-access-${sequence}`,
    refreshToken: `1//test-refresh-${sequence}`,
    expiresAt: 1_800_000_000_000 + sequence * 1000,
    scopes: ['openid', 'email', 'https://www.googleapis.com/auth/drive.readonly'],
    tokenType: 'Bearer',
    idToken: `eyJ.test-id-token-${sequence}`,
    clientId: 'client-123.apps.googleusercontent.com',
    tokenUri: 'https://oauth2.googleapis.com/token',
    extra: { client_secret: 'test-client-secret', universe_domain: 'googleapis.com' },
    ...overrides,
  };
}

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const item of iterable) out.push(item);
  return out.sort();
}

/**
 * Registers the credential store contract with vitest under `describe(name)`: missing users, round
 * trips, versions, compare-and-swap (`ifVersion` string and `null`), idempotent delete, conditional
 * delete, list, concurrent writers (exactly one of N same-version writers wins) and hostile user ids.
 */
export function describeCredentialStoreContract(name: string, options: CredentialStoreContractOptions): void {
  const concurrency = options.concurrency ?? 20;

  describe(`${name} (credential store contract)`, () => {
    const created: CredentialStore[] = [];
    const open = async (): Promise<CredentialStore> => {
      const store = await options.createStore();
      created.push(store);
      return store;
    };
    afterEach(async () => {
      for (const store of created.splice(0)) await options.disposeStore?.(store);
    });

    it('resolves undefined for a user with no record', async () => {
      const store = await open();
      expect(await store.get('nobody@example.com')).toBeUndefined();
    });

    it('round-trips a record with every field, and the version put returned', async () => {
      const store = await open();
      const record = sampleCredentials('alice@example.com');
      const version = await store.put('alice@example.com', record);
      expect(typeof version).toBe('string');
      const read = await store.get('alice@example.com');
      expect(read).toEqual({ credentials: record, version });
    });

    it('round-trips a minimal record (no refresh token, no expiry, no optional fields)', async () => {
      const store = await open();
      const record: StoredCredentials = {
        userId: 'min@example.com',
        accessToken: 'ya29.x',
        scopes: [],
        tokenType: 'Bearer',
      };
      await store.put(record.userId, record);
      expect((await store.get(record.userId))?.credentials).toEqual(record);
    });

    it('normalises user ids to lower case on every method', async () => {
      const store = await open();
      const record = sampleCredentials('mixed.case@example.com');
      await store.put('Mixed.Case@Example.COM', record);
      expect((await store.get('MIXED.CASE@example.com'))?.credentials).toEqual(record);
      expect(await collect(store.list())).toEqual(['mixed.case@example.com']);
      expect(await store.delete('mixed.CASE@example.com')).toBe(true);
    });

    it('hands out copies: mutating a record after put or get changes nothing stored', async () => {
      const store = await open();
      const record = sampleCredentials('copy@example.com');
      const expected = structuredClone(record);
      await store.put(record.userId, record);
      record.scopes.push('mutated');
      const read = await store.get(record.userId);
      read!.credentials.scopes.push('mutated-again');
      expect((await store.get(record.userId))?.credentials).toEqual(expected);
    });

    it('changes the version on every put, even with identical content', async () => {
      const store = await open();
      const record = sampleCredentials('bob@example.com');
      const versions = new Set<string>();
      for (let i = 0; i < 5; i++) versions.add(await store.put(record.userId, record));
      expect(versions.size).toBe(5);
    });

    it('never reuses a version after delete and re-create', async () => {
      const store = await open();
      const record = sampleCredentials('aba@example.com');
      const first = await store.put(record.userId, record);
      await store.delete(record.userId);
      const second = await store.put(record.userId, record);
      expect(second).not.toBe(first);
      await expect(store.put(record.userId, record, { ifVersion: first })).rejects.toBeInstanceOf(
        ConflictError,
      );
    });

    it('writes with a matching ifVersion and refuses a stale one without writing', async () => {
      const store = await open();
      const first = sampleCredentials('carol@example.com');
      const v1 = await store.put(first.userId, first);
      const second = sampleCredentials('carol@example.com');
      const v2 = await store.put(first.userId, second, { ifVersion: v1 });
      expect(v2).not.toBe(v1);
      const third = sampleCredentials('carol@example.com');
      const rejection = store.put(first.userId, third, { ifVersion: v1 });
      await expect(rejection).rejects.toBeInstanceOf(ConflictError);
      await expect(rejection).rejects.toMatchObject({ code: 'CONFLICT' });
      expect(await store.get(first.userId)).toEqual({ credentials: second, version: v2 });
    });

    it('treats ifVersion null as "only if absent"', async () => {
      const store = await open();
      const record = sampleCredentials('dave@example.com');
      const version = await store.put(record.userId, record, { ifVersion: null });
      await expect(
        store.put(record.userId, sampleCredentials('dave@example.com'), { ifVersion: null }),
      ).rejects.toBeInstanceOf(ConflictError);
      expect(await store.get(record.userId)).toEqual({ credentials: record, version });
    });

    it('refuses ifVersion on a missing record', async () => {
      const store = await open();
      const record = sampleCredentials('erin@example.com');
      const version = await store.put(record.userId, record);
      await store.delete(record.userId);
      await expect(store.put(record.userId, record, { ifVersion: version })).rejects.toBeInstanceOf(
        ConflictError,
      );
      expect(await store.get(record.userId)).toBeUndefined();
    });

    it('deletes idempotently', async () => {
      const store = await open();
      const record = sampleCredentials('frank@example.com');
      await store.put(record.userId, record);
      expect(await store.delete(record.userId)).toBe(true);
      expect(await store.delete(record.userId)).toBe(false);
      expect(await store.get(record.userId)).toBeUndefined();
      expect(await store.delete('never-stored@example.com')).toBe(false);
    });

    it('deletes with ifVersion only while the version still matches', async () => {
      const store = await open();
      const record = sampleCredentials('grace@example.com');
      const stale = await store.put(record.userId, record);
      const fresh = sampleCredentials('grace@example.com');
      const current = await store.put(record.userId, fresh);
      await expect(store.delete(record.userId, { ifVersion: stale })).rejects.toBeInstanceOf(ConflictError);
      expect((await store.get(record.userId))?.credentials).toEqual(fresh);
      expect(await store.delete(record.userId, { ifVersion: current })).toBe(true);
      expect(await store.get(record.userId)).toBeUndefined();
      expect(await store.delete(record.userId, { ifVersion: current })).toBe(false);
    });

    it('lists exactly the users left after deletes', async () => {
      const store = await open();
      expect(await collect(store.list())).toEqual([]);
      for (const user of ['a@example.com', 'b@example.com', 'c+tag@example.com', 'd@example.com']) {
        await store.put(user, sampleCredentials(user));
      }
      await store.delete('b@example.com');
      await store.delete('d@example.com');
      expect(await collect(store.list())).toEqual(['a@example.com', 'c+tag@example.com']);
    });

    it(`lets exactly one of ${concurrency} concurrent writers with the same ifVersion win`, async () => {
      const store = await open();
      const userId = 'race@example.com';
      const base = await store.put(userId, sampleCredentials(userId));
      const candidates = Array.from({ length: concurrency }, () => sampleCredentials(userId));
      const results = await Promise.allSettled(
        candidates.map((record) => store.put(userId, record, { ifVersion: base })),
      );
      const winners = results.flatMap((result, index) => (result.status === 'fulfilled' ? [index] : []));
      expect(winners).toHaveLength(1);
      for (const result of results) {
        if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(ConflictError);
      }
      const stored = await store.get(userId);
      expect(stored?.credentials).toEqual(candidates[winners[0]!]);
      expect(stored?.version).toBe((results[winners[0]!] as PromiseFulfilledResult<string>).value);
    });

    it(`lets exactly one of ${concurrency} concurrent "only if absent" writers win`, async () => {
      const store = await open();
      const userId = 'first@example.com';
      const results = await Promise.allSettled(
        Array.from({ length: concurrency }, () =>
          store.put(userId, sampleCredentials(userId), { ifVersion: null }),
        ),
      );
      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
      for (const result of results) {
        if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(ConflictError);
      }
    });

    it('refuses hostile or invalid user ids with InvalidInputError and stores nothing', async () => {
      const store = await open();
      const hostile = [
        '',
        '../../etc/passwd',
        '..@example.com',
        'a/b@example.com',
        'a\\b@example.com',
        'nul\u0000@example.com',
        '/absolute@example.com',
        'no-at-sign',
        'spaces in@example.com',
        'a@b',
        'user@example.com/../../x',
        '%2e%2e@example.com',
        '\u212Aelvin@example.com',
        `${'x'.repeat(250)}@example.com`,
      ];
      for (const userId of hostile) {
        await expect(
          settle('get', () => store.get(userId)),
          userId,
        ).rejects.toBeInstanceOf(InvalidInputError);
        await expect(
          settle('put', () => store.put(userId, sampleCredentials('x@example.com'))),
          userId,
        ).rejects.toBeInstanceOf(InvalidInputError);
        await expect(
          settle('delete', () => store.delete(userId)),
          userId,
        ).rejects.toBeInstanceOf(InvalidInputError);
      }
      expect(await collect(store.list())).toEqual([]);
    });

    it('refuses a record whose userId is another user, or that breaks the schema', async () => {
      const store = await open();
      await expect(
        store.put('owner@example.com', sampleCredentials('other@example.com')),
      ).rejects.toBeInstanceOf(InvalidInputError);
      const broken = { ...sampleCredentials('owner@example.com'), expiresAt: Number.NaN };
      await expect(settle('put', () => store.put('owner@example.com', broken))).rejects.toBeInstanceOf(
        InvalidInputError,
      );
      expect(await store.get('owner@example.com')).toBeUndefined();
    });

    it('delete: a missing record is false whatever ifVersion says; another version is a ConflictError', async () => {
      const store = await open();
      expect(
        await settle('delete', () => store.delete('ghost@example.com', { ifVersion: 'any-version' })),
      ).toBe(false);
      const first = await store.put('kept@example.com', sampleCredentials('kept@example.com'));
      await store.put('kept@example.com', sampleCredentials('kept@example.com'));
      await expect(
        settle('delete', () => store.delete('kept@example.com', { ifVersion: first })),
      ).rejects.toBeInstanceOf(ConflictError);
      expect(await store.get('kept@example.com')).toBeDefined();
    });

    it.skipIf(options.corruptRecord === undefined)(
      `reports a damaged record as CorruptCredentialsError naming the user; others stay readable${options.corruptRecord ? '' : ' (skipped: no corruptRecord hook)'}`,
      async () => {
        const store = await open();
        const good = sampleCredentials('good@example.com');
        await store.put(good.userId, good);
        await store.put('damaged@example.com', sampleCredentials('damaged@example.com'));
        await options.corruptRecord!(store, 'damaged@example.com');
        const error = await settle('get', () => store.get('damaged@example.com')).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(CorruptCredentialsError);
        expect((error as CorruptCredentialsError).userId).toBe('damaged@example.com');
        expect(String((error as Error).message)).not.toContain('test-refresh');
        expect((await store.get(good.userId))?.credentials).toEqual(good);
        expect(await collect(store.list())).toEqual(['damaged@example.com', 'good@example.com']);
      },
    );

    it.skipIf(options.createUnavailableStore === undefined)(
      `rejects with StorageUnavailableError when its backend is down, never "nothing stored"${options.createUnavailableStore ? '' : ' (skipped: no createUnavailableStore hook)'}`,
      async () => {
        const store = await options.createUnavailableStore!();
        created.push(store);
        const outcomes = await Promise.allSettled([
          settle('get', () => store.get('down@example.com')),
          settle('put', () => store.put('down@example.com', sampleCredentials('down@example.com'))),
          settle('delete', () => store.delete('down@example.com')),
          collect(store.list()),
        ]);
        for (const outcome of outcomes) {
          expect(outcome.status).toBe('rejected');
          const reason = (outcome as PromiseRejectedResult).reason;
          expect(isCredentialError(reason, 'STORAGE_UNAVAILABLE'), String(reason)).toBe(true);
          expect(reason).toBeInstanceOf(StorageUnavailableError);
        }
      },
    );

    options.additionalTests?.({ open });
  });
}
