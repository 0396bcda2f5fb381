/**
 * A minimal logger hook, compatible with pino (`logger.warn(obj, msg)`) and with `console`.
 * Components are silent unless given one. Nothing this package logs contains a token, secret or code:
 * log objects carry user ids, operations, durations and error codes only.
 *
 * @module
 */

/** One log method: a structured object first, then a message (pino's argument order). */
export type LogMethod = (fields: Record<string, unknown>, message?: string) => void;

/** The logger every component accepts. `console` and a pino logger both fit. */
export interface Logger {
  debug: LogMethod;
  info: LogMethod;
  warn: LogMethod;
  error: LogMethod;
}

const ignore: LogMethod = () => {};

/** The default logger: drops everything. */
export const silentLogger: Logger = Object.freeze({
  debug: ignore,
  info: ignore,
  warn: ignore,
  error: ignore,
});
