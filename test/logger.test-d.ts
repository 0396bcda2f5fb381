import { pino } from 'pino';
import { describe, expectTypeOf, it } from 'vitest';
import type { Logger } from '../src/index.js';

describe('Logger', () => {
  it('accepts pino and console as they are', () => {
    expectTypeOf(pino({ enabled: false })).toExtend<Logger>();
    expectTypeOf(console).toExtend<Logger>();
  });

  it('refuses an object without the four levels', () => {
    expectTypeOf({ info: (_fields: object) => {} }).not.toExtend<Logger>();
  });
});
