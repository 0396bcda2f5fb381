/**
 * What the manager reports on each refresh path, exactly: the events' payloads, the log lines and
 * their fields, the errors' user, and what it keeps in memory afterwards. (The paths themselves are
 * in manager.test.ts; these tests pin what operators and callers see of them.)
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ConflictError,
  MemoryCredentialStore,
  NotFoundError,
  ReauthRequiredError,
  StorageUnavailableError,
} from '../../src/index.js';
import type { CredentialManagerOptions } from '../../src/manager/index.js';
import { type GoogleLikeProvider, startGoogleLikeProvider } from '../../src/testing/index.js';
import { managerHarness } from '../support/manager-harness.js';
import { setStoredExpiry, signIn } from '../support/oauth.js';
import { type RecordedLine, recordingLogger } from '../support/recording-logger.js';
import { rejectionOf } from '../support/rejection.js';
import { storeOver } from '../support/store-over.js';

const HOUR = 3_600_000;

let provider: GoogleLikeProvider;
beforeAll(async () => {
  provider = await startGoogleLikeProvider();
});
afterAll(() => provider.close());
beforeEach(() => {
  provider.setRotation(false);
  provider.clearFailures();
  provider.resetCounters();
});

/** A signed-in user whose stored access token has just expired, and a manager that logs to `lines`. */
async function expiredUser(
  userId: string,
  overrides: Partial<CredentialManagerOptions> = {},
  options: { sessions?: boolean } = {},
) {
  const lines: RecordedLine[] = [];
  // Signed in through another manager (another replica): this one has nothing in memory yet.
  const signer = managerHarness(provider, { ...(overrides.store ? { store: overrides.store } : {}) });
  await signIn(signer.manager, provider, userId, { prompt: 'consent' });
  await setStoredExpiry(signer.store, userId, signer.clock.now() - 1);
  const harness = managerHarness(
    provider,
    { logger: recordingLogger(lines), ...overrides, store: signer.store, clock: signer.clock },
    options,
  );
  provider.resetCounters();
  return { ...harness, lines };
}

const named = (events: Array<{ name: string; payload: unknown }>, name: string) =>
  events.filter((event) => event.name === name).map((event) => event.payload);

describe('a refresh that succeeds', () => {
  it('after a transient failure: refresh-failed (will retry), then refreshed, each with its fields', async () => {
    const user = 'retry@example.com';
    const { manager, events, lines } = await expiredUser(user);
    provider.failNext(1, { status: 503, error: 'backend_error', grantType: 'refresh_token' });
    await manager.getValidCredentials(user);
    expect(named(events, 'refresh-failed')).toEqual([
      {
        userId: user,
        durationMs: 0,
        errorCode: 'PROVIDER_ERROR',
        providerCode: 'backend_error',
        attempt: 1,
        willRetry: true,
      },
    ]);
    expect(named(events, 'refreshed')).toEqual([
      { userId: user, durationMs: 0, rotated: false, attempts: 2 },
    ]);
    expect(lines.filter((line) => line.level === 'debug')).toEqual([
      {
        level: 'debug',
        message: 'refresh attempt failed',
        fields: { userId: user, providerCode: 'backend_error', attempt: 1, willRetry: true },
      },
      {
        level: 'debug',
        message: 'refreshed access token',
        fields: { userId: user, rotated: false, attempts: 2 },
      },
    ]);
  });

  it('times the refresh on the injected clock', async () => {
    const user = 'timed@example.com';
    const { manager, events, clock } = await expiredUser(user, {
      sleep: async () => {
        clock.advance(700);
      },
    });
    provider.failNext(1, { status: 503, error: 'backend_error', grantType: 'refresh_token' });
    await manager.getValidCredentials(user);
    expect(named(events, 'refresh-failed')).toMatchObject([{ durationMs: 0 }]);
    expect(named(events, 'refreshed')).toMatchObject([{ durationMs: 700 }]);
  });

  it('an invalid_grant after another replica already saved a new record: that record at once, no grace wait', async () => {
    const user = 'overtaken@example.com';
    const memory = new MemoryCredentialStore();
    let reads = 0;
    const sleeps: number[] = [];
    const store = storeOver(memory, {
      get: async (userId) => {
        reads += 1;
        // The read after the refused refresh: the other replica's save has landed.
        if (reads === 2) {
          const entry = await memory.get(userId);
          await memory.put(
            userId,
            {
              ...entry!.credentials,
              accessToken: 'ya29.saved-by-the-other-replica',
              expiresAt: Date.now() + HOUR,
            },
            { ifVersion: entry!.version },
          );
        }
        return memory.get(userId);
      },
      put: (userId, record, options) => memory.put(userId, record, options),
      delete: (userId, options) => memory.delete(userId, options),
    });
    const { manager } = await expiredUser(user, {
      store,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });
    reads = 0;
    provider.failNext(1, { status: 400, error: 'invalid_grant', grantType: 'refresh_token' });
    expect((await manager.getValidCredentials(user)).accessToken).toBe('ya29.saved-by-the-other-replica');
    expect(sleeps).toEqual([]);
  });

  it('with rotation, reports rotated', async () => {
    const user = 'rotated@example.com';
    const { manager, events } = await expiredUser(user);
    provider.setRotation(true);
    await manager.getValidCredentials(user);
    expect(named(events, 'refreshed')).toMatchObject([{ rotated: true, attempts: 1 }]);
  });

  it("empties the user's API clients, so the next getService builds one with the new token", async () => {
    const user = 'services@example.com';
    const { manager, store, clock } = await expiredUser(user, { serviceCache: { ttlMs: 10 * HOUR } });
    await setStoredExpiry(store, user, clock.now() + HOUR);
    let built = 0;
    const factory = () => ({ id: ++built });
    const first = await manager.getService(user, 'drive', factory);
    expect(await manager.getService(user, 'drive', factory)).toBe(first);
    clock.advance(HOUR); // the token is now stale; the service cache (10 h) is not
    await manager.getValidCredentials(user);
    expect(provider.counters.refreshRequests).toBe(1);
    expect(await manager.getService(user, 'drive', factory)).not.toBe(first);
  });

  it('a store briefly unavailable on save: retried, with one info line per retry', async () => {
    const user = 'save@example.com';
    const inner = new MemoryCredentialStore();
    let failPuts = 0;
    const store = storeOver(inner, {
      put: async (userId, credentials, options) => {
        if (failPuts > 0) {
          failPuts -= 1;
          throw new StorageUnavailableError('disk on fire');
        }
        return inner.put(userId, credentials, options);
      },
    });
    const { manager, lines, clock } = await expiredUser(user, { store });
    failPuts = 1;
    await manager.getValidCredentials(user);
    expect(lines.filter((line) => line.level === 'info')).toEqual([
      {
        level: 'info',
        message: 'saving refreshed credentials failed; retrying',
        fields: { userId: user, attempt: 1 },
      },
    ]);
    // Every attempt failing: no retry line for the last one, and the caller sees the store's error.
    lines.length = 0;
    clock.advance(HOUR);
    failPuts = 3;
    const error = await rejectionOf(manager.getValidCredentials(user));
    expect(error).toBeInstanceOf(StorageUnavailableError);
    expect(lines.filter((line) => line.message.includes('retrying')).map((line) => line.fields)).toEqual([
      { userId: user, attempt: 1 },
      { userId: user, attempt: 2 },
    ]);
  });
});

describe('a refresh that fails', () => {
  it('a provider that keeps failing: will-retry until the last attempt', async () => {
    const user = 'down@example.com';
    const { manager, events } = await expiredUser(user);
    provider.failNext(3, { status: 503, error: 'backend_error', grantType: 'refresh_token' });
    await rejectionOf(manager.getValidCredentials(user));
    expect(named(events, 'refresh-failed')).toMatchObject([
      { attempt: 1, willRetry: true, errorCode: 'PROVIDER_ERROR' },
      { attempt: 2, willRetry: true, errorCode: 'PROVIDER_ERROR' },
      { attempt: 3, willRetry: false, errorCode: 'PROVIDER_ERROR' },
    ]);
  });

  it('invalid_grant: no retry, REAUTH_REQUIRED, reauth-required, one info line, the user in the error', async () => {
    const user = 'dead@example.com';
    const { manager, events, lines } = await expiredUser(user);
    provider.revokeGrantsOf(user);
    const error = await rejectionOf(manager.getValidCredentials(user));
    expect(error).toBeInstanceOf(ReauthRequiredError);
    expect((error as ReauthRequiredError).userId).toBe(user);
    expect((error.cause as Error).message).toBe('invalid_grant');
    expect(named(events, 'refresh-failed')).toEqual([
      {
        userId: user,
        durationMs: 0,
        errorCode: 'REAUTH_REQUIRED',
        providerCode: 'invalid_grant',
        attempt: 1,
        willRetry: false,
      },
    ]);
    expect(named(events, 'reauth-required')).toEqual([{ userId: user, reason: 'invalid_grant' }]);
    expect(lines.filter((line) => line.level === 'info')).toEqual([
      {
        level: 'info',
        message: 'the refresh token was refused; the user must sign in again',
        fields: { userId: user, reason: 'invalid_grant' },
      },
    ]);
  });

  it('invalid_grant: forgets the credentials and the API clients kept in memory', async () => {
    const user = 'forgotten@example.com';
    const { manager, store, clock } = await expiredUser(user, { serviceCache: { ttlMs: 10 * HOUR } });
    await setStoredExpiry(store, user, clock.now() + HOUR);
    const first = await manager.getService(user, 'drive', () => ({}));
    expect(manager.stats()).toMatchObject({ cachedCredentials: 1, cachedServices: 1 });
    clock.advance(HOUR);
    provider.revokeGrantsOf(user);
    await rejectionOf(manager.getValidCredentials(user));
    expect(manager.stats()).toMatchObject({ cachedCredentials: 0, cachedServices: 0 });
    await expect(manager.getService(user, 'drive', () => ({}))).rejects.toBeInstanceOf(NotFoundError);
    expect(first).toBeDefined();
  });

  it('invalid_grant without a session store still ends in ReauthRequiredError', async () => {
    const user = 'nosessions@example.com';
    const { manager, store } = await expiredUser(user, {}, { sessions: false });
    provider.revokeGrantsOf(user);
    expect(await rejectionOf(manager.getValidCredentials(user))).toBeInstanceOf(ReauthRequiredError);
    expect(await store.get(user)).toBeUndefined();
  });

  it('invalid_grant after the record was removed elsewhere: nothing to delete, still sign-in required', async () => {
    const user = 'removed@example.com';
    const inner = new MemoryCredentialStore();
    let deletes = 0;
    const store = storeOver(inner, {
      delete: async (userId, options) => {
        deletes += 1;
        return inner.delete(userId, options);
      },
    });
    const { manager, lines } = await expiredUser(user, {
      store,
      // The refresh is refused; meanwhile the user signed out on another replica.
      sleep: async () => {},
    });
    provider.revokeGrantsOf(user);
    const refresh = manager.getValidCredentials(user);
    await inner.delete(user);
    const error = await rejectionOf(refresh);
    expect(error).toBeInstanceOf(ReauthRequiredError);
    expect(deletes).toBe(0);
    expect(lines.some((line) => line.message.startsWith('kept credentials'))).toBe(false);
  });

  it('invalid_grant with a store that fails the delete: the store error reaches the caller', async () => {
    const user = 'stuck@example.com';
    const inner = new MemoryCredentialStore();
    const store = storeOver(inner, {
      delete: async () => {
        throw new StorageUnavailableError('store down');
      },
    });
    const { manager } = await expiredUser(user, { store });
    provider.revokeGrantsOf(user);
    expect(await rejectionOf(manager.getValidCredentials(user))).toBeInstanceOf(StorageUnavailableError);
    expect(await inner.get(user)).toBeDefined();
  });

  it('invalid_grant while a fresh sign-in lands between re-read and delete: kept, and logged with the user', async () => {
    const user = 'kept@example.com';
    const inner = new MemoryCredentialStore();
    const store = storeOver(inner, {
      delete: async (userId) => {
        throw new ConflictError('changed', { userId });
      },
    });
    const { manager, lines } = await expiredUser(user, { store, maxConflictRetries: 0 });
    provider.revokeGrantsOf(user);
    expect(await rejectionOf(manager.getValidCredentials(user))).toBeInstanceOf(ReauthRequiredError);
    expect(lines).toContainEqual({
      level: 'info',
      message: 'kept credentials saved after the refresh token died',
      fields: { userId: user },
    });
  });

  it('no refresh token on file: reauth-required with its reason, the user in the error', async () => {
    const user = 'offline@example.com';
    const { manager, store, events } = await expiredUser(user);
    const entry = await store.get(user);
    const { refreshToken: _dropped, ...withoutRefresh } = entry!.credentials;
    await store.put(user, withoutRefresh, { ifVersion: entry!.version });
    const error = await rejectionOf(manager.getValidCredentials(user));
    expect(error).toBeInstanceOf(ReauthRequiredError);
    expect((error as ReauthRequiredError).userId).toBe(user);
    expect(named(events, 'reauth-required')).toEqual([{ userId: user, reason: 'no-refresh-token' }]);
  });

  it('nothing stored: NotFoundError naming the user', async () => {
    const { manager } = managerHarness(provider);
    const error = await rejectionOf(manager.getValidCredentials('nobody@example.com'));
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as NotFoundError).userId).toBe('nobody@example.com');
  });
});

describe('a refresh that loses a race', () => {
  it("to a replica that saved a fresh token: uses the winner's token, refresh-conflict once, no second refresh", async () => {
    const user = 'race@example.com';
    const inner = new MemoryCredentialStore();
    let armed = false;
    let winner: string | undefined;
    const store = storeOver(inner, {
      put: async (userId, record, options) => {
        if (armed && winner === undefined && typeof options?.ifVersion === 'string') {
          // Another replica refreshed first and saved.
          const current = await inner.get(userId);
          winner = 'ya29.winner';
          await inner.put(userId, {
            ...current!.credentials,
            accessToken: winner,
            expiresAt: (record.expiresAt ?? 0) + 1,
          });
        }
        return inner.put(userId, record, options);
      },
    });
    const { manager, events } = await expiredUser(user, { store });
    armed = true;
    const credentials = await manager.getValidCredentials(user);
    expect(credentials.accessToken).toBe('ya29.winner');
    expect(provider.counters.refreshRequests).toBe(1);
    expect(named(events, 'refresh-conflict')).toEqual([{ userId: user }]);
    expect(named(events, 'refreshed')).toEqual([]);
  });

  it('every time: the ConflictError names the user; removed meanwhile: the ReauthRequiredError does', async () => {
    const user = 'contested@example.com';
    const inner = new MemoryCredentialStore();
    let mode: 'off' | 'conflict' | 'remove' = 'off';
    const store = storeOver(inner, {
      put: async (userId, record, options) => {
        if (mode === 'off' || typeof options?.ifVersion !== 'string')
          return inner.put(userId, record, options);
        if (mode === 'remove') await inner.delete(userId);
        else await inner.put(userId, { ...record, expiresAt: 1 }); // another replica, stale again
        throw new ConflictError('changed', { userId });
      },
    });
    const { manager } = await expiredUser(user, { store, maxConflictRetries: 1 });
    mode = 'conflict';
    const conflict = await rejectionOf(manager.getValidCredentials(user));
    expect(conflict).toBeInstanceOf(ConflictError);
    expect((conflict as ConflictError).userId).toBe(user);
    mode = 'remove';
    const removed = await rejectionOf(manager.getValidCredentials(user));
    expect(removed).toBeInstanceOf(ReauthRequiredError);
    expect((removed as ReauthRequiredError).userId).toBe(user);
  });
});

describe('a revoke that fails', () => {
  it('logs the store failure once, with the operation and user, and throws it to the caller', async () => {
    const lines: RecordedLine[] = [];
    const inner = new MemoryCredentialStore();
    const store = storeOver(inner, {
      get: async () => {
        throw new StorageUnavailableError('store down');
      },
    });
    const { manager } = managerHarness(provider, { store, logger: recordingLogger(lines) });
    expect(await rejectionOf(manager.revoke('gone@example.com'))).toBeInstanceOf(StorageUnavailableError);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'warn',
        fields: expect.objectContaining({
          component: 'manager',
          operation: 'revoke',
          userId: 'gone@example.com',
          code: 'STORAGE_UNAVAILABLE',
        }),
      }),
    ]);
  });
});
