/**
 * Reads carried through one request on a shared backend: the verification reads the user's
 * session, the MCP session guard the binding, and the tool helper nothing more; every read happens
 * again once the carried ones are older than REQUEST_READS_MAX_AGE_MS; nothing carried crosses to
 * another request, user or MCP session. Round trips are counted on real Redis and PostgreSQL.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { AuthInfo } from '../../src/auth-info.js';
import { createMcpSessionGuard, createToolAuth } from '../../src/http/index.js';
import { AccessDeniedError, MemoryCredentialStore } from '../../src/index.js';
import { CredentialManager } from '../../src/manager/index.js';
import { PostgresSessionBackend } from '../../src/postgres/index.js';
import { RedisSessionBackend } from '../../src/redis/index.js';
import { OAuth21SessionStore, type SessionBackend } from '../../src/session/index.js';
import { REQUEST_READS_MAX_AGE_MS, RequestReads } from '../../src/session/request-reads.js';
import {
  CountingSessionBackend,
  type GoogleLikeProvider,
  startGoogleLikeProvider,
} from '../../src/testing/index.js';
import { FakeClock } from '../support/clock.js';
import { REDIRECT_URI, signIn } from '../support/oauth.js';
import { freshTable, sharedPool, testPool } from '../support/postgres-test-pool.js';

const redisUrl = inject('redisUrl');
const pgliteUrl = inject('pgliteUrl');

let provider: GoogleLikeProvider;
const redisClients: Redis[] = [];
beforeAll(async () => {
  provider = await startGoogleLikeProvider();
});
afterAll(async () => {
  await provider.close();
  await Promise.all(redisClients.map((client) => client.quit()));
});

/** A backend, and another one on the same data (another replica's). */
interface EngineSpace {
  backend: SessionBackend;
  replica(): Promise<SessionBackend>;
}

const engines: Array<{ name: string; skipReason: string; make: (clock: FakeClock) => Promise<EngineSpace> }> =
  [
    {
      name: 'Redis',
      skipReason: redisUrl ? '' : 'redis-server is not installed',
      make: async () => {
        const keyPrefix = `reads-${randomBytes(6).toString('hex')}:`;
        const connect = async () => {
          const client = new Redis(redisUrl, { lazyConnect: true });
          await client.connect();
          redisClients.push(client);
          return new RedisSessionBackend({ client, keyPrefix });
        };
        return { backend: await connect(), replica: connect };
      },
    },
    {
      name: 'PostgreSQL (PGlite)',
      skipReason: '',
      make: async (clock) => {
        const table = freshTable('reads');
        const backend = new PostgresSessionBackend({
          pool: sharedPool(pgliteUrl),
          table,
          clock,
          cleanupIntervalMs: 0,
        });
        await backend.ensureSchema();
        const replica = async () =>
          new PostgresSessionBackend({ pool: testPool(pgliteUrl, 1), table, clock, cleanupIntervalMs: 0 });
        return { backend, replica };
      },
    },
  ];

for (const engine of engines) {
  describe.skipIf(engine.skipReason !== '')(
    `one request's reads on ${engine.name}${engine.skipReason ? ` (skipped: ${engine.skipReason})` : ''}`,
    () => {
      async function setup() {
        const clock = new FakeClock();
        const space = await engine.make(clock);
        const backend = new CountingSessionBackend(space.backend);
        const sessionStore = new OAuth21SessionStore({ backend, clock });
        const manager = new CredentialManager({
          store: new MemoryCredentialStore(),
          sessionStore,
          oauth: provider.oauthOptions(REDIRECT_URI),
        });
        const user = `reads-${randomBytes(4).toString('hex')}@example.com`;
        const mcpSessionId = `mcp-${randomBytes(6).toString('hex')}`;
        await signIn(manager, provider, user);
        await sessionStore.storeSession(user, { mcpSessionId });
        const { token } = await sessionStore.issueBearerToken(user);
        await sessionStore.verifyBearerToken(token); // the token record is now remembered
        const guard = createMcpSessionGuard({ sessionStore });
        const toolAuth = createToolAuth({ manager, sessionStore });
        await toolAuth.forRequest({
          authInfo: await sessionStore.verifyBearerToken(token),
          sessionId: mcpSessionId,
        });
        backend.reset();
        return { clock, backend, sessionStore, guard, toolAuth, user, mcpSessionId, token, space };
      }

      it('costs one read at verification, one at the guard and none in the tool helper', async () => {
        const { backend, sessionStore, guard, toolAuth, user, mcpSessionId, token } = await setup();
        const auth = await sessionStore.verifyBearerToken(token);
        expect(Object.fromEntries(backend.calls)).toEqual({ 'get session': 1 });
        backend.reset();
        expect(await guard.check(mcpSessionId, auth)).toBeUndefined();
        expect(Object.fromEntries(backend.calls)).toEqual({ 'get binding': 1 });
        backend.reset();
        const context = await toolAuth.forRequest({ authInfo: auth, sessionId: mcpSessionId });
        expect(context.userId).toBe(user);
        expect(backend.roundTrips()).toBe(0);
      });

      it('costs one read in all for the next request on the same MCP session (the binding is remembered)', async () => {
        const { backend, sessionStore, guard, toolAuth, mcpSessionId, token } = await setup();
        await guard.check(mcpSessionId, await sessionStore.verifyBearerToken(token));
        backend.reset();
        const auth = await sessionStore.verifyBearerToken(token);
        expect(await guard.check(mcpSessionId, auth)).toBeUndefined();
        await toolAuth.forRequest({ authInfo: auth, sessionId: mcpSessionId });
        expect(Object.fromEntries(backend.calls)).toEqual({ 'get session': 1 });
      });

      it('sees a sign-out on another replica at once, and a binding removed there within the cache lifetime', async () => {
        const { clock, sessionStore, guard, user, mcpSessionId, token, space } = await setup();
        const replica = new OAuth21SessionStore({ backend: await space.replica(), clock });
        await guard.check(mcpSessionId, await sessionStore.verifyBearerToken(token)); // remembered here
        expect(await replica.unbindMcpSession(mcpSessionId)).toBe(true);
        const auth = await sessionStore.verifyBearerToken(token);
        expect(await guard.check(mcpSessionId, auth)).toBeUndefined(); // within the 5 s lifetime
        clock.advance(5_000);
        const later = await sessionStore.verifyBearerToken(token);
        expect((await guard.check(mcpSessionId, later))?.status).toBe(404);
        await sessionStore.bindMcpSession(mcpSessionId, user);
        await guard.check(mcpSessionId, await sessionStore.verifyBearerToken(token)); // remembered again
        await replica.removeSession(user);
        await expect(sessionStore.verifyBearerToken(token)).rejects.toThrow('Access token revoked');
        expect(await sessionStore.getUserByMcpSession(mcpSessionId)).toBeUndefined();
      });

      it('reads everything again once the carried reads are older than the bound, and sees a sign-out', async () => {
        const { clock, backend, sessionStore, guard, toolAuth, user, mcpSessionId, token } = await setup();
        const auth = await sessionStore.verifyBearerToken(token);
        await guard.check(mcpSessionId, auth);
        clock.advance(REQUEST_READS_MAX_AGE_MS);
        backend.reset();
        await toolAuth.forRequest({ authInfo: auth, sessionId: mcpSessionId });
        expect(backend.roundTrips()).toBe(0); // at the bound: still carried
        clock.advance(1);
        await sessionStore.removeSession(user);
        backend.reset();
        const error = await toolAuth
          .forRequest({ authInfo: auth, sessionId: mcpSessionId })
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(AccessDeniedError);
        expect((error as AccessDeniedError).reason).toBe('no-session');
        expect(Object.fromEntries(backend.calls)).toEqual({ 'get binding': 1, 'get session': 1 });
      });

      it('carries a session another verifier read (the MCP authorization server), and only a genuine one', async () => {
        const { backend, sessionStore, user } = await setup();
        const genuine = await sessionStore.getSession(user);
        const auth: AuthInfo = Object.freeze({
          token: 't',
          clientId: 'c',
          scopes: [],
          extra: { userId: user },
        });
        const forged: AuthInfo = Object.freeze({
          token: 'u',
          clientId: 'c',
          scopes: [],
          extra: { userId: user },
        });
        sessionStore.rememberVerifiedSession(auth, genuine!);
        sessionStore.rememberVerifiedSession(forged, { ...genuine! });
        backend.reset();
        await sessionStore.getCredentialsWithValidation({
          requestedUser: user,
          tokenUser: user,
          authInfo: auth,
        });
        expect(backend.roundTrips()).toBe(0);
        await sessionStore.getCredentialsWithValidation({
          requestedUser: user,
          tokenUser: user,
          authInfo: forged,
        });
        expect(Object.fromEntries(backend.calls)).toEqual({ 'get session': 1 });
      });

      it('gives each verification its own object, so one request never uses another request’s reads', async () => {
        const { backend, sessionStore, guard, toolAuth, mcpSessionId, token } = await setup();
        const first = await sessionStore.verifyBearerToken(token);
        const second = await sessionStore.verifyBearerToken(token);
        expect(second).not.toBe(first);
        expect(second).toEqual(first);
        expect(Object.isFrozen(second)).toBe(true);
        await guard.check(mcpSessionId, first);
        backend.reset();
        await toolAuth.forRequest({ authInfo: second, sessionId: mcpSessionId });
        // `second` never passed the guard: its binding is read here, its session was read at verification.
        expect(Object.fromEntries(backend.calls)).toEqual({ 'get binding': 1 });
      });

      it('carries nothing to another MCP session, another user, or an AuthInfo it did not make', async () => {
        const { backend, sessionStore, guard, user, mcpSessionId, token } = await setup();
        const other = `other-${randomBytes(4).toString('hex')}@example.com`;
        await sessionStore.storeSession(other, { mcpSessionId: 'mcp-of-other' });
        const auth = await sessionStore.verifyBearerToken(token);
        await guard.check(mcpSessionId, auth);
        backend.reset();
        // The other user's MCP session, presented with this user's token: read, and refused.
        const crossed = await sessionStore
          .getCredentialsWithValidation({
            requestedUser: user,
            tokenUser: user,
            mcpSessionId: 'mcp-of-other',
            authInfo: auth,
          })
          .catch((e: unknown) => e);
        expect((crossed as AccessDeniedError).reason).toBe('session-bound-to-other-user');
        expect(backend.roundTrips('get binding')).toBe(1);
        expect(await sessionStore.getUserByMcpSession('mcp-of-other', auth)).toBe(other);
        // Asking for the other user's credentials with this token's reads: refused, nothing reused.
        await expect(
          sessionStore.getCredentialsWithValidation({
            requestedUser: other,
            tokenUser: user,
            authInfo: auth,
          }),
        ).rejects.toMatchObject({ reason: 'token-user-mismatch' });
        // A look-alike object the store did not hand out: every read happens.
        backend.reset();
        const lookalike: AuthInfo = { ...auth };
        await sessionStore.getCredentialsWithValidation({
          requestedUser: user,
          tokenUser: user,
          mcpSessionId,
          authInfo: lookalike,
        });
        expect(Object.fromEntries(backend.calls)).toEqual({ 'get binding': 1, 'get session': 1 });
      });
    },
  );
}

describe('the memory backend', () => {
  it('answers every request with the one remembered AuthInfo (in-process reads cost less than carrying them)', async () => {
    const sessionStore = new OAuth21SessionStore();
    await sessionStore.storeSession('mem@example.com');
    const { token } = await sessionStore.issueBearerToken('mem@example.com');
    expect(await sessionStore.verifyBearerToken(token)).toBe(await sessionStore.verifyBearerToken(token));
  });
});

describe('RequestReads', () => {
  const auth = {};
  it('is fresh up to the bound inclusive, and never when the clock went backwards', () => {
    const reads = new RequestReads<string, string>();
    reads.keep(auth, 'a@example.com', 'session-a', 10_000);
    expect(reads.session(auth, 'a@example.com', 10_000 + REQUEST_READS_MAX_AGE_MS)).toBe('session-a');
    expect(reads.session(auth, 'a@example.com', 10_000 + REQUEST_READS_MAX_AGE_MS + 1)).toBeUndefined();
    expect(reads.session(auth, 'a@example.com', 9_999)).toBeUndefined();
    expect(reads.session(auth, 'b@example.com', 10_000)).toBeUndefined();
    expect(reads.session(undefined, 'a@example.com', 10_000)).toBeUndefined();
  });

  it('keeps a binding only with kept reads, and gives it back for that MCP session only', () => {
    const reads = new RequestReads<string, string>();
    reads.keepBinding(auth, 'mcp-1', 'binding-1');
    expect(reads.binding(auth, 'mcp-1', 0)).toBeUndefined();
    reads.keep(auth, 'a@example.com', 'session-a', 0);
    reads.keepBinding(auth, 'mcp-1', 'binding-1');
    expect(reads.binding(auth, 'mcp-1', 0)).toBe('binding-1');
    expect(reads.binding(auth, 'mcp-2', 0)).toBeUndefined();
    expect(reads.binding(auth, 'mcp-1', REQUEST_READS_MAX_AGE_MS + 1)).toBeUndefined();
  });
});

describe('what getCredentialsWithValidation returns', () => {
  it('is a new object per call with its user and rule as fields, and builds the session view when read', async () => {
    const sessionStore = new OAuth21SessionStore();
    await sessionStore.storeSession('view@example.com', { scopes: ['openid'] });
    const access = await sessionStore.getCredentialsWithValidation({
      requestedUser: 'view@example.com',
      tokenUser: 'view@example.com',
    });
    expect(
      await sessionStore.getCredentialsWithValidation({
        requestedUser: 'view@example.com',
        tokenUser: 'view@example.com',
      }),
    ).not.toBe(access);
    expect({ ...access }).toEqual({ userId: 'view@example.com', via: 'token' });
    expect(access.session).toBe(access.session);
    expect(access.session).toMatchObject({ userId: 'view@example.com', scopes: ['openid'] });
    expect(Object.isFrozen(access.session)).toBe(true);
    expect(JSON.parse(JSON.stringify(access))).toMatchObject({
      userId: 'view@example.com',
      via: 'token',
      session: { userId: 'view@example.com', scopes: ['openid'] },
    });
  });
});
