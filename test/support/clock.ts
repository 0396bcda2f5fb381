import type { Clock } from '../../src/index.js';

/** A clock tests move by hand. Starts at a fixed, realistic instant. */
export class FakeClock implements Clock {
  #now: number;
  constructor(start = Date.UTC(2026, 10, 26, 12, 0, 0)) {
    this.#now = start;
  }
  now(): number {
    return this.#now;
  }
  advance(ms: number): void {
    this.#now += ms;
  }
  set(epochMs: number): void {
    this.#now = epochMs;
  }
}
