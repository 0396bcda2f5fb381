/**
 * The MCP session guard's own rules, on the session store it is given: a request that presents an
 * MCP session id passes only when that session is bound to its own verified user; everything else is
 * the MCP "Session not found" 404 with one warning naming the reason (never a token).
 */
import { describe, expect, it } from 'vitest';
import type { AuthInfo } from '../../src/auth-info.js';
import { createMcpSessionGuard } from '../../src/http/index.js';
import { AccessDeniedError } from '../../src/index.js';
import { OAuth21SessionStore } from '../../src/session/index.js';
import { type RecordedLine, recordingLogger } from '../support/recording-logger.js';

const auth = (userId: unknown): AuthInfo => ({
  token: 'mcpoc_secret-token',
  clientId: 'client-1',
  scopes: [],
  extra: { userId },
});

async function setup() {
  const sessionStore = new OAuth21SessionStore();
  const lines: RecordedLine[] = [];
  const guard = createMcpSessionGuard({ sessionStore, logger: recordingLogger(lines) });
  await sessionStore.storeSession('alice@example.com', { mcpSessionId: 'mcp-alice' });
  await sessionStore.storeSession('bob@example.com', { mcpSessionId: 'mcp-bob' });
  return { sessionStore, guard, lines };
}

async function expectSessionNotFound(response: Response | undefined): Promise<void> {
  expect(response?.status).toBe(404);
  expect(await response!.json()).toEqual({
    jsonrpc: '2.0',
    error: { code: -32001, message: 'Session not found' },
    id: null,
  });
}

describe('createMcpSessionGuard', () => {
  it('lets through a request without an MCP session id, verified or not', async () => {
    const { guard, lines } = await setup();
    expect(await guard.check(undefined, undefined)).toBeUndefined();
    expect(await guard.check(null, auth('alice@example.com'))).toBeUndefined();
    expect(lines).toEqual([]);
  });

  it('lets through a session bound to the verified user', async () => {
    const { guard, lines } = await setup();
    expect(await guard.check('mcp-alice', auth('alice@example.com'))).toBeUndefined();
    expect(lines).toEqual([]);
  });

  it('refuses a session bound to another user, naming the reason and the caller, not the token', async () => {
    const { guard, lines } = await setup();
    await expectSessionNotFound(await guard.check('mcp-bob', auth('alice@example.com')));
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'warn',
        fields: { userId: 'alice@example.com', clientId: 'client-1', reason: 'session-bound-to-other-user' },
      }),
    ]);
    expect(JSON.stringify(lines)).not.toContain('secret-token');
  });

  it('refuses a session bound to nobody', async () => {
    const { guard, lines } = await setup();
    await expectSessionNotFound(await guard.check('mcp-unknown', auth('alice@example.com')));
    expect(lines.map((line) => line.fields.reason)).toEqual(['unbound-session']);
  });

  it('refuses any session id without a verified user, even an unbound one', async () => {
    const { guard, lines } = await setup();
    await expectSessionNotFound(await guard.check('mcp-unknown', undefined));
    await expectSessionNotFound(await guard.check('mcp-alice', undefined));
    // A user id that is not a string is no verified user either.
    await expectSessionNotFound(await guard.check('mcp-unknown', auth(undefined)));
    await expectSessionNotFound(await guard.check('mcp-alice', auth(['alice@example.com'])));
    await expectSessionNotFound(await guard.check('mcp-unknown', { token: 't', clientId: 'c', scopes: [] }));
    expect(lines.map((line) => line.fields.reason)).toEqual(Array(5).fill('unauthenticated'));
  });

  it('refuses a session whose user signed out (and so lost the binding)', async () => {
    const { sessionStore, guard } = await setup();
    await sessionStore.removeSession('alice@example.com');
    await expectSessionNotFound(await guard.check('mcp-alice', auth('alice@example.com')));
  });

  it('binds a new session to the verified user only, first binding wins, and forgets it on unbind', async () => {
    const { sessionStore, guard } = await setup();
    for (const unverified of [undefined, auth(42)]) {
      const error = await guard.bind('mcp-new', unverified).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AccessDeniedError);
      expect((error as AccessDeniedError).reason).toBe('no-verified-user');
    }
    expect(await sessionStore.getUserByMcpSession('mcp-new')).toBeUndefined();
    await guard.bind('mcp-new', auth('alice@example.com'));
    expect(await sessionStore.getUserByMcpSession('mcp-new')).toBe('alice@example.com');
    await expect(guard.bind('mcp-new', auth('bob@example.com'))).rejects.toBeInstanceOf(AccessDeniedError);
    await guard.unbind('mcp-new');
    expect(await sessionStore.getUserByMcpSession('mcp-new')).toBeUndefined();
  });

  it('is silent without a logger', async () => {
    const sessionStore = new OAuth21SessionStore();
    const guard = createMcpSessionGuard({ sessionStore });
    await expectSessionNotFound(await guard.check('mcp-x', undefined));
  });
});
