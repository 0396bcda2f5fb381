/**
 * 6. HTTP: requests per second of an authenticated MCP tool call on the example server, against the
 * same server with authentication switched off (autocannon, 10 s each, loopback).
 */
import autocannon from 'autocannon';
import { MemoryCredentialStore } from 'mcp-oauth-credentials';
import { startGoogleLikeProvider } from 'mcp-oauth-credentials/testing';
import { type ExampleServer, startExampleServer } from '../examples/express/server.js';
import { browserSignIn } from '../examples/support/browser.js';
import { fmt, median } from './lib.js';
import { startUnauthenticatedServer } from './unauthenticated-server.js';

const ACCEPT = 'application/json, text/event-stream';

async function openSession(server: ExampleServer, token?: string): Promise<Record<string, string>> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: ACCEPT,
    ...(token ? { authorization: `Bearer ${token}` } : {}),
  };
  const initialize = await fetch(server.mcpUrl, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 'bench', version: '1.0.0' },
      },
    }),
  });
  await initialize.text();
  const sessionId = initialize.headers.get('mcp-session-id');
  if (!sessionId) throw new Error(`initialize answered ${initialize.status} without a session`);
  const withSession = { ...headers, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' };
  await fetch(server.mcpUrl, {
    method: 'POST',
    headers: withSession,
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  });
  return withSession;
}

async function load(url: string, headers: Record<string, string>, seconds: number) {
  const result = await autocannon({
    url,
    method: 'POST',
    headers,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'list_scopes', arguments: {} },
    }),
    connections: 10,
    duration: seconds,
    // The load generator in its own thread: the server keeps the main thread (and a core) to itself.
    workers: 1,
  });
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${result.non2xx} non-2xx answers, ${result.errors} errors`);
  return result;
}

export async function httpBenchmark(log: (line: string) => void, seconds = 10): Promise<string> {
  const provider = await startGoogleLikeProvider();
  const servers: ExampleServer[] = [];
  try {
    const common = {
      ...provider.clientSettings(),
      port: 0,
    };
    const authenticated = await startExampleServer({ ...common, store: new MemoryCredentialStore() });
    servers.push(authenticated);
    const signIn = await browserSignIn(authenticated.url, 'bench@example.com');
    const headers = await openSession(authenticated, String(signIn.body.access_token));

    const baselineStore = new MemoryCredentialStore();
    const open = await startUnauthenticatedServer({ ...common, store: baselineStore }, 'bench@example.com');
    servers.push(open);
    await baselineStore.put(
      'bench@example.com',
      (await authenticated.store.get('bench@example.com'))!.credentials,
    );
    const openHeaders = await openSession(open);

    log('  http: warm-up 2 s each');
    await load(authenticated.mcpUrl, headers, 2);
    await load(open.mcpUrl, openHeaders, 2);
    // Interleaved 2-second segments (order alternating), so noise drifting over the run hits both alike.
    const segments = Math.max(1, Math.round(seconds / 2));
    log(`  http: ${segments} × 2 s each, authentication on and off, interleaved`);
    const runs = { on: [] as autocannon.Result[], off: [] as autocannon.Result[] };
    for (let i = 0; i < segments; i++) {
      const order = i % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const);
      for (const variant of order) {
        runs[variant].push(
          variant === 'on'
            ? await load(authenticated.mcpUrl, headers, 2)
            : await load(open.mcpUrl, openHeaders, 2),
        );
      }
    }
    const summary = (results: autocannon.Result[]) => ({
      perSecond:
        results.reduce((total, r) => total + r.requests.total, 0) /
        results.reduce((total, r) => total + r.duration, 0),
      p50: median(results.map((r) => r.latency.p50)),
      p99: median(results.map((r) => r.latency.p99)),
    });
    const on = summary(runs.on);
    const off = summary(runs.off);
    const ratio = on.perSecond / off.perSecond;
    log(
      `  http: ${fmt.int(on.perSecond)} req/s with auth, ${fmt.int(off.perSecond)} without (${fmt.ratio(ratio)})`,
    );
    return [
      '## 6. HTTP: an authenticated MCP tool call against the same server without authentication',
      '',
      `autocannon on loopback, 10 connections, ${seconds} s per variant in interleaved 2 s segments after a 2 s`,
      'warm-up; each request is a',
      '`tools/call` of `list_scopes` in an initialized MCP session (Streamable HTTP, stateful) of the example',
      'server. "With authentication": bearer verification, the MCP session guard, the access rules and',
      '`getValidCredentials`. "Without": the same tools and MCP SDK with no authentication (tools answer for a',
      'fixed user; `bench/unauthenticated-server.ts`).',
      'Server, provider and load generator share the machine.',
      '',
      '| | requests/s | latency p50 | latency p99 |',
      '| --- | ---: | ---: | ---: |',
      `| with authentication | ${fmt.int(on.perSecond)} | ${on.p50} ms | ${on.p99} ms |`,
      `| without authentication | ${fmt.int(off.perSecond)} | ${off.p50} ms | ${off.p99} ms |`,
      '',
      '| target | measured | |',
      '| --- | --- | --- |',
      `| with / without ≥ 0.9 | ${fmt.ratio(ratio)} | ${fmt.ok(ratio >= 0.9)} |`,
      '',
    ].join('\n');
  } finally {
    for (const server of servers) await server.close();
    await provider.close();
  }
}
