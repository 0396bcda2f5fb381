/**
 * Each decision of the session store by its own test, on the memory backend (as is, or under a
 * wrapper that keeps entries past their lifetime so that the store's own expiry checks are proven
 * alone): access rules at their boundaries, binding carry-over, malformed input, the verified-token
 * cache switched off, and what a refusal logs. The backend-independent behaviour is in
 * session-store.suite.ts.
 */
import { describe, expect, it, vi } from 'vitest';
import { AccessDeniedError, InvalidInputError, InvalidTokenError, NotFoundError } from '../../src/index.js';
import { sha256 } from '../../src/secrets.js';
import type { SessionBackend } from '../../src/session/backend.js';
import { MemorySessionBackend } from '../../src/session/memory-backend.js';
import { OAuth21SessionStore } from '../../src/session/session-store.js';
import { DEFAULT_BEARER_TOKEN_CLIENT_ID, type OAuth21SessionStoreOptions } from '../../src/session/types.js';
import { FakeClock } from '../support/clock.js';
import { type RecordedLine, recordingLogger } from '../support/recording-logger.js';
import { rejectionOf } from '../support/rejection.js';

const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';

/**
 * `inner` seen through a proxy: shared (no synchronous reads), optionally keeping every entry a year
 * whatever lifetime it is given, and with some methods replaced.
 */
function wrapped(
  inner: MemorySessionBackend,
  options: { keep?: boolean; replace?: Partial<Record<keyof SessionBackend, unknown>> } = {},
): SessionBackend {
  return new Proxy(inner, {
    get(target, property) {
      if (property === 'getSync') return undefined;
      if (property === 'locality') return 'shared';
      const replaced = options.replace?.[property as keyof SessionBackend];
      if (replaced !== undefined) return replaced;
      if (property === 'set' && options.keep) {
        return (namespace: string, key: string, value: unknown, setOptions: { ttlMs: number }) =>
          target.set(namespace, key, value, { ...setOptions, ttlMs: 365 * 86_400_000 });
      }
      const value = Reflect.get(target, property);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

function setup(
  options: Omit<OAuth21SessionStoreOptions, 'backend' | 'clock' | 'logger'> = {},
  backendOptions:
    | { keep?: boolean; replace?: Partial<Record<keyof SessionBackend, unknown>> }
    | 'memory' = {},
) {
  const clock = new FakeClock();
  const inner = new MemorySessionBackend({ clock });
  const lines: RecordedLine[] = [];
  const backend = backendOptions === 'memory' ? inner : wrapped(inner, backendOptions);
  const store = new OAuth21SessionStore({ backend, clock, logger: recordingLogger(lines), ...options });
  return { clock, inner, store, lines };
}

async function denial(promise: Promise<unknown>): Promise<AccessDeniedError> {
  const error = await rejectionOf(promise);
  expect(error).toBeInstanceOf(AccessDeniedError);
  return error as AccessDeniedError;
}

describe('getCredentialsWithValidation at its boundaries', () => {
  it('a token user whose session ended (by its lifetime, the backend still holding it) is denied at that instant', async () => {
    const { store, clock } = setup({ sessionTtlMs: 1_000 }, { keep: true });
    await store.storeSession(ALICE);
    clock.advance(999);
    await expect(
      store.getCredentialsWithValidation({ requestedUser: ALICE, tokenUser: ALICE }),
    ).resolves.toMatchObject({
      userId: ALICE,
    });
    clock.advance(1);
    const denied = await denial(
      store.getCredentialsWithValidation({ requestedUser: ALICE, tokenUser: ALICE }),
    );
    expect(denied.reason).toBe('no-session');
  });

  it('a token may use an MCP session id whose binding to another user has ended, not one still live', async () => {
    const { store, clock } = setup({ sessionTtlMs: 100_000, bindingTtlMs: 1_000 }, { keep: true });
    await store.storeSession(ALICE);
    await store.storeSession(BOB, { mcpSessionId: 'mcp-bob' });
    clock.advance(999);
    const live = await denial(
      store.getCredentialsWithValidation({ requestedUser: ALICE, tokenUser: ALICE, mcpSessionId: 'mcp-bob' }),
    );
    expect(live.reason).toBe('session-bound-to-other-user');
    clock.advance(1);
    await expect(
      store.getCredentialsWithValidation({ requestedUser: ALICE, tokenUser: ALICE, mcpSessionId: 'mcp-bob' }),
    ).resolves.toMatchObject({ userId: ALICE, via: 'token' });
  });

  it('a token with a malformed MCP session id is denied (invalid-session-id), not looked up', async () => {
    const { store } = setup();
    await store.storeSession(ALICE);
    const denied = await denial(
      store.getCredentialsWithValidation({
        requestedUser: ALICE,
        tokenUser: ALICE,
        mcpSessionId: 'has spaces',
      }),
    );
    expect(denied.reason).toBe('invalid-session-id');
  });

  it('a null token user counts as no token: neither token nor session is no-identity', async () => {
    const { store } = setup();
    await store.storeSession(ALICE);
    const denied = await denial(
      store.getCredentialsWithValidation({ requestedUser: ALICE, tokenUser: null as unknown as string }),
    );
    expect(denied.reason).toBe('no-identity');
  });

  it('a denial is logged once at warn with the requested user and the reason, nothing else', async () => {
    const { store, lines } = setup();
    await denial(store.getCredentialsWithValidation({ requestedUser: ALICE, tokenUser: BOB }));
    expect(lines).toEqual([
      {
        level: 'warn',
        message: 'SECURITY: credential access denied (token-user-mismatch)',
        fields: { requestedUser: ALICE, reason: 'token-user-mismatch' },
      },
    ]);
  });
});

describe('MCP session bindings', () => {
  it('the same user signed in again (a new session generation) keeps the MCP session', async () => {
    const { store, clock } = setup({ sessionTtlMs: 1_000, bindingTtlMs: 100_000 }, 'memory');
    await store.storeSession(ALICE, { mcpSessionId: 'mcp-1' });
    const first = await store.getSession(ALICE);
    clock.advance(1_000); // the session ended; the binding has not
    expect(await store.getUserByMcpSession('mcp-1')).toBeUndefined();
    await store.storeSession(ALICE);
    expect((await store.getSession(ALICE))?.generation).not.toBe(first?.generation);
    await store.bindMcpSession('mcp-1', ALICE);
    expect(await store.getUserByMcpSession('mcp-1')).toBe(ALICE);
  });

  it('an in-process backend without synchronous reads works (it is only read asynchronously)', async () => {
    const clock = new FakeClock();
    const inner = new MemorySessionBackend({ clock });
    const asyncOnly = new Proxy(inner, {
      get(target, property) {
        if (property === 'getSync') return undefined;
        const value = Reflect.get(target, property);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as SessionBackend;
    expect(asyncOnly.locality).toBe('in-process');
    const store = new OAuth21SessionStore({ backend: asyncOnly, clock });
    await store.storeSession(ALICE, { mcpSessionId: 'mcp-1' });
    expect(await store.getUserByMcpSession('mcp-1')).toBe(ALICE);
    const token = await store.issueBearerToken(ALICE);
    expect((await store.verifyBearerToken(token.token)).extra?.userId).toBe(ALICE);
  });

  it('the carried-over binding is kept by the backend for bindingTtlMs, not for ever', async () => {
    const { store, clock, inner } = setup({ sessionTtlMs: 1_000, bindingTtlMs: 100_000 }, 'memory');
    await store.storeSession(ALICE, { mcpSessionId: 'mcp-1' });
    clock.advance(1_000);
    await store.storeSession(ALICE);
    await store.bindMcpSession('mcp-1', ALICE);
    clock.advance(99_000);
    expect(await inner.count('binding')).toBe(1);
    clock.advance(1_000);
    expect(await inner.count('binding')).toBe(0);
  });

  it('binding an MCP session again within the same sign-in keeps its first lifetime', async () => {
    const { store, clock } = setup({ sessionTtlMs: 1_000_000, bindingTtlMs: 100_000 }, 'memory');
    await store.storeSession(ALICE, { mcpSessionId: 'mcp-1' });
    clock.advance(99_999);
    await store.bindMcpSession('mcp-1', ALICE);
    expect(await store.getUserByMcpSession('mcp-1')).toBe(ALICE);
    clock.advance(1);
    expect(await store.getUserByMcpSession('mcp-1')).toBeUndefined();
  });

  it('a binding that expires between the attempt and the re-read is bound on the next round', async () => {
    let races = 1;
    const clock = new FakeClock();
    const inner = new MemorySessionBackend({ clock });
    const backend = wrapped(inner, {
      replace: {
        set: async (
          namespace: string,
          key: string,
          value: unknown,
          options: { ttlMs: number; onlyIfAbsent?: boolean },
        ) => {
          if (namespace === 'binding' && options.onlyIfAbsent && races > 0) {
            races -= 1;
            return false; // someone held it a moment ago ...
          }
          return inner.set(namespace, key, value, options);
        },
      },
    });
    const store = new OAuth21SessionStore({ backend, clock });
    await store.storeSession(ALICE);
    await store.bindMcpSession('mcp-1', ALICE); // ... and it is gone when re-read
    expect(await store.getUserByMcpSession('mcp-1')).toBe(ALICE);
  });

  it('a binding that never settles ends in bind-contention naming the user', async () => {
    const clock = new FakeClock();
    const inner = new MemorySessionBackend({ clock });
    const backend = wrapped(inner, {
      replace: {
        // Every attempt finds the id taken, and every re-read finds it gone.
        set: async (
          namespace: string,
          key: string,
          value: unknown,
          options: { ttlMs: number; onlyIfAbsent?: boolean },
        ) =>
          namespace === 'binding' && options.onlyIfAbsent ? false : inner.set(namespace, key, value, options),
        get: async (namespace: string, key: string) =>
          namespace === 'binding' ? undefined : inner.get(namespace, key),
      },
    });
    const store = new OAuth21SessionStore({ backend, clock });
    await store.storeSession(ALICE);
    const error = await denial(store.bindMcpSession('mcp-1', ALICE));
    expect(error.reason).toBe('bind-contention');
    expect(error.userId).toBe(ALICE);
  });

  it('a binding written by an earlier version (with fields this one no longer writes) is honoured, remembered and ended', async () => {
    const { store, inner, clock } = setup(
      {},
      {
        replace: {
          get: async (namespace: string, key: string) => structuredClone(await inner.get(namespace, key)),
        },
      },
    );
    await store.storeSession(ALICE);
    const generation = (await store.getSession(ALICE))!.generation;
    const liveUntil = clock.now() + 1_000; // ends before the backend's entry and the remembered read
    await inner.set(
      'binding',
      'mcp-old',
      { userId: ALICE, epoch: generation, boundAt: clock.now(), liveUntil },
      { ttlMs: 60_000 },
    );
    const auth = await store.verifyBearerToken((await store.issueBearerToken(ALICE)).token);
    expect(await store.getUserByMcpSession('mcp-old', auth)).toBe(ALICE);
    expect(await store.getUserByMcpSession('mcp-old')).toBe(ALICE);
    clock.advance(1_000);
    expect(await store.getUserByMcpSession('mcp-old')).toBeUndefined();
  });

  it('refusing to rebind another user’s MCP session logs both users', async () => {
    const { store, lines } = setup();
    await store.storeSession(BOB, { mcpSessionId: 'mcp-1' });
    await store.storeSession(ALICE);
    await denial(store.bindMcpSession('mcp-1', ALICE));
    expect(lines).toContainEqual({
      level: 'warn',
      message: 'SECURITY: refused to rebind an MCP session to another user',
      fields: { userId: ALICE, boundUserId: BOB },
    });
  });

  it('binding or issuing a token without a session is NotFoundError naming the user', async () => {
    const { store } = setup();
    for (const attempt of [store.bindMcpSession('mcp-1', ALICE), store.issueBearerToken(ALICE)]) {
      const error = await attempt.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NotFoundError);
      expect((error as NotFoundError).userId).toBe(ALICE);
    }
  });

  it('unbinding a malformed id answers false without touching the backend', async () => {
    const { store, inner } = setup();
    const take = vi.spyOn(inner, 'take');
    expect(await store.unbindMcpSession('has spaces')).toBe(false);
    expect(await store.unbindMcpSession('')).toBe(false);
    expect(take).not.toHaveBeenCalled();
  });
});

describe('sessions', () => {
  it('two sign-ins of one user at once end in one session generation (neither revokes the other)', async () => {
    for (const backend of ['memory', {}] as const) {
      const { store } = setup({}, backend);
      const [first, second] = await Promise.all([store.storeSession(ALICE), store.storeSession(ALICE)]);
      expect(first.generation).toBe(second.generation);
      expect((await store.getSession(ALICE))?.generation).toBe(first.generation);
    }
  });

  it('in process, users granted the same scopes share one frozen list (a refresh and a touch keep sharing it)', async () => {
    const { store } = setup();
    await store.storeSession(ALICE, { scopes: ['openid', 'email'] });
    await store.storeSession(BOB, { scopes: ['openid', 'email'] });
    const alice = await store.getSession(ALICE);
    expect((await store.getSession(BOB))?.scopes).toBe(alice?.scopes);
    expect(Object.isFrozen(alice?.scopes)).toBe(true);
    await store.storeSession(BOB, { scopes: ['openid', 'email'] });
    await store.touchSession(ALICE);
    expect((await store.getSession(BOB))?.scopes).toBe((await store.getSession(ALICE))?.scopes);
    await store.storeSession(BOB, { scopes: ['openid'] });
    expect((await store.getSession(BOB))?.scopes).toEqual(['openid']);
  });

  it('a session stored without scopes has none, and its removal is logged with the user', async () => {
    const { store, lines } = setup();
    await store.storeSession(ALICE);
    expect((await store.getSession(ALICE))?.scopes).toEqual([]);
    await store.removeSession(ALICE);
    expect(lines).toEqual([
      { level: 'info', message: 'session removed', fields: { userId: ALICE, existed: true } },
    ]);
  });
});

describe('bearer tokens', () => {
  it('carry the default client id unless the store or the call names one', async () => {
    const plain = setup();
    await plain.store.storeSession(ALICE);
    const { token } = await plain.store.issueBearerToken(ALICE);
    expect((await plain.store.verifyBearerToken(token)).clientId).toBe(DEFAULT_BEARER_TOKEN_CLIENT_ID);
    const named = setup({ defaultClientId: 'my-server' });
    await named.store.storeSession(ALICE);
    const issued = await named.store.issueBearerToken(ALICE);
    expect((await named.store.verifyBearerToken(issued.token)).clientId).toBe('my-server');
  });

  it('carry the scopes and resource they were issued with', async () => {
    const { store } = setup();
    await store.storeSession(ALICE, { scopes: ['openid', 'email'] });
    const inherited = await store.issueBearerToken(ALICE);
    expect((await store.verifyBearerToken(inherited.token)).scopes).toEqual(['openid', 'email']);
    const narrowed = await store.issueBearerToken(ALICE, {
      scopes: ['openid'],
      resource: 'https://mcp.example.com/',
    });
    const info = await store.verifyBearerToken(narrowed.token);
    expect(info.scopes).toEqual(['openid']);
    expect(Object.isFrozen(info.scopes)).toBe(true);
    const again = await store.issueBearerToken(ALICE, { scopes: ['openid'] });
    expect((await store.verifyBearerToken(again.token)).scopes).toBe(info.scopes);
    expect(String(info.resource)).toBe('https://mcp.example.com/');
    expect('resource' in (await store.verifyBearerToken(inherited.token))).toBe(false);
  });

  it('read from a shared backend (each read its own copy), tokens of the same scopes share one frozen list', async () => {
    const { store, inner } = setup(
      {
        verifiedTokenCache: { ttlMs: 60_000 },
      },
      {
        replace: {
          get: async (namespace: string, key: string) => structuredClone(await inner.get(namespace, key)),
        },
      },
    );
    await store.storeSession(ALICE, { scopes: ['openid', 'email'] });
    await store.storeSession(BOB, { scopes: ['openid', 'email'] });
    const alice = await store.verifyBearerToken((await store.issueBearerToken(ALICE)).token);
    const bob = await store.verifyBearerToken((await store.issueBearerToken(BOB)).token);
    expect(bob.scopes).toBe(alice.scopes);
    expect(Object.isFrozen(alice.scopes)).toBe(true);
    expect(alice.clientId).toBe(DEFAULT_BEARER_TOKEN_CLIENT_ID);
  });

  it('revoking something that is not token-shaped answers false without touching the backend', async () => {
    const { store, inner } = setup();
    const take = vi.spyOn(inner, 'take');
    expect(await store.revokeBearerToken('')).toBe(false);
    expect(await store.revokeBearerToken('x'.repeat(10_000))).toBe(false);
    expect(take).not.toHaveBeenCalled();
  });

  it('with the verified-token cache off, another replica’s revoke holds at once, and everything works', async () => {
    const { store, inner } = setup({ verifiedTokenCache: false });
    await store.storeSession(ALICE);
    const { token } = await store.issueBearerToken(ALICE);
    await store.verifyBearerToken(token);
    await inner.delete('token', sha256(token)); // revoked elsewhere
    await expect(store.verifyBearerToken(token)).rejects.toBeInstanceOf(InvalidTokenError);
    const second = await store.issueBearerToken(ALICE);
    expect(await store.revokeBearerToken(second.token)).toBe(true);
    await expect(store.verifyBearerToken(second.token)).rejects.toBeInstanceOf(InvalidTokenError);
  });
});

describe('single-use values', () => {
  it('accept 16 to 256 characters, once each', async () => {
    const { store } = setup();
    expect(await store.recordSingleUse('v'.repeat(16), 1_000)).toBe(true);
    expect(await store.recordSingleUse('v'.repeat(16), 1_000)).toBe(false);
    expect(await store.recordSingleUse('w'.repeat(256), 1_000)).toBe(true);
  });

  it.each([
    ['15 characters', 'v'.repeat(15)],
    ['257 characters', 'v'.repeat(257)],
    ['a number', 1234567890123456],
  ])('refuse %s', async (_label, value) => {
    const { store } = setup();
    await expect(store.recordSingleUse(value as string, 1_000)).rejects.toBeInstanceOf(InvalidInputError);
  });
});
