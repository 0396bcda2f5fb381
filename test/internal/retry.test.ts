import { describe, expect, it, vi } from 'vitest';
import { ConflictError, StorageUnavailableError } from '../../src/errors.js';
import { backoffDelay, compareAndSwap, retryWithBackoff, TRY_AGAIN } from '../../src/internal/retry.js';

describe('compareAndSwap', () => {
  it('returns the first round that settles, after rounds that lost by throwing or by TRY_AGAIN', async () => {
    const rounds: number[] = [];
    const result = await compareAndSwap({ retries: 3 }, async (index) => {
      rounds.push(index);
      if (index === 0) throw new ConflictError('lost');
      if (index === 1) return TRY_AGAIN;
      return 'won';
    });
    expect(result).toBe('won');
    expect(rounds).toEqual([0, 1, 2]);
  });

  it('runs retries + 1 rounds at most, then throws what `exhausted` makes', async () => {
    const round = vi.fn(async () => TRY_AGAIN);
    const gaveUp = new ConflictError('gave up');
    await expect(compareAndSwap({ retries: 2, exhausted: () => gaveUp }, round)).rejects.toBe(gaveUp);
    expect(round).toHaveBeenCalledTimes(3);
  });

  it('without `exhausted`, rethrows the last conflict, or a ConflictError after TRY_AGAIN', async () => {
    const last = new ConflictError('third');
    let calls = 0;
    await expect(
      compareAndSwap({ retries: 2 }, async () => {
        calls++;
        throw calls === 3 ? last : new ConflictError('earlier');
      }),
    ).rejects.toBe(last);
    await expect(compareAndSwap({ retries: 0 }, async () => TRY_AGAIN)).rejects.toBeInstanceOf(ConflictError);
  });

  it('ends at once on an error that is not a conflict', async () => {
    const round = vi.fn(async () => {
      throw new StorageUnavailableError('down');
    });
    await expect(compareAndSwap({ retries: 5 }, round)).rejects.toBeInstanceOf(StorageUnavailableError);
    expect(round).toHaveBeenCalledTimes(1);
  });

  it('asks `isConflict` which errors are lost races', async () => {
    const round = vi.fn(async (index: number) => {
      if (index === 0) throw new Error('CONFLICT from another copy');
      return index;
    });
    await expect(
      compareAndSwap({ retries: 1, isConflict: (e) => String(e).includes('CONFLICT') }, round),
    ).resolves.toBe(1);
    const never = vi.fn(async () => {
      throw new ConflictError('not mine to retry');
    });
    await expect(compareAndSwap({ retries: 3, isConflict: () => false }, never)).rejects.toBeInstanceOf(
      ConflictError,
    );
    expect(never).toHaveBeenCalledTimes(1);
  });
});

describe('retryWithBackoff', () => {
  const noWait = { baseDelayMs: 100, maxDelayMs: 1_000 };

  it('retries transient failures up to `attempts`, waiting between them, and reports whether attempts are left', async () => {
    const waits: number[] = [];
    const seen: Array<[number, boolean]> = [];
    const request = vi.fn(async (attempt: number) => {
      if (attempt < 3) throw new Error(`fail ${attempt}`);
      return attempt;
    });
    const result = await retryWithBackoff(
      { ...noWait, attempts: 3, sleep: async (ms) => void waits.push(ms) },
      request,
      (_error, attempt, attemptsLeft) => {
        seen.push([attempt, attemptsLeft]);
        return true;
      },
    );
    expect(result).toBe(3);
    expect(seen).toEqual([
      [1, true],
      [2, true],
    ]);
    expect(waits).toHaveLength(2);
  });

  it('throws the last failure when attempts run out, without waiting after it', async () => {
    const sleep = vi.fn(async () => {});
    const seen: boolean[] = [];
    await expect(
      retryWithBackoff(
        { ...noWait, attempts: 2, sleep },
        async (attempt) => {
          throw new Error(`fail ${attempt}`);
        },
        (_e, _a, attemptsLeft) => {
          seen.push(attemptsLeft);
          return true;
        },
      ),
    ).rejects.toThrow('fail 2');
    expect(seen).toEqual([true, false]);
    expect(sleep).toHaveBeenCalledTimes(1);
  });

  it('stops at once on a failure that is not transient', async () => {
    const request = vi.fn(async () => {
      throw new Error('permanent');
    });
    await expect(
      retryWithBackoff({ ...noWait, attempts: 5, sleep: async () => {} }, request, () => false),
    ).rejects.toThrow('permanent');
    expect(request).toHaveBeenCalledTimes(1);
  });

  it('lets the classifier replace the error it throws', async () => {
    const replaced = new StorageUnavailableError('classified');
    await expect(
      retryWithBackoff(
        { ...noWait, attempts: 3, sleep: async () => {} },
        async () => {
          throw new Error('raw, with secrets');
        },
        () => {
          throw replaced;
        },
      ),
    ).rejects.toBe(replaced);
  });
});

describe('backoffDelay', () => {
  it('doubles from the base with equal jitter (half fixed, half random) and stops at the cap', () => {
    const random = vi.spyOn(Math, 'random');
    try {
      random.mockReturnValue(0);
      expect(
        [1, 2, 3, 4, 5].map((attempt) => backoffDelay({ baseDelayMs: 100, maxDelayMs: 500 }, attempt)),
      ).toEqual([50, 100, 200, 250, 250]);
      random.mockReturnValue(0.999_999);
      expect(backoffDelay({ baseDelayMs: 100, maxDelayMs: 500 }, 2)).toBeCloseTo(200, 3);
    } finally {
      random.mockRestore();
    }
  });
});
