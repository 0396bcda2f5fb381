/**
 * The tool helper's scope checks: a grant that covers a tool's scopes costs nothing more (no store
 * or provider request); a missing scope is AuthorizationRequiredError with a link for exactly the
 * missing ones (with `connect`), else AccessDeniedError; the link names the user's Google account.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSignInHandlers, createToolAuth } from '../../src/http/index.js';
import {
  AccessDeniedError,
  AuthorizationRequiredError,
  MemoryCredentialStore,
  type StoreOperationEvent,
} from '../../src/index.js';
import { CredentialManager } from '../../src/manager/index.js';
import { OAuth21SessionStore } from '../../src/session/index.js';
import { type GoogleLikeProvider, startGoogleLikeProvider } from '../../src/testing/index.js';
import { REDIRECT_URI, signIn } from '../support/oauth.js';

const DRIVE = 'https://www.googleapis.com/auth/drive.readonly';
const CALENDAR = 'https://www.googleapis.com/auth/calendar.readonly';
let provider: GoogleLikeProvider;
beforeAll(async () => {
  provider = await startGoogleLikeProvider();
});
afterAll(() => provider.close());

async function setup(withConnect: boolean) {
  const events: StoreOperationEvent[] = [];
  const store = new MemoryCredentialStore({ onOperation: (event) => events.push(event) });
  const sessionStore = new OAuth21SessionStore();
  const manager = new CredentialManager({ store, sessionStore, oauth: provider.oauthOptions(REDIRECT_URI) });
  const user = `tool-${randomBytes(4).toString('hex')}@example.com`;
  await signIn(manager, provider, user); // openid, email, drive.readonly
  await sessionStore.storeSession(user, { mcpSessionId: `mcp-${user}` });
  const signInHandlers = createSignInHandlers({
    manager,
    sessionStore,
    redirectUri: REDIRECT_URI,
    serverSecret: randomBytes(32).toString('base64url'),
    connectUrl: 'https://mcp.example.com/auth/connect',
  });
  const toolAuth = createToolAuth({
    manager,
    sessionStore,
    ...(withConnect ? { connect: signInHandlers } : {}),
  });
  const extra = {
    authInfo: { token: 't', clientId: 'c', scopes: [], extra: { userId: user } },
    sessionId: `mcp-${user}`,
  };
  return { toolAuth, extra, events, user, manager };
}

describe('createToolAuth scopes', () => {
  it('a grant that covers the scopes: no store or provider request after the first', async () => {
    const { toolAuth, extra, events } = await setup(true);
    await toolAuth.forRequest(extra, { scopes: [DRIVE, 'email'] });
    const before = events.length;
    provider.resetCounters();
    for (let i = 0; i < 50; i++) await toolAuth.forRequest(extra, { scopes: [DRIVE, 'email'] });
    expect(events.length).toBe(before);
    expect(provider.counters.tokenRequests).toBe(0);
  });

  it('a missing scope: AuthorizationRequiredError with a link for exactly the missing ones', async () => {
    const { toolAuth, extra, user } = await setup(true);
    const error = (await toolAuth
      .forRequest(extra, { scopes: [DRIVE, CALENDAR] })
      .catch((e: unknown) => e)) as AuthorizationRequiredError;
    expect(error).toBeInstanceOf(AuthorizationRequiredError);
    expect(error.scopes).toEqual([CALENDAR]);
    expect(error.userId).toBe(user);
    expect(new URL(error.url).origin + new URL(error.url).pathname).toBe(
      'https://mcp.example.com/auth/connect',
    );
    expect(error.elicitationId).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    // Two requests, two different single-use links.
    const again = (await toolAuth
      .forRequest(extra, { scopes: [CALENDAR] })
      .catch((e: unknown) => e)) as AuthorizationRequiredError;
    expect(again.url).not.toBe(error.url);
  });

  it('without connect: AccessDeniedError (missing-scopes), no link', async () => {
    const { toolAuth, extra } = await setup(false);
    const error = await toolAuth.forRequest(extra, { scopes: [CALENDAR] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AccessDeniedError);
    expect((error as AccessDeniedError).reason).toBe('missing-scopes');
  });
});
