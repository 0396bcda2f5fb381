/**
 * `npm run demo`: the example MCP server end to end, on embedded defaults, with no cloud account.
 *
 * Starts a Google-like local OAuth provider, the example server with a file store in a temporary
 * directory (`--store s3`: an in-process S3 endpoint), and drives it with the official MCP SDK client:
 * two users sign in and see their own profiles, the clock passes expiry and the next call refreshes
 * once and saves, user B presenting user A's MCP session is refused, user A revokes and is refused
 * afterwards, user B still works. Prints a transcript; exits non-zero if any step fails.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CredentialStore } from 'mcp-oauth-credentials';
import { browserSignIn } from '../support/browser.js';
import { startGoogleLikeProvider } from '../support/google-like-provider.js';
import { connectWithOAuth, TestOAuthClientProvider } from '../support/oauth-client.js';
import { startExampleServer } from './server.js';

export interface DemoStep {
  name: string;
  ok: boolean;
  detail: string;
}

export interface DemoOptions {
  store: 'file' | 's3';
  /** `bearer`: users paste a bearer token; `oauth`: MCP clients log in by themselves (MCP authorization). */
  mode?: 'bearer' | 'oauth';
  /** Receives each step as it completes. Default: print it. */
  report?: (step: DemoStep) => void;
}

/** A clock the demo moves forward (the server's notion of now; nobody waits). */
class DemoClock {
  offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
}

interface McpUser {
  client: Client;
  transport: StreamableHTTPClientTransport;
}

async function connect(mcpUrl: string, token: string, sessionId?: string): Promise<McpUser> {
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
    ...(sessionId === undefined ? {} : { sessionId }),
  });
  const client = new Client({ name: 'mcp-oauth-credentials-demo', version: '1.0.0' });
  await client.connect(transport);
  return { client, transport };
}

/** The HTTP status and message of an MCP client error, e.g. `404 Session not found`. */
function describeRefusal(error: unknown): string {
  const status = (error as { code?: unknown }).code;
  const text = error instanceof Error ? error.message : String(error);
  const message = /"(?:message|error_description)":"([^"]+)"/.exec(text)?.[1] ?? text.slice(0, 80);
  return typeof status === 'number' ? `${status} ${message}` : message;
}

async function callText(user: McpUser, name: string): Promise<{ isError: boolean; text: string }> {
  const result = (await user.client.callTool({ name, arguments: {} })) as {
    isError?: boolean;
    content: Array<{ type: string; text?: string }>;
  };
  return { isError: result.isError === true, text: result.content.map((part) => part.text ?? '').join('') };
}

interface ScenarioContext {
  step: (name: string, check: () => Promise<string>) => Promise<boolean>;
  expect: (condition: boolean, message: string) => void;
  provider: Awaited<ReturnType<typeof startGoogleLikeProvider>>;
  server: Awaited<ReturnType<typeof startExampleServer>>;
  clock: DemoClock;
  readRaw: (userId: string) => Promise<string>;
}

/** MCP clients that have never seen the server log in by themselves, through the SDK's own OAuth code. */
async function oauthScenario({
  step,
  expect,
  provider,
  server,
  clock,
  readRaw,
}: ScenarioContext): Promise<void> {
  const alice = 'alice@example.com';
  const bob = 'bob@example.com';
  const clients: Record<string, TestOAuthClientProvider> = {};
  const sessions: Record<string, McpUser> = {};

  for (const userId of [alice, bob]) {
    await step(
      `${userId}'s MCP client discovers the server, registers, logs in through Google, and ${userId} approves it on the consent page`,
      async () => {
        provider.setDefaultUser(userId); // who is at the browser's keyboard
        clients[userId] = new TestOAuthClientProvider(`${userId.split('@')[0]}-mcp-client`);
        sessions[userId] = await connectWithOAuth(server.mcpUrl, clients[userId]!);
        const registered = clients[userId]!.clientInformation();
        expect(registered?.client_id !== undefined, 'the client did not register');
        expect(clients[userId]!.savedTokens.length === 1, 'no tokens were saved');
        const raw = JSON.parse(await readRaw(userId)) as { refresh_token?: string };
        expect(typeof raw.refresh_token === 'string', 'Google credentials were not stored');
        const consent = clients[userId]!.browser.visited.find((url) => url.pathname === '/oauth/consent');
        expect(consent !== undefined, 'no consent page was shown');
        return `registered as ${registered!.client_id.slice(0, 8)}…; consent page shown and approved; got an access and a refresh token; Google credentials stored`;
      },
    );
    await step(`${userId} calls get_profile and sees their own email`, async () => {
      const profile = await callText(sessions[userId]!, 'get_profile');
      expect(!profile.isError && JSON.parse(profile.text).email === userId, profile.text);
      return profile.text;
    });
  }

  await step(
    "an hour passes: the client refreshes its own token; the server refreshes Google's once",
    async () => {
      provider.resetCounters();
      clock.offsetMs += 61 * 60 * 1000;
      const profile = await callText(sessions[alice]!, 'get_profile');
      expect(!profile.isError && JSON.parse(profile.text).email === alice, profile.text);
      expect(
        clients[alice]!.savedTokens.length === 2,
        `${clients[alice]!.savedTokens.length} token sets saved`,
      );
      expect(
        provider.counters.refreshRequests === 1,
        `${provider.counters.refreshRequests} Google refreshes`,
      );
      return 'the SDK client used its refresh token (rotated); 1 Google token request';
    },
  );

  await step(
    "alice's client signs out: its tokens stop working and the Google grant is revoked",
    async () => {
      const tokens = clients[alice]!.tokens()!;
      const googleRefreshToken = (JSON.parse(await readRaw(alice)) as { refresh_token: string })
        .refresh_token;
      const response = await fetch(`${server.url}/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          client_id: clients[alice]!.clientInformation()!.client_id,
          token: tokens.refresh_token!,
        }),
      });
      expect(response.status === 200, `revoke answered ${response.status}`);
      const call = await fetch(server.mcpUrl, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${tokens.access_token}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
      });
      expect(call.status === 401, `the old access token got ${call.status}`);
      expect(!provider.isRefreshTokenLive(googleRefreshToken), 'the Google refresh token still works');
      const stored = await readRaw(alice).then(
        () => true,
        () => false,
      );
      expect(!stored, 'the Google credentials are still stored');
      return 'access token refused (401); Google grant revoked; credentials removed';
    },
  );

  await step('bob still works', async () => {
    const profile = await callText(sessions[bob]!, 'get_profile');
    expect(!profile.isError && JSON.parse(profile.text).email === bob, profile.text);
    return profile.text;
  });
  for (const session of Object.values(sessions)) await session.client.close().catch(() => {});
}

/** Runs the demo scenario; resolves every step (the caller decides what to print). */
export async function runDemo(options: DemoOptions): Promise<DemoStep[]> {
  const steps: DemoStep[] = [];
  const report =
    options.report ??
    ((step: DemoStep) => console.log(`${step.ok ? 'PASS' : 'FAIL'}  ${step.name}\n      ${step.detail}`));
  const step = async (name: string, check: () => Promise<string>) => {
    let result: DemoStep;
    try {
      result = { name, ok: true, detail: await check() };
    } catch (error) {
      result = { name, ok: false, detail: error instanceof Error ? error.message : String(error) };
    }
    steps.push(result);
    report(result);
    return result.ok;
  };
  const expect = (condition: boolean, message: string) => {
    if (!condition) throw new Error(message);
  };

  const cleanups: Array<() => Promise<void>> = [];
  try {
    const provider = await startGoogleLikeProvider();
    cleanups.push(() => provider.close());

    let store: CredentialStore | string;
    let describeStore: string;
    let readRaw: (userId: string) => Promise<string>;
    if (options.store === 's3') {
      const { startS3Endpoint, testS3Client } = await import('../support/s3-endpoint.js');
      const { CreateBucketCommand, GetObjectCommand } = await import('@aws-sdk/client-s3');
      const { S3CredentialStore } = await import('mcp-oauth-credentials/s3');
      const endpoint = await startS3Endpoint();
      cleanups.push(() => endpoint.close());
      const client = testS3Client(endpoint.endpoint);
      await client.send(new CreateBucketCommand({ Bucket: 'demo-credentials' }));
      const s3Store = new S3CredentialStore({ client, location: 's3://demo-credentials/mcp/' });
      store = s3Store;
      describeStore = `s3://demo-credentials/mcp/ on an in-process S3 endpoint (${endpoint.endpoint})`;
      readRaw = async (userId) => {
        const object = await client.send(
          new GetObjectCommand({ Bucket: 'demo-credentials', Key: s3Store.keyFor(userId) }),
        );
        return object.Body!.transformToString();
      };
    } else {
      const directory = await mkdtemp(join(tmpdir(), 'mcp-oauth-credentials-demo-'));
      cleanups.push(() => rm(directory, { recursive: true, force: true }));
      store = directory;
      describeStore = `files in ${directory}`;
      readRaw = async (userId) =>
        readFile(join(directory, `${encodeURIComponent(userId).replace('%40', '@')}.json`), 'utf8');
    }

    const clock = new DemoClock();
    const server = await startExampleServer({
      ...provider.clientSettings(),
      port: 0,
      store,
      clock,
      authMode: options.mode ?? 'bearer',
    });
    cleanups.push(() => server.close());
    console.log(`provider ${provider.url}, MCP server ${server.mcpUrl}, credentials in ${describeStore}\n`);

    if (options.mode === 'oauth') {
      await oauthScenario({ step, expect, provider, server, clock, readRaw });
      return steps;
    }

    const alice = 'alice@example.com';
    const bob = 'bob@example.com';
    const tokens: Record<string, string> = {};
    const users: Record<string, McpUser> = {};

    for (const userId of [alice, bob]) {
      await step(`${userId} signs in through the provider`, async () => {
        const result = await browserSignIn(server.url, userId);
        expect(result.status === 200, `callback answered ${result.status}: ${JSON.stringify(result.body)}`);
        expect(result.body.user_id === userId, `signed in as ${String(result.body.user_id)}`);
        expect(result.body.refresh_token_stored === true, 'no refresh token was stored');
        tokens[userId] = String(result.body.access_token);
        const raw = await readRaw(userId);
        expect(JSON.parse(raw).refresh_token !== undefined, 'the stored record has no refresh token');
        return `bearer token issued; credentials saved with scopes ${(result.body.scopes as string[]).join(' ')}`;
      });
    }

    for (const userId of [alice, bob]) {
      await step(`${userId} calls get_profile over MCP and sees their own email`, async () => {
        users[userId] = await connect(server.mcpUrl, tokens[userId]!);
        const profile = await callText(users[userId]!, 'get_profile');
        expect(!profile.isError, profile.text);
        expect(JSON.parse(profile.text).email === userId, `saw ${profile.text}`);
        return `MCP session ${users[userId]!.transport.sessionId?.slice(0, 8)}…: ${profile.text}`;
      });
    }

    await step('an hour passes: the next call refreshes once, and the new token is saved', async () => {
      const before = JSON.parse(await readRaw(alice)) as { token: string; refresh_token: string };
      provider.resetCounters();
      clock.offsetMs += 60 * 60 * 1000;
      const profile = await callText(users[alice]!, 'get_profile');
      expect(!profile.isError, profile.text);
      const again = await callText(users[alice]!, 'list_scopes');
      expect(!again.isError, again.text);
      const after = JSON.parse(await readRaw(alice)) as { token: string; refresh_token: string };
      expect(
        provider.counters.refreshRequests === 1,
        `${provider.counters.refreshRequests} refresh requests`,
      );
      expect(after.token !== before.token, 'the stored access token did not change');
      expect(after.refresh_token === before.refresh_token, 'the refresh token was not kept');
      return '1 token request; stored access token replaced, refresh token kept';
    });

    await step("bob presenting alice's MCP session id is refused", async () => {
      const hijack = await connect(server.mcpUrl, tokens[bob]!, users[alice]!.transport.sessionId);
      let refusal = '';
      try {
        await hijack.client.callTool({ name: 'get_profile', arguments: {} });
      } catch (error) {
        refusal = describeRefusal(error);
      }
      expect(refusal !== '', 'the call went through');
      expect(/^404/.test(refusal), `unexpected refusal: ${refusal}`);
      return `refused: ${refusal}`;
    });

    await step('alice revokes, and is refused afterwards', async () => {
      const response = await fetch(`${server.url}/auth/revoke`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens[alice]}` },
      });
      const body = (await response.json()) as Record<string, unknown>;
      expect(response.status === 200 && body.revoked === true, `revoke answered ${response.status}`);
      let refusal = '';
      try {
        await callText(users[alice]!, 'get_profile');
      } catch (error) {
        refusal = describeRefusal(error);
      }
      expect(/^401/.test(refusal), `after revoke: ${refusal || 'the call went through'}`);
      const remaining =
        options.store === 'file'
          ? (await readdir(String(store))).filter((name) => name.startsWith('alice'))
          : [];
      expect(remaining.length === 0, 'alice’s credentials file is still there');
      return `revoked (provider confirmed: ${String(body.provider_revoked)}); next call refused: ${refusal}`;
    });

    await step('bob still works', async () => {
      const profile = await callText(users[bob]!, 'get_profile');
      expect(!profile.isError && JSON.parse(profile.text).email === bob, profile.text);
      return profile.text;
    });

    for (const user of Object.values(users)) await user.client.close().catch(() => {});
  } catch (error) {
    const failed = {
      name: 'demo setup',
      ok: false,
      detail: error instanceof Error ? error.message : String(error),
    };
    steps.push(failed);
    report(failed);
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  }
  return steps;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { store: { type: 'string', default: 'file' } } });
  if (values.store !== 'file' && values.store !== 's3') {
    console.error('usage: npm run demo [-- --store file|s3]');
    process.exit(2);
  }
  let failed = 0;
  let total = 0;
  for (const mode of ['bearer', 'oauth'] as const) {
    console.log(
      `\n== mcp-oauth-credentials demo: ${mode === 'bearer' ? 'bearer tokens' : 'MCP authorization (OAuth proxy to Google)'}, ${values.store} store\n`,
    );
    const steps = await runDemo({ store: values.store, mode });
    failed += steps.filter((step) => !step.ok).length;
    total += steps.length;
  }
  console.log(`\n${total - failed}/${total} steps passed`);
  process.exit(failed === 0 ? 0 : 1);
}
