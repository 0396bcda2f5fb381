/**
 * The tool helper's scope checks: a grant that covers a tool's scopes costs nothing more (no store
 * or provider request); a missing scope is AuthorizationRequiredError with a link for exactly the
 * missing ones (with `connect`), else AccessDeniedError; the link names the user's Google account.
 */
import { randomBytes } from 'node:crypto';
import { OAuth2Client } from 'google-auth-library';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ConnectLink,
  type ConnectLinkRequest,
  createSignInHandlers,
  createToolAuth,
  toolErrorMessage,
} from '../../src/http/index.js';
import {
  AccessDeniedError,
  AuthorizationRequiredError,
  ConfigurationError,
  type CredentialStore,
  InvalidInputError,
  MemoryCredentialStore,
  NotFoundError,
  ProviderError,
  ReauthRequiredError,
  StorageForbiddenError,
  StorageUnavailableError,
  type StoreOperationEvent,
} from '../../src/index.js';
import { CredentialManager } from '../../src/manager/index.js';
import { OAuth21SessionStore } from '../../src/session/index.js';
import { type GoogleLikeProvider, startGoogleLikeProvider } from '../../src/testing/index.js';
import { REDIRECT_URI, signIn } from '../support/oauth.js';
import { type RecordedLine, recordingLogger } from '../support/recording-logger.js';

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

describe('createToolAuth rules and messages', () => {
  /** A connect stub that records what the tool helper asks a link for (the unit's boundary). */
  function recordingConnect() {
    const requests: ConnectLinkRequest[] = [];
    const connect = {
      connectLink: async (request: ConnectLinkRequest): Promise<ConnectLink> => {
        requests.push(request);
        return {
          url: `https://mcp.example.com/auth/connect?t=${requests.length}`,
          elicitationId: `e${requests.length}`,
          expiresAt: 0,
        };
      },
    };
    return { connect, requests };
  }

  it('refuses a request that carries no verified user, in v1 and v2 shapes', async () => {
    const { toolAuth } = await setup(true);
    for (const extra of [
      {},
      { http: {} },
      { authInfo: { token: 't', clientId: 'c', scopes: [] } },
      { authInfo: { token: 't', clientId: 'c', scopes: [], extra: { userId: 42 } } },
      { http: { authInfo: { token: 't', clientId: 'c', scopes: [], extra: {} } } },
    ]) {
      const error = await toolAuth.forRequest(extra).catch((e: unknown) => e);
      expect(error, JSON.stringify(extra)).toBeInstanceOf(AccessDeniedError);
      expect((error as Error).message).toBe('this request carries no verified user');
      expect((error as AccessDeniedError).reason).toBe('no-verified-user');
    }
  });

  it('takes the verified user from a v2 ctx (http.authInfo) too', async () => {
    const { toolAuth, extra, user } = await setup(true);
    const context = await toolAuth.forRequest({
      http: { authInfo: extra.authInfo },
      sessionId: extra.sessionId,
    });
    expect(context.userId).toBe(user);
    const client = await context.client;
    expect(client).toBeInstanceOf(OAuth2Client);
    expect(await context.client).toBe(client); // built once
  });

  it('asks a link for the missing scopes with the Google account and MCP session; for no credentials, sign-in scopes and the cause', async () => {
    const { manager, extra, user } = await setup(true);
    const sessionStore = new OAuth21SessionStore();
    await sessionStore.storeSession(user, { mcpSessionId: extra.sessionId });
    const { connect, requests } = recordingConnect();
    const toolAuth = createToolAuth({ manager, sessionStore, connect });
    const subject = (await manager.getValidCredentials(user)).subject;
    const missing = (await toolAuth
      .forRequest(extra, { scopes: [CALENDAR] })
      .catch((e: unknown) => e)) as AuthorizationRequiredError;
    expect(missing.message).toBe(`this tool needs more Google access from ${user}: ${CALENDAR}`);
    expect(missing.cause).toBeUndefined();
    expect(requests[0]).toStrictEqual({
      userId: user,
      scopes: [CALENDAR],
      subject,
      mcpSessionId: extra.sessionId,
    });

    const newcomer = 'newcomer@example.com';
    await sessionStore.storeSession(newcomer);
    const noCredentials = (await toolAuth
      .forRequest(
        { authInfo: { token: 't', clientId: 'c', scopes: [], extra: { userId: newcomer } } },
        { scopes: [CALENDAR] },
      )
      .catch((e: unknown) => e)) as AuthorizationRequiredError;
    expect(noCredentials).toBeInstanceOf(AuthorizationRequiredError);
    expect(noCredentials.message).toBe(`connect your Google account (${newcomer}) to use this tool`);
    expect(noCredentials.cause).toBeInstanceOf(NotFoundError);
    // No Google account and no MCP session known: the request has no such keys at all.
    expect(requests[1]).toStrictEqual({ userId: newcomer, scopes: ['openid', 'email', CALENDAR] });
  });

  it('without connect, a user with no credentials gets the NotFoundError itself, not a link', async () => {
    const { manager, user } = await setup(false);
    const sessionStore = new OAuth21SessionStore();
    const newcomer = 'no-grant@example.com';
    await sessionStore.storeSession(newcomer);
    const error = await createToolAuth({ manager, sessionStore })
      .forRequest({ authInfo: { token: 't', clientId: 'c', scopes: [], extra: { userId: newcomer } } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as NotFoundError).userId).toBe(newcomer);
    expect(user).not.toBe(newcomer);
  });

  it('logs a failure it is the first to see (a connect link that could not be made) once, at warn, as tool-auth', async () => {
    const { manager, extra, user } = await setup(false);
    const sessionStore = new OAuth21SessionStore();
    await sessionStore.storeSession(user, { mcpSessionId: extra.sessionId });
    const lines: RecordedLine[] = [];
    const connect = {
      connectLink: async (): Promise<ConnectLink> => {
        throw new StorageUnavailableError('the state store is down (simulated)');
      },
    };
    const toolAuth = createToolAuth({ manager, sessionStore, connect, logger: recordingLogger(lines) });
    const error = await toolAuth.forRequest(extra, { scopes: [CALENDAR] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageUnavailableError);
    expect(lines).toHaveLength(1);
    expect(lines[0]?.level).toBe('warn');
    expect(lines[0]?.fields).toMatchObject({
      component: 'tool-auth',
      operation: 'forRequest',
      userId: user,
      code: 'STORAGE_UNAVAILABLE',
    });
  });

  it('never turns a storage outage into a connect link', async () => {
    const { extra, user } = await setup(true);
    const sessionStore = new OAuth21SessionStore();
    await sessionStore.storeSession(user, { mcpSessionId: extra.sessionId });
    const down: CredentialStore = {
      get: async () => {
        throw new StorageUnavailableError('the store is down (simulated)');
      },
      put: async () => 'v',
      delete: async () => false,
      async *list() {},
    };
    const manager = new CredentialManager({
      store: down,
      sessionStore,
      oauth: provider.oauthOptions(REDIRECT_URI),
    });
    const { connect, requests } = recordingConnect();
    const error = await createToolAuth({ manager, sessionStore, connect })
      .forRequest(extra)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageUnavailableError);
    expect(requests).toEqual([]);
  });

  it('without connect, names the user and the reason of a missing scope', async () => {
    const { toolAuth, extra, user } = await setup(false);
    const error = (await toolAuth
      .forRequest(extra, { scopes: [CALENDAR] })
      .catch((e: unknown) => e)) as AccessDeniedError;
    expect(error.userId).toBe(user);
    expect(error.reason).toBe('missing-scopes');
  });

  it('tells the MCP client what happened and what to do, never a token', () => {
    const url = 'https://mcp.example.com/auth/start';
    expect(toolErrorMessage(new NotFoundError('x'))).toBe(
      'Google authorization is needed for this account. Sign in again.',
    );
    expect(toolErrorMessage(new ReauthRequiredError('x'), url)).toBe(
      `Google authorization is needed for this account. Sign in again at ${url}.`,
    );
    expect(toolErrorMessage(new AccessDeniedError('x'))).toBe('This request may not use these credentials.');
    expect(toolErrorMessage(new InvalidInputError('the sign-in expired'))).toBe(
      'The sign-in expired. Try again.',
    );
    expect(toolErrorMessage(new StorageUnavailableError('ya29.secret'))).toBe(
      'Google credentials are temporarily unavailable; try again shortly.',
    );
    expect(toolErrorMessage(new StorageForbiddenError('x'))).toBe(
      'Google credentials are temporarily unavailable; try again shortly.',
    );
    expect(toolErrorMessage(new ProviderError('x'))).toBe(
      'Google credentials are temporarily unavailable; try again shortly.',
    );
    expect(toolErrorMessage(new ConfigurationError('x'))).toBe(
      'The server could not get Google credentials for this request.',
    );
    expect(toolErrorMessage(new Error('ya29.secret'))).toBe(
      'The server could not get Google credentials for this request.',
    );
    // Anything may be thrown: nothing that is not a credential error is read as one.
    for (const thrown of [undefined, null, 'REAUTH_REQUIRED', { code: 'NOT_FOUND' }]) {
      expect(toolErrorMessage(thrown), String(thrown)).toBe(
        'The server could not get Google credentials for this request.',
      );
    }
    const required = new AuthorizationRequiredError(
      'connect your Google account (a@example.com) to use this tool',
      {
        url: 'https://mcp.example.com/auth/connect?t=1',
        elicitationId: 'e1',
        scopes: [],
      },
    );
    expect(toolErrorMessage(required)).toBe(
      'connect your Google account (a@example.com) to use this tool. Open this link in your browser (it works once and expires in a few minutes), then try again: https://mcp.example.com/auth/connect?t=1',
    );
  });
});
