/**
 * The two retry loops of the package, written once: {@link compareAndSwap} for read-decide-write
 * rounds that can lose a race to another writer, and {@link retryWithBackoff} for requests that can
 * fail transiently (a provider, a store that is briefly down).
 *
 * @module
 */
import { ConflictError } from '../errors.js';

/** What a {@link compareAndSwap} round returns to ask for another round (the race was lost). */
export const TRY_AGAIN: unique symbol = Symbol('try again');

/** Options of {@link compareAndSwap}. */
export interface CompareAndSwapOptions {
  /** Rounds after the first one (so `retries + 1` rounds in all), count. */
  retries: number;
  /** Whether a thrown error is a lost race worth another round. Default: a {@link ConflictError}. */
  isConflict?: (error: unknown) => boolean;
  /**
   * The error thrown when every round lost. Default: the last round's conflict error, or a
   * {@link ConflictError} when the last round returned {@link TRY_AGAIN}.
   */
  exhausted?: () => Error;
}

/**
 * Runs `round` until it returns a value. A round that lost a race (it threw a conflict, or returned
 * {@link TRY_AGAIN}) is followed by another, reading afresh, up to `retries` more; any other error
 * ends the loop at once.
 */
export async function compareAndSwap<T>(
  options: CompareAndSwapOptions,
  round: (index: number) => Promise<T | typeof TRY_AGAIN>,
): Promise<T> {
  const isConflict = options.isConflict ?? ((error: unknown) => error instanceof ConflictError);
  for (let index = 0; ; index++) {
    const last = index >= options.retries;
    let outcome: T | typeof TRY_AGAIN;
    try {
      outcome = await round(index);
    } catch (error) {
      if (!isConflict(error)) throw error;
      if (last) throw options.exhausted?.() ?? error;
      continue;
    }
    if (outcome !== TRY_AGAIN) return outcome;
    if (last) throw options.exhausted?.() ?? new ConflictError('the record kept changing; gave up');
  }
}

/** Options of {@link retryWithBackoff}. */
export interface BackoffOptions {
  /** Attempts including the first, count (at least 1). */
  attempts: number;
  /** Delay before the first retry, ms; doubles each retry, with jitter, up to `maxDelayMs`. */
  baseDelayMs: number;
  /** Longest delay between attempts, ms. */
  maxDelayMs: number;
  /** How to wait. */
  sleep: (ms: number) => Promise<void>;
}

/**
 * The delay before retry number `attempt` (1 for the first retry), ms: exponential from
 * `baseDelayMs`, capped at `maxDelayMs`, with "equal jitter" (half fixed, half random) so replicas
 * that failed together do not retry together.
 */
export function backoffDelay(options: Omit<BackoffOptions, 'attempts' | 'sleep'>, attempt: number): number {
  const exponential = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
  return exponential / 2 + Math.random() * (exponential / 2);
}

/**
 * Runs `request` until it succeeds, or fails with an error `isTransient` refuses, or `attempts` are
 * used up; waits {@link backoffDelay} between attempts. `isTransient` sees every failure, with its
 * attempt number (from 1) and whether attempts are left (to report whether a retry follows); it may
 * replace the error to throw by throwing its own.
 */
export async function retryWithBackoff<T>(
  options: BackoffOptions,
  request: (attempt: number) => Promise<T>,
  isTransient: (error: unknown, attempt: number, attemptsLeft: boolean) => boolean,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await request(attempt);
    } catch (error) {
      const attemptsLeft = attempt < options.attempts;
      if (!isTransient(error, attempt, attemptsLeft) || !attemptsLeft) throw error;
      await options.sleep(backoffDelay(options, attempt));
    }
  }
}
