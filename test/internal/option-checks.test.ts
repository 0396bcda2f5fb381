import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/errors.js';
import { countOption, durationOption } from '../../src/internal/option-checks.js';

describe('durationOption', () => {
  it('uses the fallback when the option is absent and keeps a valid value', () => {
    expect(durationOption('ttlMs', undefined, 500)).toBe(500);
    expect(durationOption('ttlMs', 1.5, 500)).toBe(1.5);
    expect(durationOption('graceMs', 0, 500, 0)).toBe(0);
  });

  it.each([Number.NaN, -1, Number.POSITIVE_INFINITY, 0])(
    'refuses %s where at least 1 ms is needed, naming the option',
    (value) => {
      expect(() => durationOption('cache.ttlMs', value, 500)).toThrow(ConfigurationError);
      expect(() => durationOption('cache.ttlMs', value, 500)).toThrow(
        `cache.ttlMs must be a number of milliseconds of at least 1, got ${value}`,
      );
    },
  );

  it('refuses a negative value where zero is allowed, and a string', () => {
    expect(() => durationOption('graceMs', -1, 0, 0)).toThrow(
      'graceMs must be a number of milliseconds, zero or more, got -1',
    );
    expect(() => durationOption('graceMs', '5' as never, 0, 0)).toThrow(ConfigurationError);
  });
});

describe('countOption', () => {
  it('keeps whole numbers from the minimum up', () => {
    expect(countOption('max', undefined, 10)).toBe(10);
    expect(countOption('retries', 0, 3, 0)).toBe(0);
  });

  it.each([0, 1.5, Number.NaN, -3])('refuses %s, naming the option', (value) => {
    expect(() => countOption('max', value, 10)).toThrow(
      `max must be a whole number of at least 1, got ${value}`,
    );
  });
});
