/**
 * Freezes a plain JSON-like value and everything in it, so it can be shared between callers safely.
 *
 * @module
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
