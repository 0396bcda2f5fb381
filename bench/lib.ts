/**
 * Measurement helpers for `npm run bench`. Sub-microsecond operations are timed in tight loops
 * (throughput) and one by one with `process.hrtime.bigint()` (latency percentiles, with the timer's own
 * cost reported); slower operations go through tinybench.
 */
import { cpus, freemem, platform, release, totalmem } from 'node:os';
import { Bench } from 'tinybench';

/** Keeps results alive so the optimiser cannot drop the measured work. */
export const sink = { value: 0 };

export function consume(value: unknown): void {
  if (typeof value === 'string') sink.value += value.length;
  else if (value && typeof value === 'object') sink.value += 1;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export interface OpsResult {
  /** Median over rounds, nanoseconds per operation. */
  nsPerOp: number;
  opsPerSecond: number;
  rounds: number[];
}

/** Throughput: `rounds` timed loops of `ops` awaited operations after a warm-up, median round. */
export async function measureOps(
  op: (i: number) => unknown,
  { ops = 300_000, rounds = 7, warmup = 200_000 }: { ops?: number; rounds?: number; warmup?: number } = {},
): Promise<OpsResult> {
  for (let i = 0; i < warmup; i++) consume(await op(i));
  const perRound: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < ops; i++) consume(await op(i));
    perRound.push(Number(process.hrtime.bigint() - started) / ops);
  }
  const nsPerOp = median(perRound);
  return { nsPerOp, opsPerSecond: 1e9 / nsPerOp, rounds: perRound };
}

export interface LatencyResult {
  p50: number;
  p99: number;
  /** What one timer reading costs here (included in p50/p99), ns. */
  timerNs: number;
}

/** Latency: each of `samples` operations timed on its own, nanoseconds. */
export async function measureLatency(op: (i: number) => unknown, samples = 200_000): Promise<LatencyResult> {
  const timings = new Float64Array(samples);
  for (let i = 0; i < 50_000; i++) consume(await op(i));
  for (let i = 0; i < samples; i++) {
    const started = process.hrtime.bigint();
    consume(await op(i));
    timings[i] = Number(process.hrtime.bigint() - started);
  }
  const timer = new Float64Array(samples);
  for (let i = 0; i < samples; i++) {
    const started = process.hrtime.bigint();
    timer[i] = Number(process.hrtime.bigint() - started);
  }
  const sorted = Array.from(timings).sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    timerNs: median(Array.from(timer)),
  };
}

export interface TaskResult {
  name: string;
  /** Milliseconds. */
  median: number;
  p99: number;
  samples: number;
}

/** Runs async tasks through tinybench (warm-up, then `timeMs` of samples each). */
export async function tinybench(
  tasks: Record<string, () => Promise<unknown>>,
  { timeMs = 2_000, warmupMs = 300 }: { timeMs?: number; warmupMs?: number } = {},
): Promise<Map<string, TaskResult>> {
  const bench = new Bench({ time: timeMs, warmupTime: warmupMs, warmupIterations: 20, iterations: 50 });
  for (const [name, fn] of Object.entries(tasks)) {
    bench.add(name, async () => {
      consume(await fn());
    });
  }
  await bench.run();
  const results = new Map<string, TaskResult>();
  for (const task of bench.tasks) {
    const latency = task.result && 'latency' in task.result ? task.result.latency : undefined;
    if (!latency) {
      const error =
        task.result && 'error' in task.result ? (task.result as { error?: unknown }).error : undefined;
      throw new Error(`tinybench task ${task.name} produced no result${error ? `: ${String(error)}` : ''}`);
    }
    results.set(task.name, {
      name: task.name,
      median: latency.p50 ?? latency.mean,
      p99: latency.p99 ?? latency.max,
      samples: latency.samplesCount ?? latency.samples?.length ?? 0,
    });
  }
  return results;
}

export function machine(): string {
  const cpu = cpus();
  return [
    `- Date: ${new Date().toISOString()}`,
    `- Node.js ${process.version} on ${platform()} ${release()}`,
    `- CPU: ${cpu[0]?.model ?? 'unknown'} × ${cpu.length} (the benchmark runs on one thread; the local peers share the machine)`,
    `- Memory: ${(totalmem() / 2 ** 30).toFixed(1)} GiB total, ${(freemem() / 2 ** 30).toFixed(1)} GiB free at start`,
  ].join('\n');
}

export const fmt = {
  ns: (value: number) => (value >= 10_000 ? `${(value / 1000).toFixed(1)} µs` : `${Math.round(value)} ns`),
  ms: (value: number) =>
    value >= 100
      ? `${value.toFixed(0)} ms`
      : value >= 0.1
        ? `${value.toFixed(2)} ms`
        : `${(value * 1000).toFixed(1)} µs`,
  ratio: (value: number) => `${value.toFixed(2)}×`,
  int: (value: number) => Math.round(value).toLocaleString('en-US'),
  ok: (pass: boolean) => (pass ? 'met' : '**not met**'),
};

export interface PairResult {
  wrapped: { median: number; p99: number };
  raw: { median: number; p99: number };
  /** Median of the per-round ratios of medians. */
  ratio: number;
}

/**
 * Times two async operations interleaved (`perRound` of one, then `perRound` of the other, the order
 * alternating by round), so machine noise that drifts over seconds hits both alike. Milliseconds.
 */
export async function comparePair(
  wrapped: () => Promise<unknown>,
  raw: () => Promise<unknown>,
  { rounds = 40, perRound = 25, warmup = 50 }: { rounds?: number; perRound?: number; warmup?: number } = {},
): Promise<PairResult> {
  for (let i = 0; i < warmup; i++) {
    consume(await wrapped());
    consume(await raw());
  }
  const all = { wrapped: [] as number[], raw: [] as number[] };
  const ratios: number[] = [];
  const timeBatch = async (fn: () => Promise<unknown>, into: number[]) => {
    const batch: number[] = [];
    for (let i = 0; i < perRound; i++) {
      const started = process.hrtime.bigint();
      consume(await fn());
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      batch.push(ms);
      into.push(ms);
    }
    return median(batch);
  };
  for (let round = 0; round < rounds; round++) {
    let a: number;
    let b: number;
    if (round % 2 === 0) {
      a = await timeBatch(wrapped, all.wrapped);
      b = await timeBatch(raw, all.raw);
    } else {
      b = await timeBatch(raw, all.raw);
      a = await timeBatch(wrapped, all.wrapped);
    }
    ratios.push(a / b);
  }
  const stats = (values: number[]) => {
    const sorted = [...values].sort((x, y) => x - y);
    return { median: median(sorted), p99: percentile(sorted, 99) };
  };
  return { wrapped: stats(all.wrapped), raw: stats(all.raw), ratio: median(ratios) };
}

/** A 95 % bootstrap confidence interval of the median (2,000 resamples, a fixed seed). */
export function bootstrapMedianCi(values: number[], resamples = 2_000): [number, number] {
  let seed = 42;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const medians: number[] = [];
  for (let r = 0; r < resamples; r++) {
    const sample = Array.from({ length: values.length }, () => values[Math.floor(random() * values.length)]!);
    medians.push(median(sample));
  }
  medians.sort((x, y) => x - y);
  return [medians[Math.floor(resamples * 0.025)]!, medians[Math.floor(resamples * 0.975)]!];
}
