/**
 * {@link RateLimiter}: a fixed-window request budget per key (a client address), bounded in memory
 * (lru-cache), on an injected clock. Per process: with several replicas, each enforces its own budget.
 *
 * @module
 */
import { LRUCache } from 'lru-cache';
import { type Clock, systemClock } from '../clock.js';
import { ConfigurationError } from '../errors.js';

/** A budget: at most `limit` requests per `windowMs` milliseconds per client address. */
export interface RateLimit {
  /** Requests allowed per window. A positive integer. */
  limit: number;
  /** Window length, milliseconds. Positive. */
  windowMs: number;
}

/** The most client addresses a limiter tracks at once; the least recently seen are forgotten first. */
export const DEFAULT_RATE_LIMIT_MAX_KEYS = 10_000;

/** What {@link RateLimiter.take} decided. */
export interface RateLimitDecision {
  allowed: boolean;
  /** When refused: seconds until the window resets (for `Retry-After`). */
  retryAfterSeconds: number;
}

interface Window {
  startedAt: number;
  count: number;
}

/** Checks a {@link RateLimit} and names the option when it is not usable. */
export function checkRateLimit(limit: RateLimit, option: string): RateLimit {
  if (!Number.isInteger(limit?.limit) || limit.limit < 1) {
    throw new ConfigurationError(`${option}.limit must be a positive integer`);
  }
  if (!Number.isFinite(limit.windowMs) || limit.windowMs <= 0) {
    throw new ConfigurationError(`${option}.windowMs must be a positive number of milliseconds`);
  }
  return { limit: limit.limit, windowMs: limit.windowMs };
}

/** See the module documentation. */
export class RateLimiter {
  readonly #limit: RateLimit;
  readonly #clock: Clock;
  readonly #windows: LRUCache<string, Window>;

  constructor(limit: RateLimit, options: { clock?: Clock; maxKeys?: number; option?: string } = {}) {
    this.#limit = checkRateLimit(limit, options.option ?? 'rateLimit');
    this.#clock = options.clock ?? systemClock;
    this.#windows = new LRUCache({ max: options.maxKeys ?? DEFAULT_RATE_LIMIT_MAX_KEYS });
  }

  /** Counts one request for `key` and says whether it is within the budget. */
  take(key: string): RateLimitDecision {
    const now = this.#clock.now();
    let window = this.#windows.get(key);
    if (window === undefined || now - window.startedAt >= this.#limit.windowMs) {
      window = { startedAt: now, count: 0 };
      this.#windows.set(key, window);
    }
    window.count += 1;
    if (window.count <= this.#limit.limit) return { allowed: true, retryAfterSeconds: 0 };
    return {
      allowed: false,
      retryAfterSeconds: Math.max(1, Math.ceil((window.startedAt + this.#limit.windowMs - now) / 1000)),
    };
  }
}
