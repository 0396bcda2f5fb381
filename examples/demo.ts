/**
 * `npm run demo`: the example MCP servers end to end, on embedded defaults, with no cloud account.
 *
 * For each stack (SDK v1 + Express, SDK v2 + Express, SDK v2 + Hono; `-- --stack v1|v2|hono` picks
 * one) it starts a Google-like local OAuth provider and the example server with a file store in a
 * temporary directory (`--store s3`: an in-process S3 endpoint), then drives it with the matching
 * official MCP client:
 *
 * - bearer mode: two users sign in and see their own profiles, the clock passes expiry and the next
 *   call refreshes once and saves, a hijacked MCP session is refused, a revoke takes effect, the
 *   other user still works;
 * - MCP authorization: one MCP client identifies itself by a Client ID Metadata Document (served over
 *   TLS on 127.0.0.1), another registers dynamically; both pass the consent page, call tools as their
 *   own Google users, refresh, and one signs out.
 *
 * Prints a transcript; exits non-zero if any step fails.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { CredentialStore } from 'mcp-oauth-credentials';
import {
  opensslAvailable,
  startGoogleLikeProvider,
  startTlsServer,
  type TlsServer,
} from 'mcp-oauth-credentials/testing';
import { startExampleServer } from './express/server.js';
import { startExpressV2Server } from './express-v2/server.js';
import { startHonoServer } from './hono/server.js';
import type { ExampleServer, ExampleServerConfig } from './shared/core.js';
import { browserSignIn } from './support/browser.js';
import { type ClientKit, type McpUser, v1Kit, v2Kit } from './support/client-kits.js';
import { TestOAuthClientProvider } from './support/oauth-client.js';

export type Stack = 'v1' | 'v2' | 'hono';

/** Each stack: its server and the official client that matches it. */
export const STACKS: Record<
  Stack,
  { label: string; start: (config: ExampleServerConfig) => Promise<ExampleServer>; kit: ClientKit }
> = {
  v1: { label: 'MCP SDK v1 + Express', start: startExampleServer, kit: v1Kit },
  v2: { label: 'MCP SDK v2 + Express', start: startExpressV2Server, kit: v2Kit },
  hono: { label: 'MCP SDK v2 + Hono', start: startHonoServer, kit: v2Kit },
};

export interface DemoStep {
  name: string;
  ok: boolean;
  detail: string;
}

export interface DemoOptions {
  store: 'file' | 's3';
  /** `bearer`: users paste a bearer token; `oauth`: MCP clients log in by themselves (MCP authorization). */
  mode?: 'bearer' | 'oauth';
  /** Which example server, with its matching client. Default `v1`. */
  stack?: Stack;
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

/** The HTTP status and message of an MCP client error, e.g. `404 Session not found`. */
function describeRefusal(error: unknown): string {
  const candidate = error as { code?: unknown; status?: unknown; data?: { status?: unknown } };
  const status = [candidate.code, candidate.status, candidate.data?.status].find(
    (value) => typeof value === 'number',
  );
  const text = error instanceof Error ? error.message : String(error);
  const message = /"(?:message|error_description)":"([^"]+)"/.exec(text)?.[1] ?? text.slice(0, 80);
  const inText = /\b(40[134])\b/.exec(text)?.[1];
  return status !== undefined
    ? `${status} ${message}`
    : inText !== undefined
      ? `${inText} ${message}`
      : message;
}

interface ScenarioContext {
  step: (name: string, check: () => Promise<string>) => Promise<boolean>;
  expect: (condition: boolean, message: string) => void;
  provider: Awaited<ReturnType<typeof startGoogleLikeProvider>>;
  server: ExampleServer;
  kit: ClientKit;
  clock: DemoClock;
  readRaw: (userId: string) => Promise<string>;
  listStored: () => Promise<string[]>;
  metadata: TlsServer | undefined;
}

/** MCP clients that have never seen the server log in by themselves, through the SDK's own OAuth code. */
async function oauthScenario({
  step,
  expect,
  provider,
  server,
  kit,
  clock,
  readRaw,
  metadata,
}: ScenarioContext): Promise<void> {
  const alice = 'alice@example.com';
  const bob = 'bob@example.com';
  const clients: Record<string, TestOAuthClientProvider> = {};
  const sessions: Record<string, McpUser> = {};

  for (const userId of [alice, bob]) {
    // alice's client identifies itself by a metadata document when one can be served over TLS.
    const byDocument = userId === alice && metadata !== undefined;
    const how = byDocument ? 'identifies itself by its Client ID Metadata Document' : 'registers dynamically';
    await step(
      `${userId}'s MCP client (${kit.name}) discovers the server, ${how}, logs in through Google, and ${userId} approves it on the consent page`,
      async () => {
        provider.setDefaultUser(userId); // who is at the browser's keyboard
        const name = `${userId.split('@')[0]}-mcp-client`;
        const documentUrl = byDocument ? `${metadata.origin}/clients/${name}.json` : undefined;
        const client = new TestOAuthClientProvider(name, 'http://127.0.0.1:43210/callback', documentUrl);
        if (documentUrl !== undefined)
          metadata!.json(new URL(documentUrl).pathname, client.metadataDocument(), {
            'cache-control': 'max-age=300',
          });
        clients[userId] = client;
        sessions[userId] = await kit.connectWithOAuth(server.mcpUrl, client);
        const registered = client.clientInformation();
        expect(registered?.client_id !== undefined, 'the client did not register');
        if (documentUrl !== undefined)
          expect(registered!.client_id === documentUrl, 'the client id is not its document URL');
        expect(client.savedTokens.length === 1, 'no tokens were saved');
        const raw = JSON.parse(await readRaw(userId)) as { refresh_token?: string };
        expect(typeof raw.refresh_token === 'string', 'Google credentials were not stored');
        expect(
          client.browser.visited.some((url) => url.pathname === '/oauth/consent'),
          'no consent page was shown',
        );
        const id = documentUrl ?? `${registered!.client_id.slice(0, 8)}…`;
        return `client id ${id}; consent page shown and approved; got an access and a refresh token; Google credentials stored`;
      },
    );
    await step(`${userId} calls get_profile and sees their own email`, async () => {
      const profile = await sessions[userId]!.callTool('get_profile');
      expect(!profile.isError && JSON.parse(profile.text).email === userId, profile.text);
      return profile.text;
    });
  }

  await step(
    "an hour passes: the client refreshes its own token; the server refreshes Google's once",
    async () => {
      provider.resetCounters();
      clock.offsetMs += 61 * 60 * 1000;
      const profile = await sessions[alice]!.callTool('get_profile');
      expect(!profile.isError && JSON.parse(profile.text).email === alice, profile.text);
      expect(
        clients[alice]!.savedTokens.length === 2,
        `${clients[alice]!.savedTokens.length} token sets saved`,
      );
      expect(
        provider.counters.refreshRequests === 1,
        `${provider.counters.refreshRequests} Google refreshes`,
      );
      return 'the client used its refresh token (rotated); 1 Google token request';
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
      expect(
        (call.headers.get('www-authenticate') ?? '').startsWith('Bearer'),
        'no WWW-Authenticate challenge',
      );
      expect(!provider.isRefreshTokenLive(googleRefreshToken), 'the Google refresh token still works');
      const stored = await readRaw(alice).then(
        () => true,
        () => false,
      );
      expect(!stored, 'the Google credentials are still stored');
      return 'access token refused (401 with a challenge); Google grant revoked; credentials removed';
    },
  );

  await step('bob still works', async () => {
    const profile = await sessions[bob]!.callTool('get_profile');
    expect(!profile.isError && JSON.parse(profile.text).email === bob, profile.text);
    return profile.text;
  });
  for (const session of Object.values(sessions)) await session.close().catch(() => {});
}

/** Users sign in at /auth/start and give their MCP client the bearer token the callback shows. */
async function bearerScenario({
  step,
  expect,
  provider,
  server,
  kit,
  clock,
  readRaw,
  listStored,
}: ScenarioContext): Promise<void> {
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
    await step(`${userId} calls get_profile over MCP (${kit.name}) and sees their own email`, async () => {
      users[userId] = await kit.connectWithToken(server.mcpUrl, tokens[userId]!);
      const profile = await users[userId]!.callTool('get_profile');
      expect(!profile.isError, profile.text);
      expect(JSON.parse(profile.text).email === userId, `saw ${profile.text}`);
      return `MCP session ${users[userId]!.sessionId?.slice(0, 8)}…: ${profile.text}`;
    });
  }

  await step('an hour passes: the next call refreshes once, and the new token is saved', async () => {
    const before = JSON.parse(await readRaw(alice)) as { token: string; refresh_token: string };
    provider.resetCounters();
    clock.offsetMs += 60 * 60 * 1000;
    const profile = await users[alice]!.callTool('get_profile');
    expect(!profile.isError, profile.text);
    const again = await users[alice]!.callTool('list_scopes');
    expect(!again.isError, again.text);
    const after = JSON.parse(await readRaw(alice)) as { token: string; refresh_token: string };
    expect(provider.counters.refreshRequests === 1, `${provider.counters.refreshRequests} refresh requests`);
    expect(after.token !== before.token, 'the stored access token did not change');
    expect(after.refresh_token === before.refresh_token, 'the refresh token was not kept');
    return '1 token request; stored access token replaced, refresh token kept';
  });

  await step("bob presenting alice's MCP session id is refused", async () => {
    let refusal = '';
    try {
      const hijack = await kit.connectWithToken(server.mcpUrl, tokens[bob]!, users[alice]!.sessionId);
      await hijack.callTool('get_profile');
    } catch (error) {
      refusal = describeRefusal(error);
    }
    expect(refusal !== '', 'the call went through');
    expect(/^404/.test(refusal) || /Session not found/.test(refusal), `unexpected refusal: ${refusal}`);
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
      await users[alice]!.callTool('get_profile');
    } catch (error) {
      refusal = describeRefusal(error);
    }
    expect(
      /^401/.test(refusal) || /401|revoked|Unauthorized/i.test(refusal),
      `after revoke: ${refusal || 'the call went through'}`,
    );
    expect(
      !(await listStored()).some((name) => name.startsWith('alice')),
      'alice’s credentials are still stored',
    );
    return `revoked (provider confirmed: ${String(body.provider_revoked)}); next call refused: ${refusal}`;
  });

  await step('bob still works', async () => {
    const profile = await users[bob]!.callTool('get_profile');
    expect(!profile.isError && JSON.parse(profile.text).email === bob, profile.text);
    return profile.text;
  });
  for (const user of Object.values(users)) await user.close().catch(() => {});
}

/** Runs one scenario on one stack; resolves every step (the caller decides what to print). */
export async function runDemo(options: DemoOptions): Promise<DemoStep[]> {
  const stack = STACKS[options.stack ?? 'v1'];
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
    let listStored: () => Promise<string[]>;
    if (options.store === 's3') {
      const { startS3Endpoint, testS3Client } = await import('../dev/s3-endpoint.js');
      const { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command } = await import(
        '@aws-sdk/client-s3'
      );
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
      listStored = async () => {
        const listed = await client.send(
          new ListObjectsV2Command({ Bucket: 'demo-credentials', Prefix: 'mcp/' }),
        );
        return (listed.Contents ?? []).map((object) => String(object.Key).slice('mcp/'.length));
      };
    } else {
      const directory = await mkdtemp(join(tmpdir(), 'mcp-oauth-credentials-demo-'));
      cleanups.push(() => rm(directory, { recursive: true, force: true }));
      store = directory;
      describeStore = `files in ${directory}`;
      readRaw = async (userId) =>
        readFile(join(directory, `${encodeURIComponent(userId).replace('%40', '@')}.json`), 'utf8');
      listStored = () => readdir(directory);
    }

    // Client ID Metadata Documents are https URLs: serve them over TLS on 127.0.0.1 with a throwaway
    // certificate, and open the server's address guard for that one address.
    let metadata: TlsServer | undefined;
    if (options.mode === 'oauth' && opensslAvailable()) {
      metadata = await startTlsServer();
      cleanups.push(() => metadata!.close());
    }
    const clock = new DemoClock();
    const server = await stack.start({
      ...provider.clientSettings(),
      port: 0,
      store,
      clock,
      authMode: options.mode ?? 'bearer',
      ...(metadata === undefined
        ? {}
        : {
            oauthServer: {
              clientMetadataDocuments: {
                agent: metadata.agent,
                allowAddress: (address) => address === '127.0.0.1',
              },
            },
          }),
    });
    cleanups.push(() => server.close());
    console.log(`provider ${provider.url}, MCP server ${server.mcpUrl}, credentials in ${describeStore}\n`);
    const context: ScenarioContext = {
      step,
      expect,
      provider,
      server,
      kit: stack.kit,
      clock,
      readRaw,
      listStored,
      metadata,
    };
    if (options.mode === 'oauth') await oauthScenario(context);
    else await bearerScenario(context);
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
  const { values, positionals } = parseArgs({
    options: { store: { type: 'string', default: 'file' }, stack: { type: 'string', default: 'all' } },
    // Refused below with the usage line, rather than a parseArgs stack trace (`npm run demo -- s3`).
    allowPositionals: true,
  });
  const stacks = values.stack === 'all' ? (Object.keys(STACKS) as Stack[]) : [values.stack as Stack];
  if (
    positionals.length > 0 ||
    (values.store !== 'file' && values.store !== 's3') ||
    stacks.some((stack) => !(stack in STACKS))
  ) {
    console.error('usage: npm run demo [-- --store file|s3] [-- --stack v1|v2|hono]');
    process.exit(2);
  }
  let failed = 0;
  let total = 0;
  for (const stack of stacks) {
    for (const mode of ['bearer', 'oauth'] as const) {
      const what = mode === 'bearer' ? 'bearer tokens' : 'MCP authorization (consent, CIMD and DCR)';
      console.log(`\n== ${STACKS[stack].label}: ${what}, ${values.store} store\n`);
      const steps = await runDemo({ store: values.store, mode, stack });
      failed += steps.filter((step) => !step.ok).length;
      total += steps.length;
    }
  }
  console.log(`\n${total - failed}/${total} steps passed`);
  process.exit(failed === 0 ? 0 : 1);
}
