/**
 * The behavioural suite of OAuth21SessionStore, run against every backend (memory and a real Redis).
 */

import { inspect } from 'node:util';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { AccessDeniedError, InvalidInputError, InvalidTokenError, NotFoundError } from '../../src/index.js';
import {
  OAuth21SessionStore,
  type OAuth21SessionStoreOptions,
  type SessionBackend,
} from '../../src/session/index.js';
import { FakeClock } from '../support/clock.js';

export interface BackendFactory {
  /** A fresh, empty backend (its own namespace) for one test. */
  create(clock: FakeClock): Promise<SessionBackend>;
  /** A second backend over the same storage as `backend` (another replica), if the backend is shared. */
  peer?(backend: SessionBackend, clock: FakeClock): Promise<SessionBackend>;
  dispose?(): Promise<void>;
}

const VERIFIER = 'v'.repeat(43);
const STATE = () => `state-${Math.random().toString(36).slice(2)}-${'s'.repeat(16)}`;

/** Records every log line, to prove none carries a secret. */
export function recordingLogger(): { lines: string[]; logger: OAuth21SessionStoreOptions['logger'] } {
  const lines: string[] = [];
  const log = (fields: Record<string, unknown>, message?: string) =>
    lines.push(`${message} ${JSON.stringify(fields)}`);
  return { lines, logger: { debug: log, info: log, warn: log, error: log } };
}

export function describeSessionStore(
  name: string,
  factory: () => BackendFactory | undefined,
  skipReason?: string,
): void {
  const current = factory();
  describe.skipIf(current === undefined)(
    `OAuth21SessionStore on ${name}${current ? '' : ` (skipped: ${skipReason})`}`,
    () => {
      const f = current!;
      afterEach(async () => {
        await f.dispose?.();
      });

      async function setup(options: Omit<OAuth21SessionStoreOptions, 'backend' | 'clock'> = {}) {
        const clock = new FakeClock();
        const backend = await f.create(clock);
        const log = recordingLogger();
        const store = new OAuth21SessionStore({ backend, clock, logger: log.logger, ...options });
        return { clock, backend, store, log };
      }

      /**
       * The store over a backend that keeps entries a year whatever TTL it is given: the store's own
       * expiry checks must hold without the backend's (each layer proven alone).
       */
      async function setupOnKeepingBackend(options: Omit<OAuth21SessionStoreOptions, 'backend' | 'clock'>) {
        const clock = new FakeClock();
        const backend = await f.create(clock);
        const keeping = new Proxy(backend, {
          get(target, property) {
            if (property === 'getSync' || property === 'locality') return undefined;
            if (property === 'set') {
              return (namespace: string, key: string, value: unknown, setOptions: { ttlMs: number }) =>
                target.set(namespace, key, value, { ...setOptions, ttlMs: 365 * 86_400_000 });
            }
            const value = Reflect.get(target, property);
            return typeof value === 'function' ? value.bind(target) : value;
          },
        });
        const store = new OAuth21SessionStore({ backend: keeping, clock, ...options });
        return { clock, store };
      }

      describe('expiry held by the store itself (a backend that keeps everything)', () => {
        it('a binding answers only while both it and its session live', async () => {
          const short = await setupOnKeepingBackend({ sessionTtlMs: 1_000, bindingTtlMs: 10_000 });
          await short.store.storeSession('alice@example.com', { mcpSessionId: 'mcp-1' });
          short.clock.advance(999);
          expect(await short.store.getUserByMcpSession('mcp-1')).toBe('alice@example.com');
          short.clock.advance(1);
          expect(await short.store.getUserByMcpSession('mcp-1')).toBeUndefined();

          const binding = await setupOnKeepingBackend({ sessionTtlMs: 10_000, bindingTtlMs: 1_000 });
          await binding.store.storeSession('alice@example.com', { mcpSessionId: 'mcp-1' });
          binding.clock.advance(1_000);
          expect(await binding.store.getUserByMcpSession('mcp-1')).toBeUndefined();
          // An expired binding does not block binding the id again.
          await binding.store.bindMcpSession('mcp-1', 'alice@example.com');
          expect(await binding.store.getUserByMcpSession('mcp-1')).toBe('alice@example.com');
        });

        it('a bearer token dies with its session, and at its own expiry', async () => {
          const { store, clock } = await setupOnKeepingBackend({ sessionTtlMs: 1_000 });
          await store.storeSession('alice@example.com');
          const { token } = await store.issueBearerToken('alice@example.com', { ttlMs: 10_000 });
          clock.advance(1_000);
          await expect(store.verifyBearerToken(token)).rejects.toBeInstanceOf(InvalidTokenError);

          const own = await setupOnKeepingBackend({ sessionTtlMs: 10_000 });
          await own.store.storeSession('alice@example.com');
          const short = await own.store.issueBearerToken('alice@example.com', { ttlMs: 1_000 });
          own.clock.advance(1_000);
          await expect(own.store.verifyBearerToken(short.token)).rejects.toBeInstanceOf(InvalidTokenError);
        });

        it('a binding of an earlier session of the same user is dead, even if the index lost it (epoch)', async () => {
          const { store, backend } = await setup();
          await store.storeSession('alice@example.com');
          await store.bindMcpSession('mcp-old', 'alice@example.com');
          await backend.takeMembers('user-bindings', 'alice@example.com');
          await store.removeSession('alice@example.com');
          await store.storeSession('alice@example.com');
          expect(await store.getUserByMcpSession('mcp-old')).toBeUndefined();
        });
      });

      describe('sessions', () => {
        it('stores, refreshes and expires a session', async () => {
          const { store, clock } = await setup({ sessionTtlMs: 60_000 });
          const first = await store.storeSession('Alice@Example.com', {
            scopes: ['openid'],
            issuer: 'https://accounts.google.com',
          });
          expect(first).toMatchObject({
            userId: 'alice@example.com',
            scopes: ['openid'],
            createdAt: clock.now(),
          });
          clock.advance(30_000);
          const second = await store.storeSession('alice@example.com', { scopes: ['openid', 'email'] });
          expect(second.createdAt).toBe(first.createdAt);
          expect(second.updatedAt).toBe(clock.now());
          expect(second.issuer).toBe('https://accounts.google.com');
          expect((await store.getSession('alice@example.com'))?.scopes).toEqual(['openid', 'email']);
          clock.advance(59_999);
          expect(await store.getSession('alice@example.com')).toBeDefined();
          clock.advance(1);
          expect(await store.getSession('alice@example.com')).toBeUndefined();
        });

        it('removeSession removes the session, its bindings and its tokens', async () => {
          const { store } = await setup();
          await store.storeSession('alice@example.com', { mcpSessionId: 'mcp-a1' });
          await store.bindMcpSession('mcp-a2', 'alice@example.com');
          const { token } = await store.issueBearerToken('alice@example.com');
          expect(await store.removeSession('alice@example.com')).toBe(true);
          expect(await store.removeSession('alice@example.com')).toBe(false);
          expect(await store.getSession('alice@example.com')).toBeUndefined();
          expect(await store.getUserByMcpSession('mcp-a1')).toBeUndefined();
          expect(await store.getUserByMcpSession('mcp-a2')).toBeUndefined();
          await expect(store.verifyBearerToken(token)).rejects.toBeInstanceOf(InvalidTokenError);
          expect(await store.stats()).toEqual({
            sessions: 0,
            mcpBindings: 0,
            bearerTokens: 0,
            oauthStates: 0,
          });
        });

        it('old tokens stay dead after sign-out and sign-in again, even if an index lost them', async () => {
          const { store, backend } = await setup();
          await store.storeSession('alice@example.com');
          const { token } = await store.issueBearerToken('alice@example.com');
          // Simulate an evicted reverse index: the token entry survives removeSession.
          await backend.takeMembers('user-tokens', 'alice@example.com');
          await store.removeSession('alice@example.com');
          await store.storeSession('alice@example.com');
          await expect(store.verifyBearerToken(token)).rejects.toBeInstanceOf(InvalidTokenError);
        });
      });

      describe('MCP session binding', () => {
        it('first binding wins; rebinding to another user throws and changes nothing', async () => {
          const { store, log } = await setup();
          await store.storeSession('alice@example.com');
          await store.storeSession('bob@example.com');
          await store.bindMcpSession('mcp-1', 'alice@example.com');
          await store.bindMcpSession('mcp-1', 'ALICE@example.com'); // same user: no-op
          const error = await store.bindMcpSession('mcp-1', 'bob@example.com').catch((e: unknown) => e);
          expect(error).toBeInstanceOf(AccessDeniedError);
          expect((error as AccessDeniedError).reason).toBe('session-bound-to-other-user');
          expect(await store.getUserByMcpSession('mcp-1')).toBe('alice@example.com');
          expect(log.lines.some((line) => line.includes('SECURITY'))).toBe(true);
        });

        it('refuses to bind for a user without a session, and malformed session ids', async () => {
          const { store } = await setup();
          await expect(store.bindMcpSession('mcp-1', 'ghost@example.com')).rejects.toBeInstanceOf(
            NotFoundError,
          );
          await store.storeSession('alice@example.com');
          for (const id of ['', 'has space', 'x'.repeat(257), 'nul\u0000']) {
            await expect(store.bindMcpSession(id, 'alice@example.com')).rejects.toBeInstanceOf(
              InvalidInputError,
            );
          }
          expect(await store.getUserByMcpSession('x'.repeat(1000))).toBeUndefined();
        });

        it('a binding expires after bindingTtlMs', async () => {
          const { store, clock } = await setup({ bindingTtlMs: 1_000 });
          await store.storeSession('alice@example.com', { mcpSessionId: 'mcp-1' });
          clock.advance(999);
          expect(await store.getUserByMcpSession('mcp-1')).toBe('alice@example.com');
          clock.advance(1);
          expect(await store.getUserByMcpSession('mcp-1')).toBeUndefined();
        });

        it('unbinds', async () => {
          const { store } = await setup();
          await store.storeSession('alice@example.com', { mcpSessionId: 'mcp-1' });
          expect(await store.unbindMcpSession('mcp-1')).toBe(true);
          expect(await store.unbindMcpSession('mcp-1')).toBe(false);
          expect(await store.getUserByMcpSession('mcp-1')).toBeUndefined();
        });
      });

      describe('bearer tokens', () => {
        it('issues a 256-bit opaque token and verifies it as the MCP SDK expects', async () => {
          const { store, clock } = await setup();
          await store.storeSession('alice@example.com', { scopes: ['openid', 'email'] });
          const issued = await store.issueBearerToken('alice@example.com', {
            ttlMs: 3_600_000,
            clientId: 'my-client',
            resource: 'https://mcp.example.com/mcp',
          });
          expect(issued.token).toMatch(/^mcpoc_[A-Za-z0-9_-]{43}$/);
          expect(issued.expiresAt).toBe(clock.now() + 3_600_000);
          const info = await store.verifyBearerToken(issued.token);
          expect(info).toEqual({
            token: issued.token,
            clientId: 'my-client',
            scopes: ['openid', 'email'],
            expiresAt: Math.floor((clock.now() + 3_600_000) / 1000),
            resource: new URL('https://mcp.example.com/mcp'),
            extra: { userId: 'alice@example.com' },
          });
        });

        it('refuses unknown, malformed, expired and revoked tokens with InvalidTokenError', async () => {
          const { store, clock } = await setup();
          await store.storeSession('alice@example.com');
          for (const bad of ['', 'mcpoc_unknown', 'x'.repeat(10_000), undefined as unknown as string]) {
            await expect(store.verifyBearerToken(bad)).rejects.toBeInstanceOf(InvalidTokenError);
          }
          const expiring = await store.issueBearerToken('alice@example.com', { ttlMs: 1_000 });
          clock.advance(999);
          await store.verifyBearerToken(expiring.token);
          clock.advance(1);
          await expect(store.verifyBearerToken(expiring.token)).rejects.toBeInstanceOf(InvalidTokenError);
          const revoked = await store.issueBearerToken('alice@example.com');
          expect(await store.revokeBearerToken(revoked.token)).toBe(true);
          expect(await store.revokeBearerToken(revoked.token)).toBe(false);
          await expect(store.verifyBearerToken(revoked.token)).rejects.toBeInstanceOf(InvalidTokenError);
        });

        it('needs a session to issue a token', async () => {
          const { store } = await setup();
          await expect(store.issueBearerToken('ghost@example.com')).rejects.toBeInstanceOf(NotFoundError);
        });
      });

      describe('OAuth state', () => {
        it('is consumed exactly once and gives back the flow data', async () => {
          const { store } = await setup();
          const state = STATE();
          await store.storeOAuthState(state, {
            codeVerifier: VERIFIER,
            sessionId: 'browser-1',
            redirectUri: 'http://127.0.0.1/cb',
            returnTo: '/done',
            scopes: ['openid'],
            loginHint: 'alice@example.com',
          });
          await expect(store.storeOAuthState(state, { codeVerifier: VERIFIER })).rejects.toBeInstanceOf(
            InvalidInputError,
          );
          const data = await store.consumeOAuthState(state, 'browser-1');
          expect(data).toMatchObject({
            codeVerifier: VERIFIER,
            redirectUri: 'http://127.0.0.1/cb',
            returnTo: '/done',
            scopes: ['openid'],
            loginHint: 'alice@example.com',
          });
          expect(data).not.toHaveProperty('sessionIdHash');
          await expect(store.consumeOAuthState(state, 'browser-1')).rejects.toBeInstanceOf(InvalidInputError);
        });

        it('gives a state to exactly one of 20 concurrent consumers', async () => {
          const { store } = await setup();
          const state = STATE();
          await store.storeOAuthState(state, { codeVerifier: VERIFIER });
          const results = await Promise.allSettled(
            Array.from({ length: 20 }, () => store.consumeOAuthState(state)),
          );
          expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
        });

        it('rejects an expired state and consumes it all the same', async () => {
          const { store, clock } = await setup();
          const state = STATE();
          await store.storeOAuthState(state, { codeVerifier: VERIFIER, ttlMs: 1_000 });
          clock.advance(1_000);
          await expect(store.consumeOAuthState(state)).rejects.toThrow(/expired/);
          await expect(store.consumeOAuthState(state)).rejects.toThrow(/unknown, expired or already used/);
        });

        it('rejects a state presented by another session (or none) and consumes it all the same', async () => {
          const { store } = await setup();
          const state = STATE();
          await store.storeOAuthState(state, { codeVerifier: VERIFIER, sessionId: 'browser-1' });
          await expect(store.consumeOAuthState(state, 'browser-2')).rejects.toThrow(/does not belong/);
          await expect(store.consumeOAuthState(state, 'browser-1')).rejects.toBeInstanceOf(InvalidInputError);
          const other = STATE();
          await store.storeOAuthState(other, { codeVerifier: VERIFIER, sessionId: 'browser-1' });
          await expect(store.consumeOAuthState(other)).rejects.toThrow(/does not belong/);
        });

        it('refuses weak states and malformed verifiers', async () => {
          const { store } = await setup();
          await expect(store.storeOAuthState('short', { codeVerifier: VERIFIER })).rejects.toBeInstanceOf(
            InvalidInputError,
          );
          await expect(store.storeOAuthState(STATE(), { codeVerifier: 'too-short' })).rejects.toBeInstanceOf(
            InvalidInputError,
          );
          await expect(store.consumeOAuthState('')).rejects.toBeInstanceOf(InvalidInputError);
        });
      });

      describe('getCredentialsWithValidation', () => {
        async function signedIn() {
          const context = await setup();
          await context.store.storeSession('alice@example.com', { mcpSessionId: 'mcp-alice' });
          await context.store.storeSession('bob@example.com', { mcpSessionId: 'mcp-bob' });
          return context;
        }

        it('allows a verified token user to reach only their own credentials', async () => {
          const { store } = await signedIn();
          await expect(
            store.getCredentialsWithValidation({
              requestedUser: 'Alice@example.com',
              tokenUser: 'alice@example.com',
            }),
          ).resolves.toMatchObject({ userId: 'alice@example.com', via: 'token' });
          const error = await store
            .getCredentialsWithValidation({
              requestedUser: 'bob@example.com',
              tokenUser: 'alice@example.com',
            })
            .catch((e: unknown) => e);
          expect(error).toBeInstanceOf(AccessDeniedError);
          expect((error as AccessDeniedError).reason).toBe('token-user-mismatch');
        });

        it("denies a token user presenting another user's MCP session", async () => {
          const { store } = await signedIn();
          await expect(
            store.getCredentialsWithValidation({
              requestedUser: 'alice@example.com',
              tokenUser: 'alice@example.com',
              mcpSessionId: 'mcp-bob',
            }),
          ).rejects.toMatchObject({ reason: 'session-bound-to-other-user' });
        });

        it('allows a bound MCP session only for its own user', async () => {
          const { store } = await signedIn();
          await expect(
            store.getCredentialsWithValidation({ requestedUser: 'bob@example.com', mcpSessionId: 'mcp-bob' }),
          ).resolves.toMatchObject({ userId: 'bob@example.com', via: 'mcp-session' });
          await expect(
            store.getCredentialsWithValidation({
              requestedUser: 'alice@example.com',
              mcpSessionId: 'mcp-bob',
            }),
          ).rejects.toMatchObject({ reason: 'session-bound-to-other-user' });
        });

        it('never lets an unbound session or an anonymous request through', async () => {
          const { store } = await signedIn();
          await expect(
            store.getCredentialsWithValidation({
              requestedUser: 'alice@example.com',
              mcpSessionId: 'mcp-unknown',
            }),
          ).rejects.toMatchObject({ reason: 'unbound-session' });
          await expect(
            store.getCredentialsWithValidation({ requestedUser: 'alice@example.com' }),
          ).rejects.toMatchObject({
            reason: 'no-identity',
          });
        });

        it('denies a user without a session, and refuses malformed ids', async () => {
          const { store } = await signedIn();
          await expect(
            store.getCredentialsWithValidation({
              requestedUser: 'carol@example.com',
              tokenUser: 'carol@example.com',
            }),
          ).rejects.toMatchObject({ reason: 'no-session' });
          await expect(
            store.getCredentialsWithValidation({
              requestedUser: '../etc/passwd',
              tokenUser: '../etc/passwd',
            }),
          ).rejects.toBeInstanceOf(InvalidInputError);
          await expect(
            store.getCredentialsWithValidation({
              requestedUser: 'alice@example.com',
              tokenUser: 'not an email',
            }),
          ).rejects.toMatchObject({ reason: 'invalid-token-user' });
        });
      });

      it('reports counts only', async () => {
        const { store } = await setup();
        await store.storeSession('alice@example.com', { mcpSessionId: 'mcp-1' });
        await store.issueBearerToken('alice@example.com');
        await store.storeOAuthState(STATE(), { codeVerifier: VERIFIER });
        const stats = await store.stats();
        expect(stats).toEqual({ sessions: 1, mcpBindings: 1, bearerTokens: 1, oauthStates: 1 });
      });

      it('never shows a token, state or verifier in errors, logs, toJSON or inspect output', async () => {
        const { store, log, backend } = await setup();
        await store.storeSession('alice@example.com', { mcpSessionId: 'mcp-1' });
        const { token } = await store.issueBearerToken('alice@example.com');
        const state = STATE();
        const verifier = 'w'.repeat(43);
        await store.storeOAuthState(state, { codeVerifier: verifier, sessionId: 'browser-1' });
        const errors: unknown[] = [];
        const attempts = [
          () => store.consumeOAuthState(state, 'browser-2'),
          () => store.consumeOAuthState(state, 'browser-1'),
          () => store.verifyBearerToken(`${token}x`),
          () => store.bindMcpSession('mcp-1', 'bob@example.com'),
          () =>
            store.getCredentialsWithValidation({
              requestedUser: 'bob@example.com',
              tokenUser: 'alice@example.com',
            }),
        ];
        for (const attempt of attempts) errors.push(await attempt().catch((e: unknown) => e));
        await store.revokeBearerToken(token);
        await expect(store.verifyBearerToken(token)).rejects.toBeInstanceOf(InvalidTokenError);
        const texts = [
          ...log.lines,
          inspect(store, { depth: 10, showHidden: true }),
          JSON.stringify(store),
          inspect(backend, { depth: 3 }),
          ...errors.map(
            (error) => `${String(error)} ${JSON.stringify(error)} ${inspect(error, { depth: 5 })}`,
          ),
        ];
        for (const text of texts) {
          expect(text).not.toContain(token);
          expect(text).not.toContain(token.slice(6, 30));
          expect(text).not.toContain(state);
          expect(text).not.toContain(verifier);
        }
      });

      it('holds tokens, states and session ids only as hashes', async () => {
        const clock = new FakeClock();
        const inner = await f.create(clock);
        const written: string[] = [];
        const spy: SessionBackend = new Proxy(inner, {
          get(target, property, receiver) {
            const value = Reflect.get(target, property, receiver);
            if (typeof value !== 'function') return value;
            return (...args: unknown[]) => {
              written.push(JSON.stringify(args));
              return (value as (...a: unknown[]) => unknown).apply(target, args);
            };
          },
        });
        const store = new OAuth21SessionStore({ backend: spy, clock });
        await store.storeSession('alice@example.com');
        const { token } = await store.issueBearerToken('alice@example.com');
        await store.verifyBearerToken(token);
        const state = STATE();
        await store.storeOAuthState(state, { codeVerifier: VERIFIER, sessionId: 'browser-secret-1' });
        await store.consumeOAuthState(state, 'browser-secret-1');
        const all = written.join('\n');
        expect(all).not.toContain(token);
        expect(all).not.toContain(state);
        expect(all).not.toContain('browser-secret-1');
      });

      it('never returns one user’s token, binding or access to another (random interleavings)', async () => {
        const users = ['u0@example.com', 'u1@example.com', 'u2@example.com'];
        const sessions = ['s0', 's1', 's2', 's3'];
        const op = fc.oneof(
          fc.record({ kind: fc.constant('store' as const), user: fc.nat(2), session: fc.option(fc.nat(3)) }),
          fc.record({ kind: fc.constant('remove' as const), user: fc.nat(2) }),
          fc.record({ kind: fc.constant('bind' as const), user: fc.nat(2), session: fc.nat(3) }),
          fc.record({ kind: fc.constant('issue' as const), user: fc.nat(2) }),
          fc.record({ kind: fc.constant('revoke' as const), token: fc.nat(20) }),
          fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 4_000 }) }),
          fc.record({
            kind: fc.constant('validate' as const),
            requested: fc.nat(2),
            token: fc.option(fc.nat(20)),
            session: fc.option(fc.nat(3)),
          }),
        );
        await fc.assert(
          fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 30 }), async (ops) => {
            const clock = new FakeClock();
            const backend = await f.create(clock);
            const store = new OAuth21SessionStore({
              backend,
              clock,
              bearerTokenTtlMs: 5_000,
              bindingTtlMs: 7_000,
            });
            const tokens: Array<{ token: string; owner: string }> = [];
            const firstOwner = new Map<string, string>(); // session id -> the user whose bind succeeded while live
            const check = async () => {
              for (const { token, owner } of tokens) {
                const info = await store.verifyBearerToken(token).catch(() => undefined);
                if (info) expect(info.extra?.userId).toBe(owner);
              }
              for (const session of sessions) {
                const user = await store.getUserByMcpSession(session);
                if (user !== undefined) expect(user).toBe(firstOwner.get(session));
              }
            };
            for (const step of ops) {
              switch (step.kind) {
                case 'store':
                  await store.storeSession(users[step.user]!);
                  break;
                case 'remove':
                  await store.removeSession(users[step.user]!);
                  for (const [session, owner] of firstOwner)
                    if (owner === users[step.user]) firstOwner.delete(session);
                  break;
                case 'bind': {
                  const user = users[step.user]!;
                  const session = sessions[step.session]!;
                  const before = await store.getUserByMcpSession(session);
                  try {
                    await store.bindMcpSession(session, user);
                    if (before !== undefined) expect(before).toBe(user);
                    firstOwner.set(session, user);
                  } catch (error) {
                    if (!(error instanceof AccessDeniedError || error instanceof NotFoundError)) throw error;
                  }
                  break;
                }
                case 'issue':
                  try {
                    tokens.push({
                      ...(await store.issueBearerToken(users[step.user]!)),
                      owner: users[step.user]!,
                    });
                  } catch (error) {
                    if (!(error instanceof NotFoundError)) throw error;
                  }
                  break;
                case 'revoke':
                  if (tokens[step.token]) await store.revokeBearerToken(tokens[step.token]!.token);
                  break;
                case 'advance':
                  clock.advance(step.ms);
                  break;
                case 'validate': {
                  const requested = users[step.requested]!;
                  const presented = step.token === null ? undefined : tokens[step.token];
                  const tokenUser = presented
                    ? ((await store.verifyBearerToken(presented.token).catch(() => undefined))?.extra
                        ?.userId as string | undefined)
                    : undefined;
                  const mcpSessionId = step.session === null ? undefined : sessions[step.session];
                  const boundTo = mcpSessionId ? await store.getUserByMcpSession(mcpSessionId) : undefined;
                  const access = await store
                    .getCredentialsWithValidation({
                      requestedUser: requested,
                      ...(tokenUser ? { tokenUser } : {}),
                      ...(mcpSessionId ? { mcpSessionId } : {}),
                    })
                    .catch((error: unknown) => {
                      if (!(error instanceof AccessDeniedError)) throw error;
                      return undefined;
                    });
                  if (access) {
                    expect(access.userId).toBe(requested);
                    if (tokenUser) expect(tokenUser).toBe(requested);
                    else expect(boundTo).toBe(requested);
                    if (boundTo !== undefined) expect(boundTo).toBe(requested);
                  }
                  break;
                }
              }
              await check();
            }
          }),
          { numRuns: name === 'memory' ? 150 : 25 },
        );
      }, 120_000);
    },
  );
}
