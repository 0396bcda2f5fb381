import { describe, expect, it } from 'vitest';
import { ManagerEvents } from '../../src/refresh/events.js';
import { type RecordedLine, recordingLogger } from '../support/recording-logger.js';

describe('ManagerEvents', () => {
  it('delivers to every listener even when one throws, and logs the throw at warn', () => {
    const lines: RecordedLine[] = [];
    const events = new ManagerEvents(recordingLogger(lines));
    const seen: string[] = [];
    events.on('refresh-conflict', () => {
      throw new Error('listener bug');
    });
    events.on('refresh-conflict', ({ userId }) => seen.push(userId));
    events.emit('refresh-conflict', { userId: 'ada@example.com' });
    expect(seen).toEqual(['ada@example.com']);
    expect(lines).toEqual([
      {
        level: 'warn',
        message: 'CredentialManager event listener threw; ignored',
        fields: { event: 'refresh-conflict', error: 'Error: listener bug' },
      },
    ]);
  });

  it('takes 100 listeners without a leak warning, and warns past that (a listener leak)', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    try {
      const events = new ManagerEvents(recordingLogger([]));
      for (let i = 0; i < 100; i += 1) events.on('refresh-conflict', () => {});
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).toEqual([]);
      events.on('refresh-conflict', () => {});
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).toEqual(['MaxListenersExceededWarning']);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('stops delivering after unsubscribing', () => {
    const events = new ManagerEvents(recordingLogger([]));
    const seen: string[] = [];
    const off = events.on('refresh-conflict', ({ userId }) => seen.push(userId));
    events.emit('refresh-conflict', { userId: 'first@example.com' });
    off();
    events.emit('refresh-conflict', { userId: 'second@example.com' });
    expect(seen).toEqual(['first@example.com']);
  });
});
