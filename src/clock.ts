/**
 * Time source. Everything that depends on time takes a {@link Clock}, so tests move time forward
 * instead of sleeping.
 *
 * @module
 */

/** A source of the current time in epoch milliseconds. */
export interface Clock {
  /** Current time, epoch milliseconds. */
  now(): number;
}

/** The real clock (`Date.now`). */
export const systemClock: Clock = Object.freeze({ now: () => Date.now() });
