import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { type Logger, MemoryCredentialStore, silentLogger } from '../src/index.js';

describe('Logger', () => {
  it('accepts pino and console as they are (checked by the type-checker) and is silent by default', () => {
    const fromPino: Logger = pino({ enabled: false });
    const fromConsole: Logger = console;
    expect(() => new MemoryCredentialStore({ logger: fromPino })).not.toThrow();
    expect(() => new MemoryCredentialStore({ logger: fromConsole })).not.toThrow();
    expect(Object.isFrozen(silentLogger)).toBe(true);
    expect(silentLogger.error({ any: 'thing' }, 'dropped')).toBeUndefined();
  });
});
