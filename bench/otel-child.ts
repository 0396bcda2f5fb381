/**
 * One side of the observability cost comparison (bench/otel-cost.ts): loads one build of the package,
 * sets up the per-request path, and runs a batch of requests whenever the parent asks, answering the
 * batch's wall and CPU time.
 *
 * Usage (by the parent): otel-child.ts <dist directory> <plain|telemetry|noscopes> <requests per batch>
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { consume } from './lib.js';

// mode: `plain` (the tool asks for scopes the grant covers), `telemetry` (the same with createTelemetry
// on), `noscopes` (the tool asks for no scopes).
const [dist, mode, perRoundText] = process.argv.slice(2) as [string, string, string];
const perRound = Number(perRoundText);
const load = (name: string) => import(pathToFileURL(join(dist, `${name}.js`)).href);
const root = await load('index');
const { CredentialManager } = await load('manager');
const { OAuth21SessionStore } = await load('session');
const { createToolAuth } = await load('http');

const USER = 'hot@example.com';
const DRIVE = 'https://www.googleapis.com/auth/drive.readonly';
let store = new root.MemoryCredentialStore();
const telemetry =
  mode === 'telemetry'
    ? (await load('otel')).createTelemetry({
        meterProvider: new MeterProvider(),
        tracerProvider: new BasicTracerProvider(),
      })
    : undefined;
if (telemetry) store = telemetry.store(store);
await store.put(USER, {
  userId: USER,
  accessToken: 'ya29.hot-path',
  refreshToken: '1//hot',
  expiresAt: Date.now() + 24 * 3_600_000,
  scopes: ['openid', 'email', DRIVE],
  tokenType: 'Bearer',
});
const sessionStore = new OAuth21SessionStore();
await sessionStore.storeSession(USER, { mcpSessionId: 'mcp-hot-session' });
const { token } = await sessionStore.issueBearerToken(USER);
const manager = new CredentialManager({
  store,
  sessionStore,
  oauth: { clientId: 'bench', clientSecret: 'bench', endpoints: { jwksUri: 'http://127.0.0.1:9/jwks' } },
});
telemetry?.manager(manager);
const toolAuth = createToolAuth({ manager, sessionStore });

// One tool call's work: verify the bearer token, then the tool helper (access rules, a cached
// getValidCredentials, and in builds that have it, the check that the grant covers the tool's scopes;
// older builds ignore the second argument).
const asked = mode === 'noscopes' ? {} : undefined;
async function request() {
  const authInfo = await sessionStore.verifyBearerToken(token);
  return toolAuth.forRequest(
    { authInfo, sessionId: 'mcp-hot-session' },
    asked ?? { scopes: [DRIVE, 'email'] },
  );
}

process.on('message', async () => {
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  for (let i = 0; i < perRound; i++) consume(await request());
  const wall = Number(process.hrtime.bigint() - started);
  const used = process.cpuUsage(cpu);
  process.send!({ wall, cpu: (used.user + used.system) * 1000 });
});
process.send!({ ready: true });
