/**
 * `npm run bench`: builds nothing itself (the script builds first), measures the package as built in
 * dist/, and writes bench/RESULTS.md. Sections can be picked: `npm run bench -- hot refresh`.
 */
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { startRedisServer } from '../test/support/redis-server.js';
import { cliImportBenchmark } from './cli-import.js';
import { databaseBenchmarks } from './databases.js';
import { hotPath } from './hot-path.js';
import { httpBenchmark } from './http.js';
import { fmt, machine, sink } from './lib.js';
import { otelCostBenchmark } from './otel-cost.js';
import { redisBenchmark } from './redis.js';
import { refreshBenchmarks } from './refresh.js';
import { roundTripsBenchmark } from './round-trips.js';
import { storeBenchmarks } from './stores.js';

const all = [
  'hot',
  'refresh',
  'memory',
  'stores',
  'databases',
  'http',
  'otel',
  'cli',
  'redis',
  'trips',
] as const;
const picked = process.argv.slice(2).filter((arg) => (all as readonly string[]).includes(arg));
const sections = picked.length > 0 ? picked : [...all];
const log = (line: string) => process.stderr.write(`${line}\n`);
const startedAt = Date.now();

/** 4a. Bytes of heap per fully active user, with the session state in memory and in Redis. */
async function activeUserMemory(): Promise<string[]> {
  const child = fileURLToPath(new URL('./active-user-child.ts', import.meta.url));
  const measure = (target: string) => {
    const output = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', child, target], {
      encoding: 'utf8',
      env: { ...process.env },
      maxBuffer: 1024 * 1024,
    });
    return JSON.parse(output.trim().split('\n').pop()!) as {
      users: number;
      sessionStateBytesPerUser: number;
      credentialsCacheBytesPerUser: number;
      bytesPerUser: number;
    };
  };
  log('  memory: 50,000 fully active users, session state in memory (child process)');
  const memory = measure('memory');
  const redis = await startRedisServer();
  log(`  memory: the same with the session state in Redis${redis ? '' : ' (skipped: no redis-server)'}`);
  let inRedis: ReturnType<typeof measure> | undefined;
  try {
    inRedis = redis ? measure(redis.url) : undefined;
  } finally {
    await redis?.stop();
  }
  const row = (label: string, m: typeof memory | undefined) =>
    m === undefined
      ? `| ${label} | (redis-server not installed) | | |`
      : `| ${label} | ${fmt.int(m.sessionStateBytesPerUser)} | ${fmt.int(m.credentialsCacheBytesPerUser)} | ${fmt.int(m.bytesPerUser)} |`;
  return [
    '## 4a. Memory: one fully active user',
    '',
    'A separate process (`--expose-gc`), 50,000 users each signed in (session, bearer token, bound MCP session)',
    'and through one tool call on the full request path, so every in-process map holds them: sessions, tokens,',
    'bindings and their indexes, remembered verifications and bindings, and the credentials cache (realistic',
    'Google token lengths; the credential store itself is outside the process). The second reading follows',
    "each user's next request as a server makes it: the bearer token verified again, then the tool helper; the",
    'clock stands still, so no user ages out of a remembered lifetime between the readings. Heap bytes per user:',
    '',
    '| session state | session state | credentials cache | in all |',
    '| --- | ---: | ---: | ---: |',
    row('in process (memory backend)', memory),
    row('in Redis (what stays in process)', inRedis),
    '',
    '| target | measured | |',
    '| --- | --- | --- |',
    `| ≤ 2 KB per active user, memory backend | ${fmt.int(memory.bytesPerUser)} B | ${fmt.ok(memory.bytesPerUser <= 2048)} |`,
    inRedis === undefined
      ? '| ≤ 300 B per active user in process, Redis | (skipped) | |'
      : `| ≤ 300 B per active user in process, Redis | ${fmt.int(inRedis.bytesPerUser)} B (${fmt.int(inRedis.sessionStateBytesPerUser)} B without the credentials cache, whose Google tokens alone are about 330 characters) | ${fmt.ok(inRedis.bytesPerUser <= 300)} |`,
    '',
  ];
}

async function memorySection(): Promise<string> {
  log('  memory: 100,000 sessions, then 1,000,000 into a store bounded at 100,000 (child process)');
  const child = fileURLToPath(new URL('./memory-child.ts', import.meta.url));
  const output = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', child], {
    encoding: 'utf8',
    env: { ...process.env },
    maxBuffer: 1024 * 1024,
  });
  const result = JSON.parse(output.trim().split('\n').pop()!) as {
    before: { heap: number; rss: number };
    at100k: { heap: number; rss: number };
    statsAt100k: { sessions: number; bearerTokens: number };
    beforeFlood: { heap: number; rss: number };
    samples: Array<{ inserted: number; heap: number; rss: number }>;
    statsAfterFlood: { sessions: number; bearerTokens: number };
  };
  const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  const heapFor100k = result.at100k.heap - result.before.heap;
  const rssFor100k = result.at100k.rss - result.before.rss;
  const floodGrowth = result.samples.map((sample) => sample.heap - result.beforeFlood.heap);
  const bounded = Math.max(...floodGrowth) <= heapFor100k * 1.25;
  log(`  memory: ${fmt.int(heapFor100k / 100_000)} bytes of heap per session + token`);
  const active = await activeUserMemory();
  return [
    ...active,
    '## 4. Memory: sessions and bearer tokens',
    '',
    'A separate process (`--expose-gc`, garbage collected before each reading); memory backend; each user has',
    'a session (scopes, issuer) and one bearer token (stored as its SHA-256, with its reverse index).',
    '',
    '| measure | value |',
    '| --- | ---: |',
    `| heap for 100,000 sessions + 100,000 tokens | ${mib(heapFor100k)} |`,
    `| resident memory (RSS) growth for the same | ${mib(rssFor100k)} |`,
    `| heap bytes per session (with its token) | ${fmt.int(heapFor100k / 100_000)} |`,
    `| live entries after 100,000 | ${fmt.int(result.statsAt100k.sessions)} sessions, ${fmt.int(result.statsAt100k.bearerTokens)} tokens |`,
    '',
    'Then 1,000,000 users arrive at a store configured with `maxSessions` = `maxBearerTokens` = 100,000:',
    '',
    '| inserted | heap growth | RSS |',
    '| ---: | ---: | ---: |',
    ...result.samples.map(
      (sample, i) => `| ${fmt.int(sample.inserted)} | ${mib(floodGrowth[i]!)} | ${mib(sample.rss)} |`,
    ),
    '',
    `Live entries after 1,000,000: ${fmt.int(result.statsAfterFlood.sessions)} sessions, ${fmt.int(result.statsAfterFlood.bearerTokens)} tokens.`,
    `The heap stays within 1.25× of the 100,000-user figure whatever arrives: ${fmt.ok(bounded)}.`,
    '',
  ].join('\n');
}

const parts: string[] = [];
for (const section of sections) {
  log(`[bench] ${section}`);
  if (section === 'hot') parts.push((await hotPath(log)).markdown);
  if (section === 'refresh') parts.push(await refreshBenchmarks(log));
  if (section === 'memory') parts.push(await memorySection());
  if (section === 'stores') parts.push(await storeBenchmarks(log));
  if (section === 'databases') parts.push(await databaseBenchmarks(log));
  if (section === 'http') parts.push(await httpBenchmark(log));
  if (section === 'otel') parts.push(await otelCostBenchmark(log));
  if (section === 'cli') parts.push(await cliImportBenchmark(log));
  if (section === 'redis') parts.push(await redisBenchmark(log));
  if (section === 'trips') parts.push(await roundTripsBenchmark(log));
}
const seconds = (Date.now() - startedAt) / 1000;
const document = [
  '# Benchmark results',
  '',
  'Written by `npm run bench` (see README "Performance"). Every ratio compares two figures measured in this',
  'same run. The machine is shared and noisy: compare ratios, not absolute numbers across runs.',
  '',
  machine(),
  `- Sections: ${sections.join(', ')}; total time ${seconds.toFixed(0)} s`,
  '',
  ...parts,
].join('\n');
if (picked.length === 0) {
  await writeFile(new URL('./RESULTS.md', import.meta.url), `${document}\n`);
  log(
    `[bench] wrote bench/RESULTS.md in ${seconds.toFixed(0)} s (sink ${sink.value > 0 ? 'alive' : 'empty'})`,
  );
} else {
  process.stdout.write(`${document}\n`);
}
