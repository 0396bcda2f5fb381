/**
 * The one loop of the CLI's bulk commands: items (a list or a stream) taken in batches of bounded
 * size, each batch worked on with bounded concurrency, results handed over in input order. Memory
 * stays bounded by the batch, whatever the number of users.
 *
 * @module
 */
import { Semaphore } from '../refresh/semaphore.js';
import type { ProgressBar } from './progress.js';

/** The outcome of one item: its result, or the error that stopped it. */
export type ItemOutcome<R> = { result: R; error?: undefined } | { result?: undefined; error: Error };

/** Options of {@link inBatches}. */
export interface BatchOptions {
  /** Items worked on at once. */
  concurrency: number;
  /** Items read ahead (and held) at most. Default 500. */
  batchSize?: number;
  progress?: ProgressBar;
}

/**
 * Runs `work` on every item; `done` receives each outcome in input order, batch after batch (a
 * `done` that throws stops everything: a fatal error).
 */
export async function inBatches<T, R>(
  items: Iterable<T> | AsyncIterable<T>,
  options: BatchOptions,
  work: (item: T) => Promise<R>,
  done: (item: T, outcome: ItemOutcome<R>) => void | Promise<void>,
): Promise<void> {
  const limiter = new Semaphore(options.concurrency);
  const size = options.batchSize ?? 500;
  const run = async (batch: T[]) => {
    const outcomes = await Promise.all(
      batch.map((item) =>
        limiter.run(async (): Promise<ItemOutcome<R>> => {
          try {
            const result = await work(item);
            options.progress?.tick();
            return { result };
          } catch (error) {
            options.progress?.tick(true);
            return { error: error instanceof Error ? error : new Error(String(error)) };
          }
        }),
      ),
    );
    for (let i = 0; i < batch.length; i++) await done(batch[i]!, outcomes[i]!);
  };
  let batch: T[] = [];
  for await (const item of items) {
    batch.push(item);
    if (batch.length >= size) {
      await run(batch);
      batch = [];
    }
  }
  if (batch.length > 0) await run(batch);
  options.progress?.finish();
}

/** Every id of a store, sorted (output is stable from run to run). */
export async function sortedIds(iterable: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const item of iterable) out.push(item);
  return out.sort();
}
