/**
 * 7. What observability costs the hot path. The package as built now (dist/) against the build of
 * the commit before the logging and OpenTelemetry work (a git worktree, built once), both loaded in
 * this process: the per-request path (a cached `getValidCredentials`, `verifyBearerToken` and the
 * access rules on the memory backend), each build in a child process, interleaved in rounds, wall and
 * CPU time, the ratio's median with a 95 % bootstrap confidence interval. Then the same path with
 * `createTelemetry` enabled.
 */
import { execFileSync, fork } from 'node:child_process';
import { existsSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bootstrapMedianCi, fmt, median } from './lib.js';

/** The commit before observability (logging, jose, /otel) landed: the "today" it is compared with. */
export const BASELINE_COMMIT = 'c259615';

const root = resolve(new URL('..', import.meta.url).pathname);

function baselineDist(log: (line: string) => void): string {
  const dir = join(root, '.tmp', `bench-baseline-${BASELINE_COMMIT}`);
  if (!existsSync(join(dir, 'dist', 'index.js'))) {
    log(`  otel: building the baseline ${BASELINE_COMMIT} in ${dir} (once)`);
    if (!existsSync(dir))
      execFileSync('git', ['worktree', 'add', '--detach', dir, BASELINE_COMMIT], {
        cwd: root,
        stdio: 'ignore',
      });
    if (!existsSync(join(dir, 'node_modules')))
      symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
    execFileSync(process.execPath, [join(root, 'node_modules', 'tsup', 'dist', 'cli-default.js')], {
      cwd: dir,
      stdio: 'ignore',
    });
  }
  return join(dir, 'dist');
}

/** A child process running the hot path of one build, one batch per request from this process. */
interface Runner {
  batch(): Promise<{ wall: number; cpu: number }>;
  close(): void;
}

function startRunner(
  dist: string,
  mode: 'plain' | 'telemetry' | 'noscopes',
  perRound: number,
): Promise<Runner> {
  const child = fork(
    fileURLToPath(new URL('./otel-child.ts', import.meta.url)),
    [dist, mode, String(perRound)],
    {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  let waiting: ((value: { wall: number; cpu: number }) => void) | undefined;
  return new Promise((resolve) => {
    child.on('message', (message: { ready?: boolean; wall?: number; cpu?: number }) => {
      if (message.ready) {
        resolve({
          batch: () =>
            new Promise((done) => {
              waiting = done;
              child.send('batch');
            }),
          close: () => child.kill(),
        });
        return;
      }
      waiting?.({ wall: message.wall!, cpu: message.cpu! });
    });
  });
}

interface Comparison {
  wallRatio: number;
  wallCi: [number, number];
  cpuRatio: number;
  cpuCi: [number, number];
  nsA: number;
  nsB: number;
}

/**
 * `pairs` fresh pairs of processes (one per side; process-to-process differences in memory layout
 * and scheduling are as large as what is measured, so one pair is not enough), each run for
 * `rounds` rounds of one batch of each, order alternating, one process running at a time. A pair's
 * ratio is the median of its rounds; the confidence interval is over pairs.
 */
async function compare(
  startA: () => Promise<Runner>,
  startB: () => Promise<Runner>,
  perRound: number,
  pairs = 8,
  rounds = 12,
): Promise<Comparison> {
  const wall: number[] = [];
  const cpu: number[] = [];
  const nsA: number[] = [];
  const nsB: number[] = [];
  for (let pair = 0; pair < pairs; pair++) {
    const [a, b] = await Promise.all([startA(), startB()]);
    try {
      for (let i = 0; i < 5; i++) {
        await a.batch();
        await b.batch();
      }
      const roundWall: number[] = [];
      const roundCpu: number[] = [];
      for (let round = 0; round < rounds; round++) {
        let x: { wall: number; cpu: number };
        let y: { wall: number; cpu: number };
        if (round % 2 === 0) {
          x = await a.batch();
          y = await b.batch();
        } else {
          y = await b.batch();
          x = await a.batch();
        }
        roundWall.push(x.wall / y.wall);
        roundCpu.push(x.cpu / y.cpu);
        nsA.push(x.wall / perRound);
        nsB.push(y.wall / perRound);
      }
      wall.push(median(roundWall));
      cpu.push(median(roundCpu));
    } finally {
      a.close();
      b.close();
    }
  }
  return {
    wallRatio: median(wall),
    wallCi: bootstrapMedianCi(wall),
    cpuRatio: median(cpu),
    cpuCi: bootstrapMedianCi(cpu),
    nsA: median(nsA),
    nsB: median(nsB),
  };
}

export async function otelCostBenchmark(log: (line: string) => void): Promise<string> {
  const perRound = 20_000;
  const current = join(root, 'dist');
  const baseline = baselineDist(log);
  const run = (dist: string, mode: 'plain' | 'telemetry' | 'noscopes') => () =>
    startRunner(dist, mode, perRound);
  log('  otel: hot path, this build vs the baseline (no telemetry), 8 process pairs');
  const off = await compare(run(current, 'plain'), run(baseline, 'plain'), perRound);
  log('  otel: the same build against itself (the noise floor), 8 process pairs');
  const same = await compare(run(current, 'plain'), run(current, 'plain'), perRound);
  log('  otel: the tool asking for scopes (granted) vs asking for none, 8 process pairs');
  const scoped = await compare(run(current, 'plain'), run(current, 'noscopes'), perRound);
  log('  otel: hot path with createTelemetry enabled vs without, 8 process pairs');
  const on = await compare(run(current, 'telemetry'), run(current, 'plain'), perRound);
  const within = (c: [number, number]) => c[0] <= 1 && c[1] >= 1;
  const verdict = (a: [number, number], b: [number, number]) =>
    within(a) && within(b)
      ? 'indistinguishable (the intervals contain 1)'
      : a[1] < 1 && b[1] < 1
        ? 'faster'
        : 'slower';
  const ci = (c: [number, number]) => `${fmt.ratio(c[0])} – ${fmt.ratio(c[1])}`;
  log(
    `  otel: off ${fmt.ratio(off.wallRatio)} [${ci(off.wallCi)}], on ${fmt.ratio(on.wallRatio)} [${ci(on.wallCi)}]`,
  );
  return [
    '## 7. What observability and per-tool scopes cost the hot path',
    '',
    'The per-request path of a tool call (verify a bearer token; the tool helper: access rules, a cached',
    "`getValidCredentials` and, in this build, the check that the grant covers the tool's scopes; memory backend)",
    `of this build against the build of commit \`${BASELINE_COMMIT}\` (before failure logging, jose, \`/otel\` and`,
    'per-tool scopes; its tool helper ignores the scopes argument), each in a process of its own, one running at a',
    "time: 8 fresh pairs of processes, 12 rounds of 20,000 requests of each per pair, order alternating. A pair's",
    'ratio is the median of its rounds; the table gives the median over pairs and a 95 % bootstrap confidence',
    'interval over pairs, for wall and CPU time (measured in the child). Processes differ from one another by a few',
    'per cent on their own, which is why the noise floor, this build against itself, is measured too.',
    '',
    '| comparison | ns per request (this / other) | wall-time ratio (95 % CI) | CPU-time ratio (95 % CI) | verdict |',
    '| --- | --- | --- | --- | --- |',
    `| this build against itself (the noise floor) | ${fmt.int(same.nsA)} / ${fmt.int(same.nsB)} | ${fmt.ratio(same.wallRatio)} (${ci(same.wallCi)}) | ${fmt.ratio(same.cpuRatio)} (${ci(same.cpuCi)}) | ${verdict(same.wallCi, same.cpuCi)} |`,
    `| this build (scopes checked, \`/otel\` not imported) vs ${BASELINE_COMMIT} | ${fmt.int(off.nsA)} / ${fmt.int(off.nsB)} | ${fmt.ratio(off.wallRatio)} (${ci(off.wallCi)}) | ${fmt.ratio(off.cpuRatio)} (${ci(off.cpuCi)}) | ${verdict(off.wallCi, off.cpuCi)} |`,
    `| the tool asks for scopes the grant covers vs for none (this build) | ${fmt.int(scoped.nsA)} / ${fmt.int(scoped.nsB)} | ${fmt.ratio(scoped.wallRatio)} (${ci(scoped.wallCi)}) | ${fmt.ratio(scoped.cpuRatio)} (${ci(scoped.cpuCi)}) | ${verdict(scoped.wallCi, scoped.cpuCi)} |`,
    `| \`createTelemetry\` on (store wrapped, manager subscribed) vs off | ${fmt.int(on.nsA)} / ${fmt.int(on.nsB)} | ${fmt.ratio(on.wallRatio)} (${ci(on.wallCi)}) | ${fmt.ratio(on.cpuRatio)} (${ci(on.cpuCi)}) | (the cost of enabling; reported) |`,
    '',
    'With telemetry on, the cached path does not touch the store, so it records nothing: the wrapped store and',
    'the event listeners cost only on store operations and refreshes. This build is faster than the baseline because',
    'the tool helper now returns a class instance instead of an object literal with a getter and closures.',
    '',
  ].join('\n');
}
