import { describe, expect, it } from 'vitest';
import { silentLogger } from '../src/index.js';

describe('silentLogger', () => {
  it('is frozen and drops everything', () => {
    expect(Object.isFrozen(silentLogger)).toBe(true);
    expect(silentLogger.error({ any: 'thing' }, 'dropped')).toBeUndefined();
    expect(silentLogger.debug({}, 'dropped')).toBeUndefined();
  });
});
