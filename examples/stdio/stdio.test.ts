/**
 * The stdio example driven by the official SDK client over StdioClientTransport: from no credentials
 * to a tool result through URL elicitation (the client "opens" the URL by following redirects
 * through the local Google-like provider to the server's loopback listener), an extra scope the same
 * way, a client without elicitation (the server prints the URL and waits), a sign-in nobody finishes
 * (timeout), a declined elicitation, and another Google account refused.
 */
import { once } from 'node:events';
import { mkdtemp, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ElicitationCompleteNotificationSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import { ConfigurationError, MemoryCredentialStore } from 'mcp-oauth-credentials';
import { LocalSignIn } from 'mcp-oauth-credentials/local';
import { CredentialManager } from 'mcp-oauth-credentials/manager';
import { type GoogleLikeProvider, startGoogleLikeProvider, TestBrowser } from 'mcp-oauth-credentials/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const CALENDAR = 'https://www.googleapis.com/auth/calendar.readonly';
type ToolResult = { isError?: boolean; content: Array<{ text?: string }> };

let provider: GoogleLikeProvider;
beforeAll(async () => {
  provider = await startGoogleLikeProvider();
});
afterAll(() => provider.close());
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => {});
});

interface Session {
  client: Client;
  directory: string;
  /** Everything the server wrote to stderr so far. */
  stderr: () => string;
  completions: string[];
  nextCompletion(): Promise<string>;
}

async function start(options: {
  eliciting: boolean;
  env?: Record<string, string>;
  directory?: string;
}): Promise<Session> {
  const directory = options.directory ?? (await mkdtemp(join(tmpdir(), 'mcp-oauth-stdio-')));
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ['--import', 'tsx', 'examples/stdio/server.ts'],
    cwd: root,
    stderr: 'pipe',
    env: {
      PATH: process.env.PATH ?? '',
      HOME: directory,
      GOOGLE_OAUTH_CLIENT_ID: provider.clientId,
      GOOGLE_OAUTH_CLIENT_SECRET: provider.clientSecret,
      OAUTH_ISSUER: provider.issuer,
      CREDENTIAL_STORE: directory,
      OPEN_BROWSER: 'false',
      ...options.env,
    },
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const client = new Client(
    { name: 'stdio-test', version: '1.0.0' },
    options.eliciting ? { capabilities: { elicitation: { url: {} } } } : {},
  );
  const completions: string[] = [];
  let waiter: ((id: string) => void) | undefined;
  client.setNotificationHandler(ElicitationCompleteNotificationSchema, (notification) => {
    completions.push(notification.params.elicitationId);
    waiter?.(notification.params.elicitationId);
  });
  await client.connect(transport);
  cleanup.push(() => client.close());
  return {
    client,
    directory,
    stderr: () => stderr,
    completions,
    nextCompletion: () =>
      new Promise((resolve) => {
        waiter = resolve;
      }),
  };
}

async function callOrElicit(client: Client, name: string) {
  try {
    return { result: (await client.callTool({ name, arguments: {} })) as ToolResult };
  } catch (error) {
    if (error instanceof McpError && error.code === -32042) {
      return {
        elicitation: (error.data as { elicitations: Array<{ url: string; elicitationId: string }> })
          .elicitations[0]!,
      };
    }
    throw error;
  }
}

/** The user's browser: from Google's URL through the provider to the server's loopback listener. */
async function openInBrowser(url: string): Promise<{ status: number; html: string }> {
  const { page } = await new TestBrowser().navigate(url);
  return { status: page!.status, html: page!.html };
}

describe('the stdio example with the official client', () => {
  it('no credentials, then a missing scope: each time one tool call, an elicitation, a completion, a result', async () => {
    provider.setDefaultUser('desk@example.com');
    const session = await start({ eliciting: true });
    const first = await callOrElicit(session.client, 'get_profile');
    expect(first.elicitation?.url).toContain(`${provider.url}/authorize`);
    expect(new URL(first.elicitation!.url).searchParams.get('redirect_uri')).toMatch(
      /^http:\/\/127\.0\.0\.1:\d+\/oauth2callback$/,
    );
    const completed = session.nextCompletion();
    expect((await openInBrowser(first.elicitation!.url)).html).toContain('Signed in as desk@example.com');
    expect(await completed).toBe(first.elicitation!.elicitationId);
    const profile = await callOrElicit(session.client, 'get_profile');
    expect(JSON.parse(profile.result!.content[0]!.text!)).toMatchObject({ email: 'desk@example.com' });

    const calendar = await callOrElicit(session.client, 'read_calendar');
    const scopes = new URL(calendar.elicitation!.url).searchParams.get('scope')!.split(' ');
    expect(scopes).toEqual(expect.arrayContaining([CALENDAR]));
    expect(new URL(calendar.elicitation!.url).searchParams.get('include_granted_scopes')).toBe('true');
    const again = session.nextCompletion();
    await openInBrowser(calendar.elicitation!.url);
    await again;
    const result = await callOrElicit(session.client, 'read_calendar');
    expect(JSON.parse(result.result!.content[0]!.text!)).toMatchObject({
      user: 'desk@example.com',
      calendarAccess: true,
    });
    // google_workspace_mcp's file format, in the shared directory.
    const file = JSON.parse(await readFile(join(session.directory, 'desk@example.com.json'), 'utf8'));
    expect(file).toMatchObject({
      refresh_token: expect.any(String),
      scopes: expect.arrayContaining([CALENDAR]),
    });
    expect(session.stderr()).not.toContain(file.refresh_token);
  });

  it('a client without elicitation: the server prints the URL to stderr and the tool call waits for the browser', async () => {
    provider.setDefaultUser('plain@example.com');
    const session = await start({ eliciting: false });
    const call = session.client.callTool({ name: 'get_profile', arguments: {} }) as Promise<ToolResult>;
    let url: string | undefined;
    for (let i = 0; i < 200 && url === undefined; i++) {
      url = /Sign in with Google to continue: (\S+)/.exec(session.stderr())?.[1];
      if (url === undefined) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(url).toBeDefined();
    await openInBrowser(url!);
    expect(JSON.parse((await call).content[0]!.text!)).toMatchObject({ email: 'plain@example.com' });
  });

  it('a sign-in nobody finishes (no browser here) ends in a tool error when the timeout passes', async () => {
    const session = await start({ eliciting: false, env: { SIGN_IN_TIMEOUT_MS: '400' } });
    const result = (await session.client.callTool({ name: 'get_profile', arguments: {} })) as ToolResult;
    expect(result.isError).toBe(true);
    expect(result.content[0]!.text).toMatch(/sign-in was not completed within/);
    expect(session.stderr()).toMatch(/Sign in with Google to continue: http/);
  });

  it('a declined elicitation leaves nothing behind; the next call starts afresh (the old listener is closed)', async () => {
    provider.setDefaultUser('declines@example.com');
    const session = await start({ eliciting: true });
    const declined = await callOrElicit(session.client, 'get_profile');
    const oldCallback = new URL(declined.elicitation!.url).searchParams.get('redirect_uri')!;
    const retry = await callOrElicit(session.client, 'get_profile');
    expect(retry.elicitation!.url).not.toBe(declined.elicitation!.url);
    // The old loopback listener is closed: the connection is refused.
    await expect(fetch(`${oldCallback}?state=x&code=y`)).rejects.toThrow(TypeError);
    expect(session.completions).toEqual([]);
  });

  it('another Google account at the incremental sign-in is refused; nothing changes', async () => {
    provider.setDefaultUser('owner@example.com');
    const session = await start({ eliciting: true });
    const first = await callOrElicit(session.client, 'get_profile');
    const signedIn = session.nextCompletion();
    await openInBrowser(first.elicitation!.url);
    await signedIn;
    provider.setUserClaims('owner@example.com', { sub: '424242424242' });
    try {
      const more = await callOrElicit(session.client, 'read_calendar');
      const answer = await openInBrowser(more.elicitation!.url);
      expect(answer.status).toBe(403);
      const file = JSON.parse(await readFile(join(session.directory, 'owner@example.com.json'), 'utf8'));
      expect(file.scopes).not.toContain(CALENDAR);
      expect((await callOrElicit(session.client, 'read_calendar')).elicitation).toBeDefined();
    } finally {
      provider.setUserClaims('owner@example.com', { sub: undefined });
    }
  });
});

describe('LocalSignIn', () => {
  it('refuses a fixed port that is taken with ConfigurationError naming the fix', async () => {
    const blocker = createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const port = (blocker.address() as { port: number }).port;
    try {
      const manager = new CredentialManager({
        store: new MemoryCredentialStore(),
        oauth: provider.oauthOptions(),
      });
      const error = await new LocalSignIn({ manager, port }).begin().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as ConfigurationError).hint).toMatch(/port 0/);
    } finally {
      blocker.close();
    }
  });

  it('without a browser (the opener fails) prints the URL and says so, on stderr only', async () => {
    const manager = new CredentialManager({
      store: new MemoryCredentialStore(),
      oauth: provider.oauthOptions(),
    });
    let printed = '';
    const signIn = new LocalSignIn({
      manager,
      timeoutMs: 200,
      openBrowser: async () => {
        throw new Error('xdg-open: not found');
      },
      output: { write: (text: string) => (printed += text) },
    });
    await expect(signIn.signIn()).rejects.toThrow(/not completed within/);
    expect(printed).toMatch(/Sign in with Google to continue: http:\/\/127\.0\.0\.1:\d+\/authorize/);
    expect(printed).toContain('No browser could be opened here');
  });

  it('answers nothing but its own callback, and only on 127.0.0.1', async () => {
    const manager = new CredentialManager({
      store: new MemoryCredentialStore(),
      oauth: provider.oauthOptions(),
    });
    const pending = await new LocalSignIn({ manager }).begin();
    const callback = new URL(new URL(pending.url).searchParams.get('redirect_uri')!);
    expect(callback.hostname).toBe('127.0.0.1');
    expect((await fetch(`${callback.origin}/`)).status).toBe(404);
    expect((await fetch(`${callback.href}?state=forged&code=x`)).status).toBe(404);
    pending.cancel();
    await expect(pending.completion).rejects.toThrow(/cancelled/);
  });
});
