/**
 * {@link FileCredentialStore}: one JSON file per user in a directory, in the exact format and with
 * the exact file names google_workspace_mcp uses, so an existing credentials directory works as is
 * and files written here load in the Python server.
 *
 * @module
 */
import { type BigIntStats, constants, fstatSync, type Stats } from 'node:fs';
import { chmod, type FileHandle, lstat, mkdir, open, opendir, stat, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { LRUCache } from 'lru-cache';
import {
  fromPythonDocument,
  type StoredCredentials,
  toPythonDocument,
  type VersionedCredentials,
} from '../credentials.js';
import { ConfigurationError, ConflictError, CorruptCredentialsError, InvalidInputError } from '../errors.js';
import { durationOption } from '../internal/option-checks.js';
import { type Logger, silentLogger } from '../logger.js';
import { normaliseUserId } from '../user-id.js';
import { translateFileError } from './file-errors.js';
import { syncDirectory, versionOf, writeAtomically } from './file-io.js';
import { LegacyNameIndex } from './file-legacy-names.js';
import { acquireFileLock, errorCode } from './file-lock.js';
import { canonicalFileName, classifyEntry, lockFileName } from './file-names.js';
import { checkDirectoryTrust, checkFileTrust } from './file-trust.js';
import { validateDelete, validateWrite } from './input.js';
import { OperationObserver } from './observe.js';
import type { CredentialStore, DeleteOptions, PutOptions, StoreOperationListener } from './types.js';

/** Default age after which a lock is taken over even if its owner may be alive, ms: 10 s. */
export const DEFAULT_LOCK_STALE_MS = 10_000;
/** Default time a write waits for another writer's lock, ms: 15 s (longer than a lock takes to go stale). */
export const DEFAULT_LOCK_TIMEOUT_MS = 15_000;

/** Options of {@link FileCredentialStore}. */
export interface FileCredentialStoreOptions {
  /**
   * The credentials directory. `~` at the start is expanded. Default: see
   * {@link defaultCredentialsDirectory}.
   */
  directory?: string;
  /**
   * Whether reads may create a missing directory (0700). Default `false`: `get` and `list` on a
   * missing directory throw `ConfigurationError` (a typo'd path is not an empty store); writes always
   * create it.
   */
  createDirectory?: boolean;
  /**
   * The directory is shared with another account (the Python server's) through a group: accept a
   * group-writable directory owned by a group this process is in, and read files owned by other
   * members of the directory's group. A world-writable directory is refused whatever this says.
   * Default `false`: only a directory this process owns that its group cannot write, and only files
   * this process owns.
   */
  sharedGroup?: boolean;
  /**
   * fsync each written file and the directory before a write resolves. Default `true`. Turning it off
   * trades durability across a power loss for speed; atomicity (no partial file) is kept either way.
   */
  fsync?: boolean;
  /**
   * A lock older than this (or dated this far in the future) is taken over even if its owner may be
   * alive, ms. Default {@link DEFAULT_LOCK_STALE_MS}. Locks of dead processes on the same host are
   * taken over at once.
   */
  lockStaleMs?: number;
  /**
   * How long a write waits for another writer's lock before `StorageUnavailableError`, ms. Default
   * {@link DEFAULT_LOCK_TIMEOUT_MS}, longer than the stale age, so a write outlasts an abandoned lock
   * of another host; a shorter wait fails fast instead.
   */
  lockTimeoutMs?: number;
  /** Receives every operation (see docs/stores.md "Monitoring"). Default: none. */
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

const READ_RETRIES = 3;

interface ExistingFile {
  path: string;
  version: string;
  legacy: boolean;
}

/**
 * Stores each user's credentials in `<directory>/<quote(email, safe="@._-")>.json`.
 *
 * - Writes are atomic: an exclusively created temporary file with an unpredictable name, 0600,
 *   fsync, rename, fsync of the directory. A crash leaves either the old or the new file.
 * - Every write and delete holds a per-user lock file (`.<name>.lock`), which makes `ifVersion` a
 *   real compare-and-swap across processes; locks of killed processes are taken over.
 * - It writes only into a directory this process owns that others cannot write, and reads only
 *   files it owns (see `sharedGroup`); a file others can read is read with one warning and written
 *   back 0600.
 * - The version is the file's inode, modification time and size, so any write (including one by the
 *   Python server) changes it.
 * - Names older Python servers wrote (`Bob.Smith@Example.com.json`, unquoted
 *   `o'brien+raw@example.com.json`) are read under the canonical id and replaced by the canonical
 *   file on the next write; `.json` files that name no user are reported (`unmappedFiles`, a warning).
 * - A symlink in place of a credentials file is refused, as is any user id that is not an email.
 */
export class FileCredentialStore implements CredentialStore {
  /** The absolute credentials directory. */
  readonly directory: string;
  readonly #fsync: boolean;
  readonly #createDirectory: boolean;
  readonly #sharedGroup: boolean;
  readonly #lockSettings: { staleMs: number; timeoutMs: number };
  readonly #observer: OperationObserver;
  readonly #logger: Logger;
  // What was warned about (a loose file, a name mapping to no user), bounded: a directory of many
  // such files warns again about the least recent ones, never grows without limit.
  readonly #warned = new LRUCache<string, true>({ max: 10_000 });
  #directoryGid: number | undefined;
  readonly #legacyNames: LegacyNameIndex;

  constructor(options: FileCredentialStoreOptions = {}) {
    this.directory = resolve(expandHome(options.directory ?? defaultCredentialsDirectory()));
    this.#legacyNames = new LegacyNameIndex(this.directory);
    this.#fsync = options.fsync ?? true;
    this.#createDirectory = options.createDirectory ?? false;
    this.#sharedGroup = options.sharedGroup ?? false;
    const staleMs = durationOption('lockStaleMs', options.lockStaleMs, DEFAULT_LOCK_STALE_MS);
    const timeoutMs = durationOption('lockTimeoutMs', options.lockTimeoutMs, DEFAULT_LOCK_TIMEOUT_MS);
    this.#lockSettings = { staleMs, timeoutMs };
    this.#logger = options.logger ?? silentLogger;
    this.#observer = new OperationObserver('file', options.onOperation, this.#logger);
  }

  async get(rawUserId: string): Promise<VersionedCredentials | undefined> {
    const userId = normaliseUserId(rawUserId);
    const fileName = canonicalFileName(userId);
    return this.#observer.run(
      'get',
      userId,
      () =>
        this.#wrap(userId, 'read', async () => {
          await this.#prepare(this.#createDirectory);
          const canonical = await this.#read(userId, this.#path(fileName));
          if (canonical !== undefined) return canonical;
          const legacy = await this.#legacyNames.nameOf(userId);
          return legacy === undefined ? undefined : this.#read(userId, this.#path(legacy));
        }),
      (result) => (result ? 'ok' : 'miss'),
    );
  }

  async put(rawUserId: string, credentials: StoredCredentials, options?: PutOptions): Promise<string> {
    const { userId, record } = validateWrite(rawUserId, credentials, options);
    const fileName = canonicalFileName(userId);
    return this.#observer.run('put', userId, () =>
      this.#wrap(userId, 'write', async () => {
        await this.#prepare(true);
        const release = await acquireFileLock(this.#path(lockFileName(fileName)), this.#lockSettings, userId);
        try {
          const current = await this.#existing(userId, fileName);
          if (options?.ifVersion !== undefined) {
            if (options.ifVersion === null && current !== undefined) {
              throw new ConflictError(`credentials for ${userId} already exist`, { userId });
            }
            if (options.ifVersion !== null && current?.version !== options.ifVersion) {
              throw new ConflictError(`credentials for ${userId} changed since version was read`, { userId });
            }
          }
          const version = await writeAtomically(
            this.directory,
            this.#fsync,
            fileName,
            `${JSON.stringify(toPythonDocument(record), null, 2)}\n`,
          );
          if (current?.legacy) await this.#removeLegacy(userId, current.path);
          return version;
        } finally {
          await release();
        }
      }),
    );
  }

  async delete(rawUserId: string, options?: DeleteOptions): Promise<boolean> {
    const userId = validateDelete(rawUserId, options);
    const fileName = canonicalFileName(userId);
    return this.#observer.run(
      'delete',
      userId,
      () =>
        this.#wrap(userId, 'delete', async () => {
          if (!(await this.#prepare(false, true))) return false;
          const release = await acquireFileLock(
            this.#path(lockFileName(fileName)),
            this.#lockSettings,
            userId,
          );
          try {
            const current = await this.#existing(userId, fileName);
            if (current === undefined) return false;
            if (options?.ifVersion !== undefined && current.version !== options.ifVersion) {
              throw new ConflictError(`credentials for ${userId} changed since version was read`, { userId });
            }
            await unlink(current.path);
            // Stryker disable next-line ConditionalExpression,CallExpression: saves a rebuild only; the unlink changed the directory's mtime, which rebuilds the index anyway
            if (current.legacy) this.#legacyNames.forget(userId);
            // A canonical and a legacy file for one user (written by an older server): remove both.
            const legacy = current.legacy ? undefined : await this.#legacyNames.nameOf(userId);
            if (legacy !== undefined) await this.#removeLegacy(userId, this.#path(legacy));
            await syncDirectory(this.directory, this.#fsync);
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

  /** `.json` files in the directory whose names map to no user (reported, never read). */
  async unmappedFiles(): Promise<string[]> {
    const names: string[] = [];
    await this.#prepare(this.#createDirectory);
    for await (const entry of await opendir(this.directory)) {
      if (classifyEntry(entry.name).kind === 'unmapped') names.push(entry.name);
    }
    return names.sort();
  }

  async *#scan(): AsyncIterable<string> {
    try {
      await this.#prepare(this.#createDirectory);
      for await (const entry of await opendir(this.directory)) {
        const classified = classifyEntry(entry.name);
        if (classified.kind === 'canonical') yield classified.userId;
        else if (classified.kind === 'legacy') {
          // Listed once: under the canonical id, unless the canonical file exists too.
          if (!(await this.#exists(canonicalFileName(classified.userId)))) yield classified.userId;
        } else if (classified.kind === 'unmapped') {
          this.#warnOnce(
            `unmapped:${entry.name}`,
            { store: 'file', file: entry.name },
            'a .json file in the credentials directory names no user; it is not read',
          );
        }
      }
    } catch (error) {
      // Every failure of a listing (the directory, a check of a file in it) as a typed error.
      throw translateFileError(error, { directory: this.directory, action: 'list' });
    }
  }

  #path(fileName: string): string {
    const path = join(this.directory, fileName);
    // Stryker disable next-line ConditionalExpression,BlockStatement: unreachable through the store: the names joined here are encoded user ids and directory entries, which never hold a separator; kept as a second line of defence
    if (dirname(path) !== this.directory) {
      // Stryker disable next-line CallExpression: (the same)
      throw new InvalidInputError('user id would resolve outside the credentials directory');
    }
    return path;
  }

  async #exists(fileName: string): Promise<boolean> {
    try {
      await lstat(this.#path(fileName));
      return true;
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return false;
      throw error;
    }
  }

  /** The record's current file (canonical first, else a legacy name) and its version. */
  async #existing(userId: string, fileName: string): Promise<ExistingFile | undefined> {
    const canonicalPath = this.#path(fileName);
    const version = await this.#currentVersion(userId, canonicalPath);
    if (version !== undefined) return { path: canonicalPath, version, legacy: false };
    const legacy = await this.#legacyNames.nameOf(userId);
    if (legacy === undefined) return undefined;
    const legacyPath = this.#path(legacy);
    const legacyVersion = await this.#currentVersion(userId, legacyPath);
    return legacyVersion === undefined
      ? undefined
      : { path: legacyPath, version: legacyVersion, legacy: true };
  }

  async #removeLegacy(userId: string, path: string): Promise<void> {
    await unlink(path).catch((error: unknown) => {
      if (errorCode(error) !== 'ENOENT') throw error;
    });
    // Stryker disable next-line CallExpression: saves a rebuild only; the unlink changed the directory's mtime, which rebuilds the index anyway
    this.#legacyNames.forget(userId);
    this.#logger.info(
      { store: 'file', userId },
      'replaced a file an older server named differently by the canonical one',
    );
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
        const trust = checkFileTrust(
          path,
          { uid: Number(stats.uid), gid: Number(stats.gid), mode: Number(stats.mode) },
          // Stryker disable next-line LogicalOperator,UnaryOperator: #prepare ran before every read and set the directory's group
          this.#directoryGid ?? -1,
          this.#sharedGroup,
        );
        if (trust === 'readable-by-others') {
          this.#warnOnce(
            `loose:${userId}`,
            { store: 'file', userId, mode: (Number(stats.mode) & 0o777).toString(8) },
            'credentials file is readable by other users; it is written back 0600 on the next save',
          );
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

  /**
   * Checks the directory (and creates it when `create`); resolves false when it is missing and may
   * not be created (only for deletes: nothing to delete). Reads of a missing directory throw.
   */
  async #prepare(create: boolean, forDelete = false): Promise<boolean> {
    let stats: Stats;
    try {
      stats = await stat(this.directory);
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw error;
      if (!create) {
        if (forDelete) return false;
        throw new ConfigurationError(`credentials directory ${this.directory} does not exist`, {
          hint: `create it (mkdir -m 700 ${this.directory}), check the path, or pass createDirectory: true`,
        });
      }
      await mkdir(this.directory, { recursive: true, mode: 0o700 });
      // mkdir's mode is filtered by the umask; make the final directory exactly 0700.
      await chmod(this.directory, 0o700);
      stats = await stat(this.directory);
    }
    // Stryker disable next-line ConditionalExpression,BlockStatement,CallExpression: without this check the first open below fails with ENOTDIR, reported as the same ConfigurationError
    if (!stats.isDirectory()) {
      // Stryker disable next-line CallExpression: (the same: the open below reports it alike)
      throw new ConfigurationError(`credentials directory ${this.directory} is not a directory`);
    }
    checkDirectoryTrust(this.directory, stats, this.#sharedGroup);
    this.#directoryGid = stats.gid;
    return true;
  }

  #warnOnce(key: string, fields: Record<string, unknown>, message: string): void {
    if (this.#warned.has(key)) return;
    // Stryker disable next-line BooleanLiteral: has() answers for any value stored
    this.#warned.set(key, true);
    this.#logger.warn(fields, message);
  }

  async #wrap<T>(userId: string, action: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw translateFileError(error, { directory: this.directory, userId, action });
    }
  }
}
