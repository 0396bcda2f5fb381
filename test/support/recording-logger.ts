import type { Logger } from '../../src/index.js';

/** One logged line as a {@link recordingLogger} keeps it. */
export interface RecordedLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  fields: Record<string, unknown>;
}

/** A logger that appends every line to `lines`, for tests that check what was logged (and what was not). */
export function recordingLogger(lines: RecordedLine[]): Logger {
  const at =
    (level: RecordedLine['level']) =>
    (fields: Record<string, unknown>, message?: string): void => {
      lines.push({ level, message: message ?? '', fields });
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
