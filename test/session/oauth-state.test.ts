/**
 * Single-use OAuth states on a real (memory) backend: each refusal by its own test, and what a
 * refusal logs.
 */
import { describe, expect, it } from 'vitest';
import { createPkcePair, InvalidInputError } from '../../src/index.js';
import { MemorySessionBackend } from '../../src/session/memory-backend.js';
import { consumeOAuthState, type OAuthStateContext, storeOAuthState } from '../../src/session/oauth-state.js';
import { FakeClock } from '../support/clock.js';
import { type RecordedLine, recordingLogger } from '../support/recording-logger.js';
import { rejectionOf } from '../support/rejection.js';

const STATE = 'state-0123456789abcdef';

function setup() {
  const clock = new FakeClock();
  const lines: RecordedLine[] = [];
  const context: OAuthStateContext = {
    backend: new MemorySessionBackend({ clock }),
    clock,
    logger: recordingLogger(lines),
    ttlMs: 600_000,
  };
  return { context, clock, lines, verifier: createPkcePair().codeVerifier };
}

describe('storeOAuthState', () => {
  it('keeps only the fields given, and hands them back once', async () => {
    const { context, verifier, clock } = setup();
    await storeOAuthState(context, STATE, { codeVerifier: verifier });
    const data = await consumeOAuthState(context, STATE);
    expect(data).toEqual({
      codeVerifier: verifier,
      createdAt: clock.now(),
      expiresAt: clock.now() + 600_000,
    });
    expect(Object.keys(data).sort()).toEqual(['codeVerifier', 'createdAt', 'expiresAt']);
    await expect(consumeOAuthState(context, STATE)).rejects.toBeInstanceOf(InvalidInputError);
  });

  it('keeps every optional field, a copy of the scopes, and never the session id', async () => {
    const { context, verifier } = setup();
    const scopes = ['openid'];
    await storeOAuthState(context, STATE, {
      codeVerifier: verifier,
      sessionId: 'browser-session-1',
      redirectUri: 'https://app.example.com/cb',
      returnTo: '/done',
      scopes,
      loginHint: 'ada@example.com',
      ttlMs: 1_000,
    });
    scopes.push('mutated');
    const data = await consumeOAuthState(context, STATE, 'browser-session-1');
    expect(data).toMatchObject({
      redirectUri: 'https://app.example.com/cb',
      returnTo: '/done',
      scopes: ['openid'],
      loginHint: 'ada@example.com',
    });
    expect(data.expiresAt - data.createdAt).toBe(1_000);
    expect(JSON.stringify(data)).not.toContain('browser-session-1');
    expect(Object.keys(data)).not.toContain('sessionIdHash');
  });

  it.each([
    ['a malformed state', 'short', {}],
    ['a malformed PKCE verifier', STATE, { codeVerifier: 'too-short' }],
    ['a hostile session id', STATE, { sessionId: 'has spaces in it' }],
    ['a zero lifetime', STATE, { ttlMs: 0 }],
  ])('refuses %s, storing nothing', async (_label, state, change) => {
    const { context, verifier } = setup();
    const error = await rejectionOf(storeOAuthState(context, state, { codeVerifier: verifier, ...change }));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(await context.backend.get('state', 'anything')).toBeUndefined();
    await storeOAuthState(context, STATE, { codeVerifier: verifier });
    expect((await consumeOAuthState(context, STATE)).codeVerifier).toBe(verifier);
  });

  it('refuses a state that is already pending', async () => {
    const { context, verifier } = setup();
    await storeOAuthState(context, STATE, { codeVerifier: verifier });
    const error = await rejectionOf(storeOAuthState(context, STATE, { codeVerifier: verifier }));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toContain('already pending');
  });
});

describe('consumeOAuthState', () => {
  it.each([
    ['not a string', 42],
    ['shorter than 16 characters', 's'.repeat(15)],
    ['longer than 256 characters', 's'.repeat(257)],
  ])('refuses a state that is %s without a lookup or a SECURITY line', async (_label, state) => {
    const { context, lines } = setup();
    const error = await rejectionOf(consumeOAuthState(context, state as string));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(lines).toEqual([]);
  });

  it('an unknown state of a valid shape is refused with a SECURITY warning', async () => {
    const { context, lines } = setup();
    const error = await rejectionOf(consumeOAuthState(context, 's'.repeat(16)));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(lines).toEqual([
      {
        level: 'warn',
        message: 'SECURITY: OAuth callback with an unknown, expired or already used state',
        fields: {},
      },
    ]);
  });

  it('a state of 256 characters is looked up', async () => {
    const { context, verifier } = setup();
    const long = 's'.repeat(256);
    await storeOAuthState(context, long, { codeVerifier: verifier });
    expect((await consumeOAuthState(context, long)).codeVerifier).toBe(verifier);
  });

  it('an expired state is refused at its expiry, even if the backend still holds it', async () => {
    const { context, verifier, clock } = setup();
    const backend = context.backend;
    // A backend that keeps entries past their lifetime (for example one whose clock lags).
    context.backend = {
      ...backend,
      locality: backend.locality,
      set: (namespace, key, value, options) =>
        backend.set(namespace, key, value, { ...options, ttlMs: 10 * 600_000 }),
      take: (namespace, key) => backend.take(namespace, key),
    } as typeof backend;
    await storeOAuthState(context, STATE, { codeVerifier: verifier });
    clock.advance(600_000);
    const error = await rejectionOf(consumeOAuthState(context, STATE));
    expect((error as Error).message).toBe('OAuth state expired; start the authorization again');
  });

  it('a state bound to a browser session is refused to another session or none, with a SECURITY warning', async () => {
    for (const presented of ['other-session', undefined]) {
      const { context, verifier, lines } = setup();
      await storeOAuthState(context, STATE, { codeVerifier: verifier, sessionId: 'browser-session-1' });
      const error = await rejectionOf(consumeOAuthState(context, STATE, presented));
      expect((error as Error).message).toBe('OAuth state does not belong to this session');
      expect(lines).toEqual([
        {
          level: 'warn',
          message: 'SECURITY: OAuth state presented by a different session than the one that started it',
          fields: {},
        },
      ]);
    }
  });

  it('a state not bound to a session is accepted from any session', async () => {
    const { context, verifier } = setup();
    await storeOAuthState(context, STATE, { codeVerifier: verifier });
    expect((await consumeOAuthState(context, STATE, 'any-session')).codeVerifier).toBe(verifier);
  });
});
