/**
 * How the CLI reports: error objects and lines (never a token), per-outcome summaries that name the
 * users (all of them in `--json`, the first few on a terminal) with every count, zeros included.
 *
 * @module
 */
import { CredentialError, isCredentialError } from '../errors.js';
import { PLAINTEXT_HINT } from '../stores/encrypted.js';
import { EXIT, UsageError } from './args.js';
import type { Context } from './context.js';

/** How many users a terminal summary names per outcome before "and K more". */
export const NAMES_SHOWN = 10;

/** An error as the CLI prints it. */
export interface ErrorReport {
  code: string;
  message: string;
  hint?: string;
}

/** The report of an error: its code, message and hint, worded for the CLI's flags. */
export function errorReport(error: unknown): ErrorReport {
  if (isCredentialError(error)) {
    const hint =
      error.hint === PLAINTEXT_HINT
        ? 'pass --accept-plaintext to read (and migrate) plaintext records'
        : error.hint;
    return { code: error.code, message: error.message, ...(hint === undefined ? {} : { hint }) };
  }
  if (error instanceof UsageError) return { code: 'USAGE', message: error.message };
  return { code: 'ERROR', message: error instanceof Error ? error.message : String(error) };
}

/** Errors that mean the whole store is unusable, not one record. */
export function isFatal(error: unknown): boolean {
  return (
    error instanceof CredentialError &&
    ['STORAGE_UNAVAILABLE', 'STORAGE_FORBIDDEN', 'CONFIGURATION', 'ACCESS_DENIED'].includes(error.code)
  );
}

/** One user's result in a bulk command. */
export interface UserResult {
  userId: string;
  outcome?: string;
  /** Why this outcome, when it was a decision worth reporting (a refresh token kept or brought over). */
  note?: string;
  error?: Error;
}

/**
 * Prints the summary of a bulk command and resolves its exit code: 1 when any user failed.
 * `outcomes` lists every outcome the command can have, so each count is printed, zeros included.
 */
export function summarise(
  context: Context,
  verb: string,
  outcomes: readonly string[],
  results: readonly UserResult[],
  extra: Record<string, unknown> = {},
): number {
  const users: Record<string, string[]> = Object.fromEntries(outcomes.map((outcome) => [outcome, []]));
  const notes: Record<string, string> = {};
  const failed: Array<{ user: string } & ErrorReport> = [];
  for (const result of results) {
    if (result.error) failed.push({ user: result.userId, ...errorReport(result.error) });
    else if (result.outcome !== undefined) {
      users[result.outcome] ??= [];
      users[result.outcome]?.push(result.userId);
    }
    if (result.note !== undefined) notes[result.userId] = result.note;
  }
  const counts = Object.fromEntries([
    ...Object.entries(users).map(([outcome, names]) => [outcome, names.length]),
    ['failed', failed.length],
  ]);
  if (context.options.json) {
    context.emitJson({ command: verb, ...extra, total: results.length, counts, users, notes, failed });
  } else {
    const parts = Object.entries(counts).map(([outcome, count]) => `${count} ${outcome}`);
    context.print(`${verb}: ${results.length} users: ${parts.join(', ')}`);
    for (const [outcome, names] of Object.entries(users)) {
      for (const name of names.slice(0, NAMES_SHOWN)) {
        context.print(`  ${outcome.padEnd(16)} ${name}${notes[name] ? `  (${notes[name]})` : ''}`);
      }
      if (names.length > NAMES_SHOWN)
        context.print(`  ${outcome.padEnd(16)} and ${names.length - NAMES_SHOWN} more`);
    }
    for (const failure of failed.slice(0, NAMES_SHOWN * 5)) {
      context.print(`  ${'failed'.padEnd(16)} ${failure.user}  ${failure.code}: ${failure.message}`);
      if (failure.hint) context.print(`  ${''.padEnd(16)} hint: ${failure.hint}`);
    }
    if (failed.length > NAMES_SHOWN * 5)
      context.print(
        `  ${'failed'.padEnd(16)} and ${failed.length - NAMES_SHOWN * 5} more (--json lists all)`,
      );
  }
  return failed.length > 0 ? EXIT.partial : EXIT.ok;
}

/** Prints an error that ends the command: a JSON object on stdout with `--json`, lines on stderr otherwise. */
export function reportError(
  io: { stderr: { write(text: string): unknown }; stdout: { write(text: string): unknown } },
  error: unknown,
  json: boolean,
): void {
  const report = errorReport(error);
  if (json) {
    io.stdout.write(`${JSON.stringify({ error: report }, null, 2)}\n`);
    return;
  }
  io.stderr.write(`error: ${report.message}${report.hint ? `\nhint: ${report.hint}` : ''}\n`);
}
