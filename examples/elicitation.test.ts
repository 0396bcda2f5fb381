/**
 * A tool that needs a Google scope the user has not granted (or a user with no credentials at all),
 * from one tool call to a successful result through the official client's URL elicitation: the
 * server answers -32042 with a single-use connect link, the user's browser opens it and grants the
 * scope at the (local) provider, the server sends notifications/elicitation/complete, the client
 * retries. Over the example server in bearer mode and in MCP-authorization mode, plus clients without
 * elicitation, a replayed or expired link, and a callback as another Google account.
 */
import { randomBytes } from 'node:crypto';
import {
  Client as V2Client,
  StreamableHTTPClientTransport as V2Transport,
  type UrlElicitationRequiredError as V2UrlElicitationRequiredError,
} from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  ElicitationCompleteNotificationSchema,
  ErrorCode,
  McpError,
  UrlElicitationRequiredError,
} from '@modelcontextprotocol/sdk/types.js';
import { MemoryCredentialStore } from 'mcp-oauth-credentials';
import { type GoogleLikeProvider, startGoogleLikeProvider, TestBrowser } from 'mcp-oauth-credentials/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExampleServer } from './express/server.js';
import { startExpressV2Server } from './express-v2/server.js';
import { CALENDAR_READONLY, type ExampleServer } from './shared/core.js';
import { browserSignIn } from './support/browser.js';
import { connectWithOAuth, TestOAuthClientProvider } from './support/oauth-client.js';

const ELICITING = { capabilities: { elicitation: { url: {} } } };

type ToolResult = { isError?: boolean; content: Array<{ text?: string }> };

/** Calls the tool; when the server asks for URL elicitation, returns the request instead. */
async function callOrElicit(client: Client, name: string) {
  try {
    return { result: (await client.callTool({ name, arguments: {} })) as ToolResult };
  } catch (error) {
    if (error instanceof UrlElicitationRequiredError) return { elicitation: error.elicitations[0]! };
    if (error instanceof McpError && error.code === ErrorCode.UrlElicitationRequired) {
      return {
        elicitation: (error.data as { elicitations: Array<{ url: string; elicitationId: string }> })
          .elicitations[0]!,
      };
    }
    throw error;
  }
}

/** Resolves with the id of the next completion notification the client receives. */
function nextCompletion(client: Client): Promise<string> {
  return new Promise((resolve) => {
    client.setNotificationHandler(ElicitationCompleteNotificationSchema, (notification) => {
      resolve(notification.params.elicitationId);
    });
  });
}

/** What the user's browser does with the link: follow it through the provider and back. */
async function openInBrowser(url: string, browser = new TestBrowser()) {
  const { page } = await browser.navigate(url, () => false, { headers: { accept: 'application/json' } });
  return { status: page!.status, body: JSON.parse(page!.html) as Record<string, unknown> };
}

describe('incremental authorization through URL elicitation (example server)', () => {
  let provider: GoogleLikeProvider;
  let bearer: ExampleServer;
  let oauth: ExampleServer;
  const store = new MemoryCredentialStore();
  const clock = { offsetMs: 0, now: () => Date.now() + clock.offsetMs };
  beforeAll(async () => {
    provider = await startGoogleLikeProvider();
    const common = {
      ...provider.clientSettings(),
      port: 0,
      store,
      clock,
      authRateLimit: false,
      serverSecret: randomBytes(32).toString('base64url'),
    };
    bearer = await startExampleServer(common);
    oauth = await startExampleServer({ ...common, authMode: 'oauth' });
  });
  afterAll(async () => {
    await bearer.close();
    await oauth.close();
    await provider.close();
  });

  async function bearerClient(
    user: string,
    capabilities: ConstructorParameters<typeof Client>[1] = ELICITING,
  ) {
    const signed = await browserSignIn(bearer.url, user);
    const client = new Client({ name: 'eliciting-client', version: '1.0.0' }, capabilities);
    await client.connect(
      new StreamableHTTPClientTransport(new URL(bearer.mcpUrl), {
        requestInit: { headers: { authorization: `Bearer ${signed.body.access_token}` } },
      }),
    );
    return client;
  }

  it('bearer mode: a missing scope becomes a -32042 link; after the grant the client is told and the retry succeeds', async () => {
    const user = 'calendar@example.com';
    const client = await bearerClient(user);
    const first = await callOrElicit(client, 'read_calendar');
    expect(first.elicitation, JSON.stringify(first.result)).toBeDefined();
    const { url, elicitationId } = first.elicitation!;
    expect(new URL(url).pathname).toBe('/auth/connect');
    const completed = nextCompletion(client);
    const granted = await openInBrowser(url);
    expect(granted).toMatchObject({ status: 200, body: { user_id: user, connected: true } });
    expect(await completed).toBe(elicitationId);
    const retry = await callOrElicit(client, 'read_calendar');
    expect(JSON.parse(retry.result!.content[0]!.text!)).toMatchObject({ user, calendarAccess: true });
    const stored = (await store.get(user))!.credentials;
    expect(stored.scopes).toEqual(expect.arrayContaining([CALENDAR_READONLY, 'profile']));
    expect(stored.refreshToken).toBeTruthy();
    // Granted now: the next call asks for nothing.
    expect((await callOrElicit(client, 'read_calendar')).result?.isError).toBeFalsy();
    await client.close();
  });

  it('bearer mode: a user whose credentials are gone connects again through the same flow', async () => {
    const user = 'reconnect@example.com';
    const client = await bearerClient(user);
    await store.delete(user);
    clock.offsetMs += 3_600_000; // the cached access token expired: the manager reads the store first
    const first = await callOrElicit(client, 'get_profile');
    expect(first.elicitation).toBeDefined();
    const completed = nextCompletion(client);
    expect((await openInBrowser(first.elicitation!.url)).status).toBe(200);
    await completed;
    const retry = await callOrElicit(client, 'get_profile');
    expect(JSON.parse(retry.result!.content[0]!.text!)).toMatchObject({ email: user });
    await client.close();
  });

  it('MCP-authorization mode: the same flow for a client that logged in by itself', async () => {
    const user = 'oauth-calendar@example.com';
    provider.setDefaultUser(user);
    const { client } = await connectWithOAuth(
      oauth.mcpUrl,
      new TestOAuthClientProvider('eliciting'),
      ELICITING,
    );
    const first = await callOrElicit(client, 'read_calendar');
    expect(first.elicitation).toBeDefined();
    const completed = nextCompletion(client);
    expect((await openInBrowser(first.elicitation!.url)).status).toBe(200);
    expect(await completed).toBe(first.elicitation!.elicitationId);
    const retry = await callOrElicit(client, 'read_calendar');
    expect(JSON.parse(retry.result!.content[0]!.text!)).toMatchObject({ user, calendarAccess: true });
    await client.close();
  });

  it('SDK v2: the v2 client and server (2025-11-25) go through the same flow', async () => {
    const user = 'v2-calendar@example.com';
    const server = await startExpressV2Server({
      ...provider.clientSettings(),
      port: 0,
      store,
      clock,
      authRateLimit: false,
      serverSecret: randomBytes(32).toString('base64url'),
    });
    try {
      const signed = await browserSignIn(server.url, user);
      const client = new V2Client({ name: 'v2-eliciting', version: '1.0.0' }, ELICITING);
      await client.connect(
        new V2Transport(new URL(server.mcpUrl), {
          requestInit: { headers: { authorization: `Bearer ${signed.body.access_token}` } },
        }),
      );
      const completed = new Promise<string>((resolve) =>
        client.setNotificationHandler('notifications/elicitation/complete', (notification) =>
          resolve(notification.params.elicitationId),
        ),
      );
      const elicitation = await client.callTool({ name: 'read_calendar', arguments: {} }).then(
        () => undefined,
        (error: unknown) => (error as V2UrlElicitationRequiredError).elicitations?.[0],
      );
      expect(elicitation?.url).toMatch(/\/auth\/connect\?t=/);
      expect((await openInBrowser(elicitation!.url)).status).toBe(200);
      expect(await completed).toBe(elicitation!.elicitationId);
      const retry = (await client.callTool({ name: 'read_calendar', arguments: {} })) as ToolResult;
      expect(JSON.parse(retry.content[0]!.text!)).toMatchObject({ user, calendarAccess: true });
      await client.close();
    } finally {
      await server.close();
    }
  });

  it('a client without URL elicitation gets the link in the tool error, and it works the same', async () => {
    const user = 'plain-client@example.com';
    const client = await bearerClient(user, {});
    const first = await callOrElicit(client, 'read_calendar');
    expect(first.result?.isError).toBe(true);
    const url = /https?:\/\/\S+\/auth\/connect\?t=\S+/.exec(first.result!.content[0]!.text!)?.[0];
    expect(url).toBeDefined();
    expect((await openInBrowser(url!)).status).toBe(200);
    const retry = await callOrElicit(client, 'read_calendar');
    expect(retry.result?.isError).toBeFalsy();
    await client.close();
  });

  it('a link works once, expires within minutes, and refuses another Google account', async () => {
    const user = 'guarded@example.com';
    const client = await bearerClient(user);
    const link = async () => (await callOrElicit(client, 'read_calendar')).elicitation!.url;

    const once = await link();
    expect((await openInBrowser(once)).status).toBe(200);
    // granted: ask for another link by removing the scope again
    const record = (await store.get(user))!;
    clock.offsetMs += 3_600_000; // the cached token expired: the narrowed (fresh) record is read
    await store.put(user, {
      ...record.credentials,
      scopes: ['openid', 'email', 'profile'],
      expiresAt: clock.now() + 3_600_000,
    });
    const replayed = await openInBrowser(once);
    expect(replayed.status).toBe(400);
    expect(replayed.body.error_description).toMatch(/already used|not valid/);

    const expiring = await link();
    clock.offsetMs += 5 * 60 * 1000 + 1;
    const expired = await openInBrowser(expiring);
    expect(expired.status).toBe(400);
    expect(expired.body.error_description).toMatch(/expired/);

    // The address now signs in as another Google account (another sub): refused, nothing stored.
    const substituted = await link();
    provider.setUserClaims(user, { sub: '999999999999' });
    try {
      const answer = await openInBrowser(substituted);
      expect(answer.status).toBe(403);
      expect((await store.get(user))!.credentials.scopes).not.toContain(CALENDAR_READONLY);
    } finally {
      provider.setUserClaims(user, { sub: undefined });
    }
    await client.close();
  });
});
