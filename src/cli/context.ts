/**
 * What every CLI command works with: its options and output streams, the stores it opens (closed at
 * the end), the keyring (read only when needed), and printing.
 *
 * @module
 */
import { type Keyring, keyringFromEnv } from '../encryption/keyring.js';
import { ConfigurationError } from '../errors.js';
import { createCredentialStore } from '../stores/create.js';
import type { CredentialStore } from '../stores/types.js';
import type { Options } from './args.js';
import { ProgressBar, type ProgressStream } from './progress.js';

/** Where the CLI writes and what it reads. */
export interface CliIo {
  stdout: ProgressStream;
  stderr: ProgressStream;
  env: Record<string, string | undefined>;
}

const ENCRYPTED = /^encrypted\+/i;

/** A store spec as it may be printed: a password in a URL is replaced by `***`. */
export function displaySpec(spec: string | undefined): string {
  if (spec === undefined || spec.trim() === '') return 'the default credentials directory';
  return spec.replace(/^((?:encrypted\+)?[a-z][a-z0-9+.-]*:\/\/[^/:@]*:)[^@/]*@/i, '$1***@');
}

/** See the module documentation. */
export class Context {
  readonly io: CliIo;
  readonly options: Options;
  #keyring: Keyring | undefined | null = null;
  readonly #opened: CredentialStore[] = [];

  constructor(io: CliIo, options: Options) {
    this.io = io;
    this.options = options;
  }

  /** The keyring from `--keys-env` (default MCP_OAUTH_CREDENTIALS_KEYS), read on first use only. */
  keyring(): Keyring | undefined {
    if (this.#keyring === null) this.#keyring = keyringFromEnv(this.io.env, this.options.keysEnv);
    return this.#keyring;
  }

  requireKeyring(purpose: string): Keyring {
    const keyring = this.keyring();
    if (!keyring) {
      throw new ConfigurationError(`${purpose} needs keys, and ${this.options.keysEnv} is not set`, {
        hint: `set ${this.options.keysEnv}="id:base64key,..." (primary first)`,
      });
    }
    return keyring;
  }

  /**
   * Opens a store. `destination`: a store this command writes into (a missing directory or table is
   * created); otherwise a missing directory is a `ConfigurationError` (exit 3), not an empty store.
   * Keys are read only for `encrypted+` specs, so a malformed key variable never blocks the rest.
   */
  async open(spec: string | undefined, destination = false): Promise<CredentialStore> {
    const encrypted = spec !== undefined && ENCRYPTED.test(spec.trim());
    const keyring = encrypted ? this.requireKeyring(`the store ${displaySpec(spec)}`) : undefined;
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

  /** A notice on stderr (never stdout, which `--json` output owns). */
  warn(text: string): void {
    this.io.stderr.write(`${text}\n`);
  }

  emitJson(value: unknown): void {
    this.print(JSON.stringify(value, null, 2));
  }

  progress(label: string, total: number): ProgressBar {
    return new ProgressBar(this.io.stderr, label, total, !this.options.json);
  }
}
