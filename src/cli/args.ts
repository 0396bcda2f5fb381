/**
 * The CLI's commands, their flags and help texts, exit codes, and argument parsing (one definition
 * per flag, shared by the commands that take it).
 *
 * @module
 */
import { parseArgs } from 'node:util';
import { KEYS_ENV_VAR } from '../encryption/keyring.js';

/** Exit codes: documented in `--help` and the README, each one tested. */
export const EXIT = {
  ok: 0,
  /** Some users failed (corrupt, unreadable, not written); the rest succeeded. */
  partial: 1,
  /** Bad arguments, or a refusal a flag overrides (`export` over an existing snapshot without `--force`). */
  usage: 2,
  /** The store or snapshot cannot be used: configuration, permissions, unreachable, not a (whole) snapshot. */
  unavailable: 3,
  /** `show` / `delete`: no such user. */
  notFound: 4,
  /** `doctor`: at least one check failed. */
  checksFailed: 5,
  /** A bug in this program (never 1, which means "some users failed"). */
  internal: 70,
} as const;

/** A mistake in the command line: exit 2 with one line and a pointer to `--help`. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
  }
}

type FlagName =
  | 'store'
  | 'from'
  | 'to'
  | 'json'
  | 'dry-run'
  | 'accept-plaintext'
  | 'keys-env'
  | 'concurrency'
  | 's3-endpoint'
  | 's3-region'
  | 's3-path-style'
  | 'force'
  | 'allow-partial'
  | 'help';

const FLAGS: Record<FlagName, { type: 'string' | 'boolean'; short?: string; help: string }> = {
  store: {
    type: 'string',
    help: '--store <spec>            the store (default: WORKSPACE_MCP_CREDENTIALS_DIR, GOOGLE_MCP_CREDENTIALS_DIR,\n                            ~/.google_workspace_mcp/credentials)',
  },
  from: { type: 'string', help: '--from <spec|snapshot>    where to read' },
  to: {
    type: 'string',
    help: "--to <spec|snapshot>      where to write (a store's table or directory is created)",
  },
  json: {
    type: 'boolean',
    help: '--json                    machine-readable output (and a JSON error object on failure)',
  },
  'dry-run': { type: 'boolean', help: '--dry-run                 report what would happen, write nothing' },
  'accept-plaintext': {
    type: 'boolean',
    help: '--accept-plaintext        read unencrypted records from encrypted+ stores (to migrate them)',
  },
  'keys-env': {
    type: 'string',
    help: `--keys-env <VAR>          read keys from VAR instead of ${KEYS_ENV_VAR}`,
  },
  concurrency: { type: 'string', help: '--concurrency <n>         users processed at once (default 8)' },
  's3-endpoint': { type: 'string', help: '--s3-endpoint <url>       S3 endpoint (MinIO, an emulator)' },
  's3-region': { type: 'string', help: '--s3-region <region>      S3 region (default: the AWS environment)' },
  's3-path-style': { type: 'boolean', help: '--s3-path-style           path-style S3 URLs (most emulators)' },
  force: { type: 'boolean', help: '--force                   overwrite an existing snapshot' },
  'allow-partial': {
    type: 'boolean',
    help: '--allow-partial           import a snapshot whose trailer is missing or does not match (truncated)',
  },
  help: { type: 'boolean', short: 'h', help: '--help, -h                this help' },
};

const S3_FLAGS: FlagName[] = ['s3-endpoint', 's3-region', 's3-path-style'];
const KEY_FLAGS: FlagName[] = ['keys-env', 'accept-plaintext'];

/** One command: its synopsis, what it does, its flags and an example. */
interface CommandSpec {
  synopsis: string;
  summary: string;
  flags: FlagName[];
  positionals: number;
  example: string;
}

export const COMMANDS = {
  list: {
    synopsis: 'list [--store <spec>]',
    summary:
      'every user: status (ok, expired, no-refresh-token, corrupt), expiry, refresh token, scopes; never tokens',
    flags: ['store', 'json', 'concurrency', ...KEY_FLAGS, ...S3_FLAGS],
    positionals: 0,
    example: 'mcp-oauth-credentials list --store ~/.google_workspace_mcp/credentials',
  },
  show: {
    synopsis: 'show <user> [--store <spec>]',
    summary: 'one user, the same fields',
    flags: ['store', 'json', ...KEY_FLAGS, ...S3_FLAGS],
    positionals: 1,
    example: 'mcp-oauth-credentials show alice@example.com --json',
  },
  delete: {
    synopsis: 'delete <user> [--store <spec>]',
    summary: "remove a user's credentials",
    flags: ['store', 'json', ...KEY_FLAGS, ...S3_FLAGS],
    positionals: 1,
    example: 'mcp-oauth-credentials delete alice@example.com --store s3://bucket/mcp/',
  },
  migrate: {
    synopsis: 'migrate --from <spec> --to <spec> [--dry-run]',
    summary:
      'copy every user; a record that can be refreshed wins over one that cannot, then the newer; never loses a refresh token',
    flags: ['from', 'to', 'dry-run', 'json', 'concurrency', ...KEY_FLAGS, ...S3_FLAGS],
    positionals: 0,
    example:
      'mcp-oauth-credentials migrate --from ~/.google_workspace_mcp/credentials --to encrypted+s3://bucket/mcp/',
  },
  'rotate-key': {
    synopsis: 'rotate-key --store encrypted+<spec>',
    summary: 're-seal every record under the primary key (resumable)',
    flags: ['store', 'json', 'concurrency', ...KEY_FLAGS, ...S3_FLAGS],
    positionals: 0,
    example: `${KEYS_ENV_VAR}="new:...,old:..." mcp-oauth-credentials rotate-key --store encrypted+s3://bucket/mcp/`,
  },
  export: {
    synopsis: 'export --to <file|s3://bucket/key> [--store <spec>] [--force]',
    summary:
      'a snapshot: encrypted JSON lines with a trailer (count and digest); refuses to overwrite without --force',
    flags: ['store', 'to', 'force', 'json', 'concurrency', ...KEY_FLAGS, ...S3_FLAGS],
    positionals: 0,
    example: 'mcp-oauth-credentials export --to backup.jsonl',
  },
  import: {
    synopsis: 'import --from <file|s3://bucket/key> [--store <spec>] [--allow-partial]',
    summary: 'restore a snapshot (checked against its trailer first) without overwriting newer records',
    flags: ['store', 'from', 'allow-partial', 'json', 'concurrency', ...KEY_FLAGS, ...S3_FLAGS],
    positionals: 0,
    example: 'mcp-oauth-credentials import --from backup.jsonl --store encrypted+s3://bucket/mcp/',
  },
  doctor: {
    synopsis: 'doctor [--store <spec>]',
    summary:
      'checks a store end to end: reach, permissions, a write/read/delete round trip, compare-and-swap, keys',
    flags: ['store', 'json', ...KEY_FLAGS, ...S3_FLAGS],
    positionals: 0,
    example: 'mcp-oauth-credentials doctor --store s3://bucket/mcp/',
  },
} satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof COMMANDS;

/** The parsed options of every command (unused ones keep their defaults). */
export interface Options {
  store?: string;
  from?: string;
  to?: string;
  json: boolean;
  dryRun: boolean;
  acceptPlaintext: boolean;
  keysEnv: string;
  concurrency: number;
  force: boolean;
  allowPartial: boolean;
  s3: { endpoint?: string; region?: string; forcePathStyle?: boolean };
}

const EXIT_HELP = `Exit codes:
  0   ok
  1   some users failed (the others succeeded)
  2   usage error, or a refusal a flag overrides (--force)
  3   the store or snapshot cannot be used (configuration, permissions, unreachable, truncated)
  4   no such user (show, delete)
  5   doctor: a check failed
  70  internal error (a bug: please report it)`;

const SPECS = `Store specs: memory:, a directory, file:///dir, s3://bucket/prefix/, postgres://user:password@host/db,
  dynamodb://table[/prefix/] (AWS_REGION, AWS_ENDPOINT_URL_DYNAMODB), or encrypted+<spec>
  (keys from ${KEYS_ENV_VAR}="id:base64key,...", primary first; read only for encrypted+ specs,
  export and import).`;

/** The whole usage text (`--help`). */
export function usage(nodeRange: string): string {
  const commands = Object.values(COMMANDS)
    .map((spec) => `  ${spec.synopsis}\n      ${spec.summary}`)
    .join('\n');
  return `Usage: mcp-oauth-credentials <command> [options]   (mcp-oauth-credentials <command> --help for its flags)

Commands:
${commands}

${SPECS}

${EXIT_HELP}

Runs on Node.js ${nodeRange}. Never prints a token.
`;
}

/** One command's help: synopsis, flags, example. */
export function commandUsage(name: CommandName): string {
  const spec: CommandSpec = COMMANDS[name];
  const flags = [...new Set<FlagName>([...spec.flags, 'help'])]
    .map((flag) => `  ${FLAGS[flag].help}`)
    .join('\n');
  return `Usage: mcp-oauth-credentials ${spec.synopsis}

${spec.summary}

Options:
${flags}

Example:
  ${spec.example}

${EXIT_HELP}
`;
}

/** What {@link parse} found: a command to run, or help / the version to print. */
export type Parsed =
  | { kind: 'help'; command?: CommandName }
  | { kind: 'version' }
  | { kind: 'run'; command: CommandName; positionals: string[]; options: Options };

/** Parses the command line; throws {@link UsageError} with a one-line message. */
export function parse(argv: string[]): Parsed {
  if (argv[0] === '--version' || argv[0] === '-v') return { kind: 'version' };
  const [first, ...rest] = argv;
  if (first === undefined || first === 'help' || first === '--help' || first === '-h')
    return { kind: 'help' };
  if (!(first in COMMANDS)) {
    throw new UsageError(
      first.startsWith('-') ? `expected a command before ${first}` : `unknown command ${first}`,
    );
  }
  const command = first as CommandName;
  const spec: CommandSpec = COMMANDS[command];
  const allowed = new Set<FlagName>([...spec.flags, 'help']);
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: Object.fromEntries(
        [...allowed].map((flag) => [
          flag,
          { type: FLAGS[flag].type, ...(FLAGS[flag].short ? { short: FLAGS[flag].short } : {}) },
        ]),
      ),
    });
  } catch (error) {
    throw new UsageError(describeParseError(error, rest), command);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values.help) return { kind: 'help', command };
  if (parsed.positionals.length !== spec.positionals) {
    throw new UsageError(
      spec.positionals === 0
        ? `${command} takes no arguments (got ${parsed.positionals[0]})`
        : `${command} needs exactly ${spec.positionals} argument (${spec.synopsis.split(' ')[1]})`,
      command,
    );
  }
  const concurrency = values.concurrency === undefined ? 8 : Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) {
    throw new UsageError('--concurrency must be an integer from 1 to 256', command);
  }
  const keysEnv = typeof values['keys-env'] === 'string' ? values['keys-env'] : KEYS_ENV_VAR;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(keysEnv))
    throw new UsageError('--keys-env must name an environment variable', command);
  return {
    kind: 'run',
    command,
    positionals: parsed.positionals,
    options: {
      ...(typeof values.store === 'string' ? { store: values.store } : {}),
      ...(typeof values.from === 'string' ? { from: values.from } : {}),
      ...(typeof values.to === 'string' ? { to: values.to } : {}),
      json: values.json === true,
      dryRun: values['dry-run'] === true,
      acceptPlaintext: values['accept-plaintext'] === true,
      keysEnv,
      concurrency,
      force: values.force === true,
      allowPartial: values['allow-partial'] === true,
      s3: {
        ...(typeof values['s3-endpoint'] === 'string' ? { endpoint: values['s3-endpoint'] } : {}),
        ...(typeof values['s3-region'] === 'string' ? { region: values['s3-region'] } : {}),
        ...(values['s3-path-style'] ? { forcePathStyle: true } : {}),
      },
    },
  };
}

/** node:util's messages are long and quote oddly: one short line instead. */
function describeParseError(error: unknown, args: string[]): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  const named = /'(-{1,2}[^'\s]+)'/.exec(message)?.[1] ?? args.find((arg) => arg.startsWith('-')) ?? '';
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown option ${named}`;
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') return `option ${named.split(' ')[0]} needs a value`;
  return message.split('\n')[0]!.replace(/[.]$/, '');
}
