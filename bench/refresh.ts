/**
 * 2. Single flight: 1,000 concurrent callers on one expired user make exactly one token request.
 * 3. Refresh storm: 10,000 users expiring at once, against the local provider with 20 ms latency, on
 *    the memory store and on PostgreSQL.
 */

import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { OAuth2Client } from 'google-auth-library';
import { type CredentialStore, MemoryCredentialStore, type StoredCredentials } from 'mcp-oauth-credentials';
import { CredentialManager, DEFAULT_PROVIDER_REQUEST_TIMEOUT_MS } from 'mcp-oauth-credentials/manager';
import { PostgresCredentialStore } from 'mcp-oauth-credentials/postgres';
import { startBenchPostgres } from './engines.js';
import { bootstrapMedianCi, fmt, median } from './lib.js';

/** The provider in a child process, driven over IPC. */
export async function startProviderProcess() {
  const child = fork(fileURLToPath(new URL('./provider-process.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiting = new Map<number, (result: unknown) => void>();
  let next = 1;
  child.on('message', (message: { id: number; result: unknown }) => {
    waiting.get(message.id)?.(message.result);
    waiting.delete(message.id);
  });
  await new Promise<void>((resolve) => waiting.set(0, () => resolve()));
  const call = (name: string, ...args: unknown[]) =>
    new Promise<unknown>((resolve) => {
      const id = next++;
      waiting.set(id, resolve);
      child.send({ id, call: name, args });
    });
  return {
    call,
    close: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      await call('close');
      await exited;
    },
  };
}

export async function refreshBenchmarks(log: (line: string) => void): Promise<string> {
  // The provider runs in its own process (the other core): the figures measure the manager, not the
  // test provider's token signing competing for the same thread.
  const remote = await startProviderProcess();
  try {
    const info = (await remote.call('info')) as {
      clientId: string;
      clientSecret: string;
      endpoints: Record<string, string>;
    };
    const oauth = { clientId: info.clientId, clientSecret: info.clientSecret, endpoints: info.endpoints };

    // --- 2. single flight --------------------------------------------------------------------
    const flightLatencyMs = 20;
    await remote.call('setTokenLatency', flightLatencyMs);
    const store = new MemoryCredentialStore();
    const userId = 'single-flight@example.com';
    const grants = (await remote.call('issueGrants', 'single-flight-', 40)) as string[];
    let grant = 0;
    const expired = (): StoredCredentials => ({
      userId,
      accessToken: 'ya29.expired',
      refreshToken: grants[grant++ % grants.length]!,
      expiresAt: Date.now() - 1,
      scopes: ['openid', 'email'],
      tokenType: 'Bearer',
    });
    const timeRefresh = async (callers: number) => {
      await store.put(userId, expired());
      const manager = new CredentialManager({ store, oauth }); // empty memory cache: a cold replica
      await remote.call('resetCounters');
      const started = process.hrtime.bigint();
      const results = await Promise.all(
        Array.from({ length: callers }, () => manager.getValidCredentials(userId)),
      );
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (new Set(results.map((result) => result.accessToken)).size !== 1)
        throw new Error('callers saw different tokens');
      return {
        ms,
        requests: ((await remote.call('counters')) as { refreshRequests: number }).refreshRequests,
      };
    };
    for (let i = 0; i < 6; i++) await timeRefresh(i % 2 === 0 ? 1 : 1_000); // warm-up
    const one: number[] = [];
    const many: number[] = [];
    const requests: number[] = [];
    for (let round = 0; round < 15; round++) {
      one.push((await timeRefresh(1)).ms);
      const crowd = await timeRefresh(1_000);
      many.push(crowd.ms);
      requests.push(crowd.requests);
    }
    const singleRatio = median(many) / median(one);
    log(
      `  single flight: 1 caller ${fmt.ms(median(one))}, 1000 callers ${fmt.ms(median(many))}, requests ${requests.join(',')}`,
    );

    // --- 3. refresh storm --------------------------------------------------------------------
    const users = 10_000;
    const concurrency = 100;
    const latencyMs = 20;
    await remote.call('setTokenLatency', latencyMs);
    const memoryStorm = await storm(remote, oauth, new MemoryCredentialStore(), 'storm', users, concurrency);
    const ideal = (users / concurrency) * latencyMs;
    log(
      `  refresh storm (memory): ${memoryStorm.requests} requests, peak ${memoryStorm.peak}, ${fmt.ms(memoryStorm.ms)} (ideal ${fmt.ms(ideal)})`,
    );
    // The same storm over PostgreSQL: every refresh reads and compare-and-swaps its row.
    const postgres = await startBenchPostgres();
    let postgresStorm: StormResult;
    try {
      const store = new PostgresCredentialStore({ connectionString: postgres.url, maxConnections: 20 });
      await store.ensureSchema();
      postgresStorm = await storm(remote, oauth, store, 'pgstorm', users, concurrency);
      await store.close();
    } finally {
      await postgres.stop();
    }
    log(
      `  refresh storm (${postgres.name}): ${postgresStorm.requests} requests, peak ${postgresStorm.peak}, ${fmt.ms(postgresStorm.ms)}`,
    );
    const stormRows = (result: StormResult) => [
      `| token requests | ${fmt.int(result.requests)} | = 10,000 | ${fmt.ok(result.requests === users)} |`,
      `| distinct refresh tokens presented | ${fmt.int(result.distinctTokens)} | 10,000, no duplicates | ${fmt.ok(result.distinctTokens === users && result.allUsed)} |`,
      `| peak concurrent token requests | ${result.peak} | ≤ ${concurrency} | ${fmt.ok(result.peak <= concurrency)} |`,
      `| records saved with a fresh token | ${fmt.int(result.saved)} | 10,000 | ${fmt.ok(result.saved === users)} |`,
      `| total time | ${fmt.ms(result.ms)} | | |`,
      `| total time / ideal | ${fmt.ratio(result.ms / ideal)} | (reported) | |`,
    ];

    return [
      '## 2. Single flight: 1,000 concurrent callers on one expired user',
      '',
      'A cold manager (empty memory cache) over a memory store; the token request goes over HTTP to the local',
      `Google-like provider, in its own process, which adds ${flightLatencyMs} ms (a fast real token endpoint). Median of 15 rounds each.`,
      '',
      '| | wall time (median) | token requests |',
      '| --- | ---: | ---: |',
      `| 1 caller | ${fmt.ms(median(one))} | 1 |`,
      `| 1,000 concurrent callers | ${fmt.ms(median(many))} | ${[...new Set(requests)].join(', ')} (every round) |`,
      '',
      '| target | measured | |',
      '| --- | --- | --- |',
      `| exactly 1 token request for 1,000 callers | ${requests.every((count) => count === 1) ? '1 in every round' : requests.join(', ')} | ${fmt.ok(requests.every((count) => count === 1))} |`,
      `| 1,000 callers < 1.2× one refresh alone | ${fmt.ratio(singleRatio)} | ${fmt.ok(singleRatio < 1.2)} |`,
      '',
      '## 3. Refresh storm: 10,000 users expiring at once',
      '',
      `Every user's access token expired; all 10,000 call \`getValidCredentials\` at once. The provider runs in its own`,
      `process (Ed25519-signed id_tokens, so it is not the bottleneck) and adds ${latencyMs} ms to each token request;`,
      `\`maxConcurrentRefreshes\` is ${concurrency}. Ideal = users / concurrency × latency = ${fmt.ms(ideal)}.`,
      '',
      '| measure | value | target | |',
      '| --- | ---: | --- | --- |',
      ...stormRows(memoryStorm),
      '',
      ...(await managerCostPairs(remote, oauth, concurrency, log)),
      `### The same storm over PostgreSQL (${postgres.name})`,
      '',
      'The store is a `PostgresCredentialStore` (a pool of 20) instead of memory: each refresh reads the row and',
      'writes it back with compare-and-swap (`UPDATE … WHERE version = $n`).',
      '',
      '| measure | value | target | |',
      '| --- | ---: | --- | --- |',
      ...stormRows(postgresStorm),
      `| total time / the memory store's | ${fmt.ratio(postgresStorm.ms / memoryStorm.ms)} | (reported) | |`,
      '',
    ].join('\n');
  } finally {
    await remote.close();
  }
}

/** Wall and CPU time of one storm, in this process (the provider's own CPU is in its process). */
interface Timed {
  wallMs: number;
  cpuMs: number;
}

async function timed(work: () => Promise<unknown>): Promise<Timed> {
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  await work();
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const used = process.cpuUsage(cpu);
  return { wallMs, cpuMs: (used.user + used.system) / 1e3 };
}

/**
 * 3b. What the manager adds to each refresh: storms of `users` expired users through the manager
 * (memory store) against the same number of refreshes made with google-auth-library alone (a new
 * `OAuth2Client` per refresh with the manager's own transporter options, as it makes them) at the
 * same concurrency, in interleaved pairs, order alternating, each on fresh grants.
 */
export async function managerCostPairs(
  remote: Awaited<ReturnType<typeof startProviderProcess>>,
  oauth: { clientId: string; clientSecret: string; endpoints: Record<string, string> },
  concurrency: number,
  log: (line: string) => void,
): Promise<string[]> {
  const users = 2_000;
  const pairs = 7;
  const library = async (label: string) => {
    const tokens = (await remote.call('issueGrants', label, users)) as string[];
    let next = 0;
    return timed(() =>
      Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < tokens.length) {
            const client = new OAuth2Client({
              clientId: oauth.clientId,
              clientSecret: oauth.clientSecret,
              endpoints: oauth.endpoints,
              transporterOptions: {
                timeout: DEFAULT_PROVIDER_REQUEST_TIMEOUT_MS,
                retryConfig: { retry: 0, noResponseRetries: 0 },
              },
            });
            client.setCredentials({ refresh_token: tokens[next++]! });
            await client.getAccessToken();
          }
        }),
      ),
    );
  };
  // One store and one manager for every storm, as a server has: each storm brings new users.
  const store = new MemoryCredentialStore();
  const manager = new CredentialManager({ store, oauth, maxConcurrentRefreshes: concurrency });
  const managed = async (label: string) => {
    const prepared = await prepareStorm(remote, store, label, users);
    return timed(() => Promise.all(prepared.ids.map((id) => manager.getValidCredentials(id))));
  };
  const only = process.env.BENCH_STORM_ONLY; // profiling aid: one side alone
  if (only === 'manager' || only === 'library') {
    for (let round = 0; round < pairs; round++) {
      const result = await (only === 'manager' ? managed : library)(`${only}${round}`);
      log(`  ${only} alone: CPU ${fmt.ms(result.cpuMs)}, wall ${fmt.ms(result.wallMs)}`);
    }
    return [];
  }
  await managed('warm-m'); // warm-up, not counted
  await library('warm-l');
  const wall: number[] = [];
  const cpu: number[] = [];
  const rows: string[] = [];
  for (let pair = 0; pair < pairs; pair++) {
    let withManager: Timed;
    let alone: Timed;
    if (pair % 2 === 0) {
      withManager = await managed(`pair${pair}m`);
      alone = await library(`pair${pair}l`);
    } else {
      alone = await library(`pair${pair}l`);
      withManager = await managed(`pair${pair}m`);
    }
    wall.push(withManager.wallMs / alone.wallMs);
    cpu.push(withManager.cpuMs / alone.cpuMs);
    rows.push(
      `| ${pair + 1} | ${fmt.ms(withManager.cpuMs)} / ${fmt.ms(alone.cpuMs)} | ${fmt.ratio(cpu.at(-1)!)} | ${fmt.ms(withManager.wallMs)} / ${fmt.ms(alone.wallMs)} | ${fmt.ratio(wall.at(-1)!)} |`,
    );
  }
  const cpuRatio = median(cpu);
  const [cpuLow, cpuHigh] = bootstrapMedianCi(cpu);
  const [wallLow, wallHigh] = bootstrapMedianCi(wall);
  log(
    `  manager vs google-auth-library alone: CPU ${fmt.ratio(cpuRatio)} (${cpu.map((r) => r.toFixed(2)).join(', ')}), wall ${fmt.ratio(median(wall))}`,
  );
  return [
    '### What the manager adds to a refresh: CPU time against google-auth-library alone',
    '',
    `${pairs} interleaved pairs (order alternating, after one warm-up of each): ${fmt.int(users)} new expired users through`,
    'one manager (memory store: read, refresh, compare-and-swap save, cache), against the same number of refreshes made',
    "with google-auth-library alone (a new `OAuth2Client` per refresh with the manager's own transporter options:",
    `timeout, no library retries) at the same concurrency (${concurrency}), each on fresh grants. CPU time is this`,
    "process's (user + system); the provider's is in its own process.",
    '',
    '| pair | CPU ms (manager / alone) | CPU ratio | wall ms (manager / alone) | wall ratio |',
    '| ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
    '| target | measured (median over pairs, 95 % CI) | |',
    '| --- | --- | --- |',
    `| refresh CPU ≤ 1.1× google-auth-library alone | ${fmt.ratio(cpuRatio)} (${fmt.ratio(cpuLow)} – ${fmt.ratio(cpuHigh)}) | ${fmt.ok(cpuRatio <= 1.1)} |`,
    `| (reported) wall time ratio | ${fmt.ratio(median(wall))} (${fmt.ratio(wallLow)} – ${fmt.ratio(wallHigh)}) | |`,
    '',
  ];
}

/** `users` users with expired access tokens on `store`, each holding a fresh grant of the provider. */
async function prepareStorm(
  remote: Awaited<ReturnType<typeof startProviderProcess>>,
  store: CredentialStore,
  label: string,
  users: number,
): Promise<{ store: CredentialStore; ids: string[]; refreshTokens: string[] }> {
  const refreshTokens = (await remote.call('issueGrants', label, users)) as string[];
  const ids = Array.from({ length: users }, (_, i) => `${label}${i}@example.com`);
  for (let i = 0; i < users; i += 200) {
    await Promise.all(
      ids.slice(i, i + 200).map((id, j) =>
        store.put(id, {
          userId: id,
          accessToken: `ya29.old-${i + j}`,
          refreshToken: refreshTokens[i + j]!,
          expiresAt: Date.now() - 1,
          scopes: ['openid', 'email'],
          tokenType: 'Bearer',
        }),
      ),
    );
  }
  return { store, ids, refreshTokens };
}

interface StormResult {
  ms: number;
  requests: number;
  peak: number;
  distinctTokens: number;
  allUsed: boolean;
  saved: number;
}

/** `users` expired users on `store`, all calling `getValidCredentials` at once. */
async function storm(
  remote: Awaited<ReturnType<typeof startProviderProcess>>,
  oauth: { clientId: string; clientSecret: string; endpoints: Record<string, string> },
  store: CredentialStore,
  label: string,
  users: number,
  concurrency: number,
): Promise<StormResult> {
  const { ids, refreshTokens } = await prepareStorm(remote, store, label, users);
  const manager = new CredentialManager({ store, oauth, maxConcurrentRefreshes: concurrency });
  await remote.call('resetCounters');
  const started = process.hrtime.bigint();
  await Promise.all(ids.map((id) => manager.getValidCredentials(id)));
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const counters = (await remote.call('counters')) as {
    refreshRequests: number;
    peakConcurrentTokenRequests: number;
    refreshTokensUsed: string[];
  };
  const used = new Set(counters.refreshTokensUsed);
  let saved = 0;
  for (const id of ids) if ((await store.get(id))!.credentials.expiresAt! > Date.now()) saved += 1;
  return {
    ms,
    requests: counters.refreshRequests,
    peak: counters.peakConcurrentTokenRequests,
    distinctTokens: used.size,
    allUsed: refreshTokens.every((token) => used.has(token)),
    saved,
  };
}
