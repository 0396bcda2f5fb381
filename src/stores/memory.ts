/**
 * {@link MemoryCredentialStore}: credentials in process memory. For tests, single-process
 * development and as a reference implementation of the contract. Everything is lost on restart.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { StoredCredentials, VersionedCredentials } from '../credentials.js';
import { ConflictError } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import { normaliseUserId } from '../user-id.js';
import { validateDelete, validateWrite } from './input.js';
import { OperationObserver } from './observe.js';
import type { CredentialStore, DeleteOptions, PutOptions, StoreOperationListener } from './types.js';

/** Options of {@link MemoryCredentialStore}. */
export interface MemoryCredentialStoreOptions {
  /** Receives every operation (see docs/observability.md). Default: none. */
  onOperation?: StoreOperationListener;
  /** Default: silent. */
  logger?: Logger;
}

interface Entry {
  record: StoredCredentials;
  version: string;
}

/**
 * Keeps records in a `Map`. Records are copied in and out, so callers cannot change stored state by
 * mutating what they passed or received. Versions never repeat within an instance, even across a
 * delete and a re-create.
 */
export class MemoryCredentialStore implements CredentialStore {
  readonly #entries = new Map<string, Entry>();
  readonly #observer: OperationObserver;
  readonly #versionPrefix = randomBytes(4).toString('hex');
  #counter = 0;

  constructor(options: MemoryCredentialStoreOptions = {}) {
    this.#observer = new OperationObserver('memory', options.onOperation, options.logger ?? silentLogger);
  }

  /** Number of stored users. */
  get size(): number {
    return this.#entries.size;
  }

  async get(rawUserId: string): Promise<VersionedCredentials | undefined> {
    const userId = normaliseUserId(rawUserId);
    return this.#observer.run(
      'get',
      userId,
      async () => {
        const entry = this.#entries.get(userId);
        return entry && { credentials: structuredClone(entry.record), version: entry.version };
      },
      (result) => (result ? 'ok' : 'miss'),
    );
  }

  async put(rawUserId: string, credentials: StoredCredentials, options?: PutOptions): Promise<string> {
    const { userId, record } = validateWrite(rawUserId, credentials, options);
    return this.#observer.run('put', userId, async () => {
      const current = this.#entries.get(userId);
      const ifVersion = options?.ifVersion;
      if (ifVersion === null && current) {
        throw new ConflictError(`credentials for ${userId} already exist`, { userId });
      }
      if (typeof ifVersion === 'string' && current?.version !== ifVersion) {
        throw new ConflictError(`credentials for ${userId} changed since version was read`, { userId });
      }
      const version = `${this.#versionPrefix}-${++this.#counter}`;
      this.#entries.set(userId, { record: structuredClone(record), version });
      return version;
    });
  }

  async delete(rawUserId: string, options?: DeleteOptions): Promise<boolean> {
    const userId = validateDelete(rawUserId, options);
    return this.#observer.run(
      'delete',
      userId,
      async () => {
        const current = this.#entries.get(userId);
        if (options?.ifVersion !== undefined && current?.version !== options.ifVersion) {
          if (!current) return false;
          throw new ConflictError(`credentials for ${userId} changed since version was read`, { userId });
        }
        return this.#entries.delete(userId);
      },
      (removed) => (removed ? 'ok' : 'miss'),
    );
  }

  list(): AsyncIterable<string> {
    return this.#observer.iterate(() => this.#snapshot());
  }

  async *#snapshot(): AsyncIterable<string> {
    yield* [...this.#entries.keys()];
  }
}
