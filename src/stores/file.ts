/**
 * {@link FileCredentialStore}: one JSON file per user in a directory, in the exact format and with
 * the exact file names google_workspace_mcp uses, so an existing credentials directory works as is
 * and files written here load in the Python server.
 *
 * @module
 */
import { type BigIntStats, constants, fstatSync, type Stats } from 'node:fs';
import { chmod, type FileHandle, lstat, mkdir, open, opendir, rename, stat, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import {
  fromPythonDocument,
  type StoredCredentials,
  toPythonDocument,
  type VersionedCredentials,
} from '../credentials.js';
import {
  AccessDeniedError,
  ConfigurationError,
  ConflictError,
  CorruptCredentialsError,
  CredentialError,
  InvalidInputError,
  StorageUnavailableError,
} from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import { decodeUserIdFromStorage, encodeUserIdForStorage, normaliseUserId } from '../user-id.js';
import { acquireFileLock, errorCode } from './file-lock.js';
import { validateDelete, validateWrite } from './input.js';
import { OperationObserver } from './observe.js';
import type { CredentialStore, DeleteOptions, PutOptions, StoreOperationListener } from './types.js';

/** Options of {@link FileCredentialStore}. */
export interface FileCredentialStoreOptions {
  /**
   * The credentials directory. Created with mode 0700 if missing. `~` at the start is expanded.
   * Default: see {@link defaultCredentialsDirectory}.
   */
  directory?: string;
  /**
   * fsync each written file and the directory before a write resolves. Default `true`. Turning it off
   * trades durability across a power loss for speed; atomicity (no partial file) is kept either way.
   */
  fsync?: boolean;
  /**
   * A lock older than this is taken over even if its owner may be alive, milliseconds. Default 30000.
   * Locks of dead processes on the same host are taken over at once.
   */
  lockStaleMs?: number;
  /** How long a write waits for another writer's lock before `StorageUnavailableError`, milliseconds. Default 10000. */
  lockTimeoutMs?: number;
  /** Receives every operation (see README "Monitoring"). Default: none. */
  onOperation?: StoreOperationListener;
  /** Default: silent. */
  logger?: Logger;
}

/**
 * The directory google_workspace_mcp uses: `WORKSPACE_MCP_CREDENTIALS_DIR`, else
 * `GOOGLE_MCP_CREDENTIALS_DIR`, else `~/.google_workspace_mcp/credentials`.
 */
export function defaultCredentialsDirectory(env: Record<string, string | undefined> = process.env): string {
  const configured = env.WORKSPACE_MCP_CREDENTIALS_DIR || env.GOOGLE_MCP_CREDENTIALS_DIR;
  return configured ? expandHome(configured) : join(homedir(), '.google_workspace_mcp', 'credentials');
}

function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
}

const FILE_SUFFIX = '.json';
const MAX_FILE_NAME_BYTES = 255;
const READ_RETRIES = 3;

/**
 * Stores each user's credentials in `<directory>/<quote(email, safe="@._-")>.json`.
 *
 * - Writes are atomic: a temporary file in the same directory, fsync, rename, fsync of the directory.
 *   A crash leaves either the old or the new file, never a mix. Files are created 0600.
 * - Every write and delete holds a per-user lock file (`.<name>.lock`), which makes
 *   `ifVersion` a real compare-and-swap across processes; locks of killed processes are taken over.
 * - The version is the file's inode, modification time and size, so any write (including one by the
 *   Python server) changes it.
 * - A symlink in place of a credentials file is refused, as is any user id that is not an email.
 */
export class FileCredentialStore implements CredentialStore {
  /** The absolute credentials directory. */
  readonly directory: string;
  readonly #fsync: boolean;
  readonly #lockSettings: { staleMs: number; timeoutMs: number };
  readonly #observer: OperationObserver;
  readonly #logger: Logger;
  #ready: Promise<void> | undefined;

  constructor(options: FileCredentialStoreOptions = {}) {
    this.directory = resolve(expandHome(options.directory ?? defaultCredentialsDirectory()));
    this.#fsync = options.fsync ?? true;
    this.#lockSettings = {
      staleMs: options.lockStaleMs ?? 30_000,
      timeoutMs: options.lockTimeoutMs ?? 10_000,
    };
    this.#logger = options.logger ?? silentLogger;
    this.#observer = new OperationObserver('file', options.onOperation, this.#logger);
  }

  async get(rawUserId: string): Promise<VersionedCredentials | undefined> {
    const userId = normaliseUserId(rawUserId);
    const path = this.#pathFor(userId);
    return this.#observer.run(
      'get',
      userId,
      () => this.#wrap(userId, 'read', () => this.#read(userId, path)),
      (result) => (result ? 'ok' : 'miss'),
    );
  }

  async put(rawUserId: string, credentials: StoredCredentials, options?: PutOptions): Promise<string> {
    const { userId, record } = validateWrite(rawUserId, credentials, options);
    const path = this.#pathFor(userId);
    return this.#observer.run('put', userId, () =>
      this.#wrap(userId, 'write', async () => {
        await this.#ensureDirectory();
        const release = await acquireFileLock(this.#lockPath(path), this.#lockSettings, userId);
        try {
          const current = await this.#currentVersion(userId, path);
          if (options?.ifVersion !== undefined) {
            if (options.ifVersion === null && current !== undefined) {
              throw new ConflictError(`credentials for ${userId} already exist`, { userId });
            }
            if (options.ifVersion !== null && current !== options.ifVersion) {
              throw new ConflictError(`credentials for ${userId} changed since version was read`, { userId });
            }
          }
          return await this.#writeAtomically(path, `${JSON.stringify(toPythonDocument(record), null, 2)}\n`);
        } finally {
          await release();
        }
      }),
    );
  }

  async delete(rawUserId: string, options?: DeleteOptions): Promise<boolean> {
    const userId = validateDelete(rawUserId, options);
    const path = this.#pathFor(userId);
    return this.#observer.run(
      'delete',
      userId,
      () =>
        this.#wrap(userId, 'delete', async () => {
          if (!(await this.#directoryExists())) return false;
          const release = await acquireFileLock(this.#lockPath(path), this.#lockSettings, userId);
          try {
            const current = await this.#currentVersion(userId, path);
            if (current === undefined) return false;
            if (options?.ifVersion !== undefined && current !== options.ifVersion) {
              throw new ConflictError(`credentials for ${userId} changed since version was read`, { userId });
            }
            await unlink(path);
            await this.#syncDirectory();
            return true;
          } finally {
            await release();
          }
        }),
      (removed) => (removed ? 'ok' : 'miss'),
    );
  }

  list(): AsyncIterable<string> {
    return this.#observer.iterate(() => this.#scan());
  }

  async *#scan(): AsyncIterable<string> {
    let directory: Awaited<ReturnType<typeof opendir>>;
    try {
      directory = await opendir(this.directory);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return;
      throw this.#translate(error, undefined, 'list');
    }
    for await (const entry of directory) {
      const name = entry.name;
      if (name.startsWith('.') || !name.endsWith(FILE_SUFFIX)) continue;
      const userId = decodeUserIdFromStorage(name.slice(0, -FILE_SUFFIX.length));
      if (userId === undefined || encodeUserIdForStorage(userId) + FILE_SUFFIX !== name) {
        this.#logger.debug({ store: 'file', file: name }, 'skipping a file that is not a credentials file');
        continue;
      }
      yield userId;
    }
  }

  #pathFor(userId: string): string {
    const fileName = encodeUserIdForStorage(userId) + FILE_SUFFIX;
    if (Buffer.byteLength(fileName) > MAX_FILE_NAME_BYTES) {
      throw new InvalidInputError('user id is too long to be stored as a file name', { userId });
    }
    const path = join(this.directory, fileName);
    if (dirname(path) !== this.directory) {
      throw new InvalidInputError('user id would resolve outside the credentials directory', { userId });
    }
    return path;
  }

  #lockPath(path: string): string {
    return join(this.directory, `.${path.slice(this.directory.length + 1)}.lock`);
  }

  async #read(userId: string, path: string): Promise<VersionedCredentials | undefined> {
    for (let attempt = 1; ; attempt++) {
      let handle: FileHandle;
      try {
        handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
      } catch (error) {
        if (errorCode(error) === 'ENOENT') return undefined;
        throw error;
      }
      let text: string;
      let version: string;
      try {
        const stats = fstatSync(handle.fd, { bigint: true });
        if (!stats.isFile()) {
          throw new InvalidInputError(`credentials path for ${userId} is not a regular file`, { userId });
        }
        version = versionOf(stats);
        text = await handle.readFile('utf8');
      } finally {
        await handle.close();
      }
      let document: unknown;
      try {
        document = JSON.parse(text);
      } catch {
        // The Python server writes in place; a read racing its write sees a partial file. Read again
        // if the file changed under us; otherwise the file really is corrupt.
        if (attempt < READ_RETRIES && (await this.#currentVersion(userId, path)) !== version) continue;
        throw new CorruptCredentialsError(`stored credentials for ${userId} are not valid JSON`, { userId });
      }
      return { credentials: fromPythonDocument(document, userId), version };
    }
  }

  async #currentVersion(userId: string, path: string): Promise<string | undefined> {
    let stats: BigIntStats;
    try {
      stats = await lstat(path, { bigint: true });
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return undefined;
      throw error;
    }
    if (!stats.isFile()) {
      throw new InvalidInputError(`credentials path for ${userId} is not a regular file; refusing it`, {
        userId,
      });
    }
    return versionOf(stats);
  }

  async #writeAtomically(path: string, content: string): Promise<string> {
    const temporary = join(this.directory, `.${path.slice(this.directory.length + 1)}.${process.pid}.tmp`);
    let version: string;
    const handle = await open(
      temporary,
      constants.O_CREAT | constants.O_TRUNC | constants.O_WRONLY | constants.O_NOFOLLOW,
      0o600,
    );
    try {
      await handle.writeFile(content, 'utf8');
      if (this.#fsync) await handle.sync();
      // fstat on an open descriptor does no I/O: the synchronous call spares a thread-pool round trip.
      version = versionOf(fstatSync(handle.fd, { bigint: true }));
    } catch (error) {
      await handle.close();
      await unlink(temporary).catch(() => {});
      throw error;
    }
    await handle.close();
    try {
      await rename(temporary, path);
    } catch (error) {
      await unlink(temporary).catch(() => {});
      throw error;
    }
    await this.#syncDirectory();
    return version;
  }

  async #syncDirectory(): Promise<void> {
    if (!this.#fsync) return;
    const handle = await open(this.directory, constants.O_RDONLY);
    try {
      await handle.sync();
    } catch (error) {
      // Some platforms and file systems do not support fsync on a directory.
      if (!['EINVAL', 'EISDIR', 'EPERM', 'ENOTSUP'].includes(errorCode(error) ?? '')) throw error;
    } finally {
      await handle.close();
    }
  }

  async #directoryExists(): Promise<boolean> {
    try {
      return (await stat(this.directory)).isDirectory();
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return false;
      throw error;
    }
  }

  #ensureDirectory(): Promise<void> {
    this.#ready ??= this.#createDirectory().catch((error: unknown) => {
      this.#ready = undefined;
      throw error;
    });
    return this.#ready;
  }

  async #createDirectory(): Promise<void> {
    const created = await mkdir(this.directory, { recursive: true, mode: 0o700 });
    if (created !== undefined) {
      // mkdir's mode is filtered by the umask; make the final directory exactly 0700.
      await chmod(this.directory, 0o700);
      return;
    }
    const stats: Stats = await stat(this.directory);
    if (!stats.isDirectory()) {
      throw new ConfigurationError(`credentials directory ${this.directory} is not a directory`);
    }
    if ((stats.mode & 0o077) !== 0) {
      this.#logger.warn(
        { store: 'file', directory: this.directory, mode: (stats.mode & 0o777).toString(8) },
        'credentials directory is readable by other users; chmod 700 it',
      );
    }
  }

  async #wrap<T>(userId: string, action: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw this.#translate(error, userId, action);
    }
  }

  #translate(error: unknown, userId: string | undefined, action: string): unknown {
    if (error instanceof CredentialError) return error;
    const code = errorCode(error);
    const who = userId === undefined ? '' : ` for ${userId}`;
    const options = { cause: error, ...(userId === undefined ? {} : { userId }) };
    switch (code) {
      case 'ELOOP':
      case 'EMLINK':
        return new InvalidInputError(`credentials path${who} is a symlink; refusing to follow it`, options);
      case 'EACCES':
      case 'EPERM':
        return new AccessDeniedError(`cannot ${action} credentials${who}: permission denied`, {
          ...options,
          hint: `check the owner and mode of ${this.directory}`,
        });
      case 'ENOTDIR':
        return new ConfigurationError(`credentials directory ${this.directory} is not a directory`, options);
      default:
        return new StorageUnavailableError(
          `cannot ${action} credentials${who} (${code ?? 'unknown error'})`,
          {
            ...options,
            hint: `check that ${this.directory} is on a writable, mounted file system`,
          },
        );
    }
  }
}

function versionOf(stats: { ino: bigint; mtimeNs: bigint; size: bigint }): string {
  return `${stats.ino.toString(36)}-${stats.mtimeNs.toString(36)}-${stats.size.toString(36)}`;
}
