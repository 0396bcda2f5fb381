/**
 * One side of the observability cost comparison (bench/otel-cost.ts): loads one build of the package,
 * sets up the per-request path, and runs a batch of requests whenever the parent asks, answering the
 * batch's wall and CPU time.
 *
 * Usage (by the parent): otel-child.ts <dist directory> <telemetry: true|false> <requests per batch>
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { consume } from './lib.js';

const [dist, telemetryFlag, perRoundText] = process.argv.slice(2) as [string, string, string];
const perRound = Number(perRoundText);
const load = (name: string) => import(pathToFileURL(join(dist, `${name}.js`)).href);
const root = await load('index');
const { CredentialManager } = await load('manager');
const { OAuth21SessionStore } = await load('session');

const USER = 'hot@example.com';
let store = new root.MemoryCredentialStore();
const telemetry =
  telemetryFlag === 'true'
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
  scopes: ['openid', 'email'],
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

async function request() {
  const info = await sessionStore.verifyBearerToken(token);
  await sessionStore.getCredentialsWithValidation({
    requestedUser: info.extra.userId,
    tokenUser: info.extra.userId,
    mcpSessionId: 'mcp-hot-session',
  });
  return manager.getValidCredentials(info.extra.userId);
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
