import { describe, expect, it } from 'vitest';
import { SharedValues } from '../../src/internal/shared-values.js';

describe('SharedValues', () => {
  it('hands out one frozen array per list of scopes (same order), sharing its strings', () => {
    const shared = new SharedValues();
    const first = shared.scopes(['openid', 'email']);
    expect(shared.scopes(['openid', 'email'])).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(shared.scopes(['email', 'openid'])).not.toBe(first);
    expect(shared.text('openid')).toBe('openid');
  });

  it(`keeps at most ${SharedValues.MAX} distinct values of a kind; past that a caller keeps its own`, () => {
    const shared = new SharedValues();
    for (let i = 0; i < SharedValues.MAX; i++) shared.scopes([`scope-${i}`]);
    const own = [`scope-${SharedValues.MAX}`];
    expect(shared.scopes(own)).toBe(own);
    expect(Object.isFrozen(own)).toBe(true);
    expect(shared.scopes([`scope-${SharedValues.MAX - 1}`])).toEqual([`scope-${SharedValues.MAX - 1}`]);
    expect(Object.isFrozen(shared.scopes(['scope-0']))).toBe(true);
  });
});
