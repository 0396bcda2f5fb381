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
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 'warn', message: 'CredentialManager event listener threw; ignored' }),
    );
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
