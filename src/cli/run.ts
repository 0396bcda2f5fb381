/**
 * The operator CLI (`mcp-oauth-credentials`): parses the command line, runs one command, maps what
 * happened to an exit code, and closes what the command opened. Never prints a token.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CredentialError } from '../errors.js';
import { type CommandName, commandUsage, EXIT, type Options, parse, UsageError, usage } from './args.js';
import { doctor } from './commands/doctor.js';
import { list, remove, show } from './commands/list.js';
import { migrate, rotateKey } from './commands/migrate.js';
import { exportSnapshot, importSnapshot } from './commands/snapshot-commands.js';
import { type CliIo, Context } from './context.js';
import { reportError } from './report.js';

export { EXIT } from './args.js';
export type { CliIo } from './context.js';

/** This package's manifest (found by walking up from this module: src/ in tests, dist/ when built). */
function manifest(): { version: string; engines?: { node?: string } } {
  let directory = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 4; depth++) {
    try {
      const pkg = JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === 'mcp-oauth-credentials')
        return pkg as { version: string; engines?: { node?: string } };
    } catch {
      // not here
    }
    directory = dirname(directory);
  }
  return { version: 'unknown' };
}

const COMMAND_RUNNERS: Record<CommandName, (context: Context, positionals: string[]) => Promise<number>> = {
  list: (context) => list(context),
  show: (context, [user]) => show(context, user!),
  delete: (context, [user]) => remove(context, user!),
  migrate: (context) => migrate(context),
  'rotate-key': (context) => rotateKey(context),
  export: (context) => exportSnapshot(context),
  import: (context) => importSnapshot(context),
  doctor: (context) => doctor(context),
};

/** The exit code of an error that ended a command. */
function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError) return EXIT.usage;
  if (error instanceof CredentialError) {
    if (error.code === 'INVALID_INPUT') return EXIT.usage;
    if (error.code === 'NOT_FOUND') return EXIT.notFound;
    return EXIT.unavailable;
  }
  // A file that cannot be read or written (ENOENT, EACCES, EISDIR...): the input is unusable, not a bug.
  if (
    typeof (error as { code?: unknown })?.code === 'string' &&
    /^E[A-Z]+$/.test((error as { code: string }).code)
  ) {
    return EXIT.unavailable;
  }
  return EXIT.internal;
}

/** Runs the CLI with `argv` (without `node` and the script); resolves the exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const print = (text: string) => io.stdout.write(`${text}\n`);
  const json = argv.includes('--json');
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    const command = error instanceof UsageError ? error.command : undefined;
    if (json) reportError(io, error instanceof UsageError ? error : new UsageError(String(error)), true);
    else
      io.stderr.write(
        `error: ${(error as Error).message}\nRun 'mcp-oauth-credentials ${command ? `${command} ` : ''}--help' for usage.\n`,
      );
    return EXIT.usage;
  }
  if (parsed.kind === 'version') {
    print(manifest().version);
    return EXIT.ok;
  }
  if (parsed.kind === 'help') {
    print(
      parsed.command === undefined ? usage(manifest().engines?.node ?? '>=20') : commandUsage(parsed.command),
    );
    return EXIT.ok;
  }
  const context = new Context(io, parsed.options);
  try {
    return await COMMAND_RUNNERS[parsed.command](context, parsed.positionals);
  } catch (error) {
    const code = exitCodeOf(error);
    if (error instanceof UsageError && !parsed.options.json) {
      io.stderr.write(
        `error: ${error.message}\nRun 'mcp-oauth-credentials ${parsed.command} --help' for usage.\n`,
      );
    } else {
      reportError(io, code === EXIT.internal ? internalError(error) : error, parsed.options.json);
    }
    return code;
  } finally {
    await context.close();
  }
}

/** A bug: the message says so, and the stack goes to stderr for the report. */
function internalError(error: unknown): Error {
  const wrapped = new Error(
    `internal error: ${error instanceof Error ? error.message : String(error)} (please report it)`,
  );
  return wrapped;
}

export type { Options };
