/**
 * The operator CLI (`mcp-oauth-credentials`): list, show, delete, migrate, rotate-key, export, import,
 * over any store spec `createCredentialStore` takes. Never prints a token.
 *
 * @module
 */
import { isDeepStrictEqual, parseArgs } from 'node:util';
import {
  type CredentialsSummary,
  describeCredentials,
  parseStoredCredentials,
  type StoredCredentials,
} from '../credentials.js';
import { KEYS_ENV_VAR, type Keyring, keyringFromEnv } from '../encryption/keyring.js';
import { ConfigurationError, CredentialError, InvalidInputError } from '../errors.js';
import { Semaphore } from '../refresh/semaphore.js';
import { createCredentialStore } from '../stores/create.js';
import { EncryptedCredentialStore } from '../stores/encrypted.js';
import { MemoryCredentialStore } from '../stores/memory.js';
import type { CredentialStore } from '../stores/types.js';
import { normaliseUserId } from '../user-id.js';
import { ProgressBar, type ProgressStream } from './progress.js';
import { openSnapshotWriter, parseSnapshotHeader, readSnapshotLines, SNAPSHOT_FORMAT } from './snapshot.js';

const EXPORT_BATCH = 500;

/** Exit codes. */
export const EXIT = {
  ok: 0,
  /** Some users failed (corrupt, unreadable, not written); the rest succeeded. */
  partial: 1,
  usage: 2,
  /** The store (or snapshot) could not be used at all: configuration, permissions, unreachable. */
  unavailable: 3,
  /** `show` / `delete`: no such user. */
  notFound: 4,
} as const;

/** Where the CLI writes and what it reads. */
export interface CliIo {
  stdout: ProgressStream;
  stderr: ProgressStream;
  env: Record<string, string | undefined>;
}

const USAGE = `Usage: mcp-oauth-credentials <command> [options]

Commands:
  list                      every user: status, expiry, refresh token, scopes (never tokens)
  show <user>               one user, same fields
  delete <user>             remove a user's credentials
  migrate --from <spec> --to <spec> [--dry-run]
                            copy every user; only-if-absent or compare-and-swap, never over a newer record
  rotate-key                re-seal every record of an encrypted+ store under the primary key (resumable)
  export --to <file|s3://bucket/key>
                            a snapshot of the store: encrypted JSON lines (S3: multipart upload)
  import --from <file|s3://bucket/key>
                            restore a snapshot without overwriting newer records

Store specs (--store, --from, --to): memory:, a directory, file:///dir, s3://bucket/prefix/,
  postgres://user:password@host/db, dynamodb://table[/prefix/] (region and endpoint from the AWS
  environment: AWS_REGION, AWS_ENDPOINT_URL_DYNAMODB), or encrypted+<spec> (keys from
  ${KEYS_ENV_VAR}="id:base64key,...", primary first). A --to store's table or directory is
  created when missing.

Options:
  --store <spec>            the store (default: WORKSPACE_MCP_CREDENTIALS_DIR, GOOGLE_MCP_CREDENTIALS_DIR,
                            ~/.google_workspace_mcp/credentials)
  --json                    machine-readable output
  --accept-plaintext        read unencrypted records from encrypted+ stores (migration)
  --keys-env <VAR>          read keys from VAR instead of ${KEYS_ENV_VAR}
  --concurrency <n>         users processed at once (default 8)
  --s3-endpoint <url>       S3 endpoint (MinIO, an emulator); --s3-region <r>; --s3-path-style
  --dry-run                 migrate: report what would happen, write nothing

Exit codes: 0 ok, 1 some users failed, 2 usage, 3 store unavailable or misconfigured, 4 user not found.
`;

interface Options {
  store?: string;
  from?: string;
  to?: string;
  json: boolean;
  dryRun: boolean;
  acceptPlaintext: boolean;
  keysEnv: string;
  concurrency: number;
  s3: { endpoint?: string; region?: string; forcePathStyle?: boolean };
}

class UsageError extends Error {}

function parse(argv: string[]): { command: string | undefined; positionals: string[]; options: Options } {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        store: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        json: { type: 'boolean', default: false },
        'dry-run': { type: 'boolean', default: false },
        'accept-plaintext': { type: 'boolean', default: false },
        'keys-env': { type: 'string' },
        concurrency: { type: 'string' },
        's3-endpoint': { type: 'string' },
        's3-region': { type: 'string' },
        's3-path-style': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values.help) return { command: 'help', positionals: [], options: {} as Options };
  const concurrency = values.concurrency === undefined ? 8 : Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) {
    throw new UsageError('--concurrency must be an integer from 1 to 256');
  }
  const [command, ...positionals] = parsed.positionals;
  return {
    command,
    positionals,
    options: {
      ...(typeof values.store === 'string' ? { store: values.store } : {}),
      ...(typeof values.from === 'string' ? { from: values.from } : {}),
      ...(typeof values.to === 'string' ? { to: values.to } : {}),
      json: values.json === true,
      dryRun: values['dry-run'] === true,
      acceptPlaintext: values['accept-plaintext'] === true,
      keysEnv: typeof values['keys-env'] === 'string' ? values['keys-env'] : KEYS_ENV_VAR,
      concurrency,
      s3: {
        ...(typeof values['s3-endpoint'] === 'string' ? { endpoint: values['s3-endpoint'] } : {}),
        ...(typeof values['s3-region'] === 'string' ? { region: values['s3-region'] } : {}),
        ...(values['s3-path-style'] ? { forcePathStyle: true } : {}),
      },
    },
  };
}

/** Runs the CLI with `argv` (without `node` and the script); resolves the exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const print = (text: string) => io.stdout.write(`${text}\n`);
  const warn = (text: string) => io.stderr.write(`${text}\n`);
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    warn(`${(error as Error).message}\n\n${USAGE}`);
    return EXIT.usage;
  }
  const { command, positionals, options } = parsed;
  if (command === undefined || command === 'help') {
    (command === 'help' ? print : warn)(USAGE);
    return command === 'help' ? EXIT.ok : EXIT.usage;
  }
  const context = new Context(io, options);
  try {
    return await runCommand(context, command, positionals);
  } catch (error) {
    return reportFailure(error, warn);
  } finally {
    await context.close();
  }
}

async function runCommand(context: Context, command: string, positionals: string[]): Promise<number> {
  switch (command) {
    case 'list':
      return await list(context);
    case 'show':
      return await show(context, single(positionals, 'show <user>'));
    case 'delete':
      return await remove(context, single(positionals, 'delete <user>'));
    case 'migrate':
      return await migrate(context);
    case 'rotate-key':
      return await rotateKey(context);
    case 'export':
      return await exportSnapshot(context);
    case 'import':
      return await importSnapshot(context);
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

function reportFailure(error: unknown, warn: (text: string) => void): number {
  if (error instanceof UsageError) {
    warn(`${error.message}\n\n${USAGE}`);
    return EXIT.usage;
  }
  if (error instanceof CredentialError) {
    warn(`error: ${error.message}${error.hint ? `\nhint: ${error.hint}` : ''}`);
    return error.code === 'INVALID_INPUT' ? EXIT.usage : EXIT.unavailable;
  }
  warn(`error: ${error instanceof Error ? error.message : String(error)}`);
  return EXIT.unavailable;
}

function single(positionals: string[], usage: string): string {
  if (positionals.length !== 1) throw new UsageError(`usage: ${usage}`);
  return positionals[0]!;
}

class Context {
  readonly io: CliIo;
  readonly options: Options;
  #keyring: Keyring | undefined | null = null;
  readonly #opened: CredentialStore[] = [];

  constructor(io: CliIo, options: Options) {
    this.io = io;
    this.options = options;
  }

  keyring(): Keyring | undefined {
    if (this.#keyring === null) this.#keyring = keyringFromEnv(this.io.env, this.options.keysEnv);
    return this.#keyring;
  }

  requireKeyring(purpose: string): Keyring {
    const keyring = this.keyring();
    if (!keyring)
      throw new ConfigurationError(`${purpose} needs keys: set ${this.options.keysEnv}="id:base64key,..."`);
    return keyring;
  }

  /**
   * Opens a store. `destination`: a store this command writes into (a missing directory is created);
   * otherwise a missing directory is a `ConfigurationError` (exit 3), not an empty store.
   */
  async open(spec: string | undefined, destination = false): Promise<CredentialStore> {
    const keyring = this.keyring();
    const store = await createCredentialStore(spec, {
      env: this.io.env,
      s3: this.options.s3,
      file: { createDirectory: destination },
      createTables: destination,
      encryption: { ...(keyring ? { keyring } : {}), acceptPlaintext: this.options.acceptPlaintext },
    });
    this.#opened.push(store);
    return store;
  }

  /** Closes every store opened (database pools would otherwise keep the process alive). */
  async close(): Promise<void> {
    await Promise.allSettled(this.#opened.splice(0).map((store) => store.close?.()));
  }

  print(text: string): void {
    this.io.stdout.write(`${text}\n`);
  }

  emitJson(value: unknown): void {
    this.print(JSON.stringify(value, null, 2));
  }

  progress(label: string, total: number): ProgressBar {
    return new ProgressBar(this.io.stderr, label, total, !this.options.json);
  }
}

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const item of iterable) out.push(item);
  return out.sort();
}

async function forEachUser<T>(
  context: Context,
  users: string[],
  label: string,
  work: (userId: string) => Promise<T>,
): Promise<Array<{ userId: string; result?: T; error?: CredentialError | Error }>> {
  const limiter = new Semaphore(context.options.concurrency);
  const progress = context.progress(label, users.length);
  const results = await Promise.all(
    users.map((userId) =>
      limiter.run(async () => {
        try {
          const result = await work(userId);
          progress.tick();
          return { userId, result };
        } catch (error) {
          progress.tick(true);
          return { userId, error: error instanceof Error ? error : new Error(String(error)) };
        }
      }),
    ),
  );
  progress.finish();
  return results;
}

function errorCode(error: Error): string {
  return error instanceof CredentialError ? error.code : 'ERROR';
}

// Errors that mean the whole store is unusable, not one record.
function isFatal(error: Error | undefined): boolean {
  return (
    error instanceof CredentialError &&
    ['STORAGE_UNAVAILABLE', 'CONFIGURATION', 'ACCESS_DENIED'].includes(error.code)
  );
}

interface Row {
  user: string;
  status: 'ok' | 'corrupt' | 'error';
  expiresAt: string | null;
  hasRefreshToken: boolean | null;
  scopes: string[];
  error?: string;
}

function row(userId: string, summary: CredentialsSummary | undefined, error?: Error): Row {
  if (error || !summary) {
    return {
      user: userId,
      status: error instanceof CredentialError && error.code === 'CORRUPT' ? 'corrupt' : 'error',
      expiresAt: null,
      hasRefreshToken: null,
      scopes: [],
      ...(error ? { error: `${errorCode(error)}: ${error.message}` } : {}),
    };
  }
  return {
    user: userId,
    status: 'ok',
    expiresAt: summary.expiresAt === undefined ? null : new Date(summary.expiresAt).toISOString(),
    hasRefreshToken: summary.hasRefreshToken,
    scopes: summary.scopes,
  };
}

function printTable(context: Context, rows: Row[]): void {
  const lines = rows.map((r) => [
    r.user,
    r.status,
    r.expiresAt ?? '-',
    r.hasRefreshToken === null ? '-' : r.hasRefreshToken ? 'yes' : 'no',
    r.status === 'ok' ? r.scopes.join(' ') : (r.error ?? ''),
  ]);
  const header = ['USER', 'STATUS', 'EXPIRES', 'REFRESH', 'SCOPES'];
  const widths = header.map((title, i) => Math.max(title.length, ...lines.map((line) => line[i]!.length)));
  for (const line of [header, ...lines]) {
    context.print(
      line
        .map((cell, i) => (i === line.length - 1 ? cell : cell.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    );
  }
}

async function list(context: Context): Promise<number> {
  const store = await context.open(context.options.store);
  const users = await collect(store.list());
  const results = await forEachUser(
    context,
    users,
    'reading',
    async (userId) => (await store.get(userId))?.credentials,
  );
  const fatal = results.find((result) => isFatal(result.error));
  if (fatal?.error) throw fatal.error;
  const rows = results.map(({ userId, result, error }) =>
    row(userId, result && describeCredentials(result), error),
  );
  if (context.options.json) context.emitJson(rows);
  else printTable(context, rows);
  const bad = rows.filter((r) => r.status !== 'ok').length;
  if (!context.options.json) context.print(`\n${rows.length} users, ${bad} unreadable`);
  return bad > 0 ? EXIT.partial : EXIT.ok;
}

async function show(context: Context, rawUserId: string): Promise<number> {
  const userId = normaliseUserId(rawUserId);
  const store = await context.open(context.options.store);
  let result: Row;
  try {
    const entry = await store.get(userId);
    if (!entry) {
      context.io.stderr.write(`no credentials stored for ${userId}\n`);
      return EXIT.notFound;
    }
    result = row(userId, describeCredentials(entry.credentials));
  } catch (error) {
    if (isFatal(error as Error)) throw error;
    result = row(userId, undefined, error as Error);
  }
  if (context.options.json) context.emitJson(result);
  else printTable(context, [result]);
  return result.status === 'ok' ? EXIT.ok : EXIT.partial;
}

async function remove(context: Context, rawUserId: string): Promise<number> {
  const userId = normaliseUserId(rawUserId);
  const store = await context.open(context.options.store);
  const removed = await store.delete(userId);
  if (context.options.json) context.emitJson({ user: userId, deleted: removed });
  else context.print(removed ? `deleted ${userId}` : `no credentials stored for ${userId}`);
  return removed ? EXIT.ok : EXIT.notFound;
}

type CopyOutcome = 'migrated' | 'updated' | 'unchanged' | 'kept-newer';

/**
 * Writes `record` to `target` unless that would lose something: absent there: only-if-absent write;
 * present and different: written (compare-and-swap) only if ours expires later.
 */
async function copyInto(
  target: CredentialStore,
  userId: string,
  record: StoredCredentials,
  dryRun: boolean,
): Promise<CopyOutcome> {
  for (let attempt = 0; ; attempt++) {
    const existing = await target.get(userId);
    if (existing && isDeepStrictEqual(existing.credentials, record)) return 'unchanged';
    if (existing && (record.expiresAt ?? 0) <= (existing.credentials.expiresAt ?? 0)) return 'kept-newer';
    if (dryRun) return existing ? 'updated' : 'migrated';
    try {
      await target.put(userId, record, { ifVersion: existing ? existing.version : null });
      return existing ? 'updated' : 'migrated';
    } catch (error) {
      if (!(error instanceof CredentialError && error.code === 'CONFLICT') || attempt >= 2) throw error;
    }
  }
}

function summarise(
  context: Context,
  verb: string,
  results: Array<{ userId: string; result?: string; error?: Error }>,
  extra: Record<string, unknown> = {},
): number {
  const counts: Record<string, number> = {};
  for (const { result } of results) if (result) counts[result] = (counts[result] ?? 0) + 1;
  const failed = results.filter((result) => result.error);
  const summary = {
    ...extra,
    total: results.length,
    ...counts,
    failed: failed.map(({ userId, error }) => ({
      user: userId,
      error: `${errorCode(error!)}: ${error!.message}`,
    })),
  };
  if (context.options.json) context.emitJson(summary);
  else {
    const parts = Object.entries(counts).map(([key, value]) => `${value} ${key}`);
    context.print(
      `${verb}: ${results.length} users${parts.length ? `, ${parts.join(', ')}` : ''}, ${failed.length} failed`,
    );
    for (const { user, error } of summary.failed) context.print(`  failed  ${user}  ${error}`);
  }
  return failed.length > 0 ? EXIT.partial : EXIT.ok;
}

async function migrate(context: Context): Promise<number> {
  const { from, to, dryRun } = context.options;
  if (!from || !to) throw new UsageError('usage: migrate --from <spec> --to <spec> [--dry-run]');
  const source = await context.open(from);
  const target = await context.open(to, !dryRun);
  const users = await collect(source.list());
  const results = await forEachUser(context, users, dryRun ? 'checking' : 'migrating', async (userId) => {
    const entry = await source.get(userId);
    if (!entry) return 'unchanged' as CopyOutcome; // removed while we ran
    return copyInto(target, userId, entry.credentials, dryRun);
  });
  const fatal = results.find((result) => isFatal(result.error));
  if (fatal?.error && results.every((result) => result.error)) throw fatal.error;
  return summarise(context, dryRun ? 'migrate (dry run)' : 'migrate', results, { dryRun });
}

async function rotateKey(context: Context): Promise<number> {
  const store = await context.open(context.options.store);
  if (!(store instanceof EncryptedCredentialStore)) {
    throw new UsageError('rotate-key needs an encrypted+ store spec (--store encrypted+<spec>)');
  }
  const users = await collect(store.list());
  const results = await forEachUser(context, users, 'rotating', (userId) => store.rotateRecord(userId));
  return summarise(context, 'rotate-key', results, {
    primaryKeyId: context.requireKeyring('rotate-key').primaryKey().id,
  });
}

async function exportSnapshot(context: Context): Promise<number> {
  const { to } = context.options;
  if (!to) throw new UsageError('usage: export --to <file|s3://bucket/key>');
  const keyring = context.requireKeyring('export');
  const sealer = new EncryptedCredentialStore(new MemoryCredentialStore(), { keyring });
  const store = await context.open(context.options.store);
  const users = await collect(store.list());
  const writer = await openSnapshotWriter(to, context.options.s3);
  const header = {
    format: SNAPSHOT_FORMAT,
    version: 1,
    createdAt: new Date().toISOString(),
    keyId: keyring.primaryKey().id,
  };
  const progress = context.progress('exporting', users.length);
  const limiter = new Semaphore(context.options.concurrency);
  const results: Array<{ userId: string; result?: string; error?: Error }> = [];
  let exported = 0;
  try {
    await writer.write(JSON.stringify(header));
    // Bounded memory: a batch is read concurrently, then written in order, then the next one.
    for (let start = 0; start < users.length; start += EXPORT_BATCH) {
      const batch = await Promise.all(
        users.slice(start, start + EXPORT_BATCH).map((userId) =>
          limiter.run(async () => {
            try {
              const entry = await store.get(userId);
              const line =
                entry &&
                JSON.stringify({ user: userId, record: await sealer.seal(userId, entry.credentials) });
              progress.tick();
              return { userId, line };
            } catch (error) {
              progress.tick(true);
              return { userId, error: error instanceof Error ? error : new Error(String(error)) };
            }
          }),
        ),
      );
      for (const item of batch) {
        if (item.error) {
          if (isFatal(item.error)) throw item.error;
          results.push({ userId: item.userId, error: item.error });
        } else if (item.line === undefined) {
          results.push({ userId: item.userId, result: 'gone' });
        } else {
          await writer.write(item.line);
          exported += 1;
          results.push({ userId: item.userId, result: 'exported' });
        }
      }
    }
    await writer.close();
  } catch (error) {
    progress.finish();
    await writer.abort();
    throw error;
  }
  progress.finish();
  return summarise(context, 'export', results, { to, keyId: header.keyId, exported });
}

async function importSnapshot(context: Context): Promise<number> {
  const { from } = context.options;
  if (!from) throw new UsageError('usage: import --from <file|s3://bucket/key>');
  const keyring = context.requireKeyring('import');
  const opener = new EncryptedCredentialStore(new MemoryCredentialStore(), { keyring });
  const store = await context.open(context.options.store, true);
  const lines = readSnapshotLines(from, context.options.s3);
  const iterator = lines[Symbol.asyncIterator]();
  const first = await iterator.next();
  const header = parseSnapshotHeader(first.done ? undefined : first.value);
  const entries: Array<{ userId: string; record: unknown }> = [];
  const malformed: Array<{ userId: string; error: Error }> = [];
  for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
    try {
      const parsed = JSON.parse(next.value) as { user?: unknown; record?: unknown };
      entries.push({ userId: normaliseUserId(parsed.user), record: parsed.record });
    } catch (error) {
      malformed.push({
        userId: `line ${entries.length + malformed.length + 2}`,
        error:
          error instanceof CredentialError
            ? error
            : new InvalidInputError('a snapshot line is not valid JSON'),
      });
    }
  }
  const byUser = new Map(entries.map((entry) => [entry.userId, entry.record]));
  const results = await forEachUser(context, [...byUser.keys()], 'importing', async (userId) => {
    const record = await opener.open(userId, parseStoredCredentials(byUser.get(userId), userId));
    if (record.userId !== userId)
      throw new InvalidInputError(`the snapshot line for ${userId} names another user`);
    return copyInto(store, userId, record, false);
  });
  return summarise(context, 'import', [...results, ...malformed], { from, keyId: header.keyId });
}
