/**
 * Checks of numeric options, shared by every constructor so that a NaN, a negative or a fractional
 * count is refused the same way: a {@link ConfigurationError} that names the option.
 *
 * @module
 */
import { ConfigurationError } from '../errors.js';

/**
 * `value ?? fallback`, refused unless it is a finite number of milliseconds of at least `min`
 * (default 1: a positive duration; pass 0 where zero means "off").
 */
export function durationOption(name: string, value: number | undefined, fallback: number, min = 1): number {
  const chosen = value ?? fallback;
  if (typeof chosen !== 'number' || !Number.isFinite(chosen) || chosen < min) {
    throw new ConfigurationError(
      `${name} must be a number of milliseconds${min === 0 ? ', zero or more' : ` of at least ${min}`}, got ${String(chosen)}`,
    );
  }
  return chosen;
}

/** `value ?? fallback`, refused unless it is a whole number of at least `min` (default 1). */
export function countOption(name: string, value: number | undefined, fallback: number, min = 1): number {
  const chosen = value ?? fallback;
  if (typeof chosen !== 'number' || !Number.isInteger(chosen) || chosen < min) {
    throw new ConfigurationError(`${name} must be a whole number of at least ${min}, got ${String(chosen)}`);
  }
  return chosen;
}
