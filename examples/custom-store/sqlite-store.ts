/**
 * A credential store on SQLite (better-sqlite3 12), written only against the public API of
 * mcp-oauth-credentials. It is the worked example of "Write your own store" in the README and
 * passes the package's contract suite (see sqlite-store.test.ts).
 */
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import {
  ConflictError,
  CorruptCredentialsError,
  type CredentialStore,
  type DeleteOptions,
  normaliseUserId,
  type PutOptions,
  parseStoredCredentials,
  StorageUnavailableError,
  type StoredCredentials,
  type VersionedCredentials,
  validateDelete,
  validateWrite,
} from 'mcp-oauth-credentials';

export interface SqliteCredentialStoreOptions {
  /** An open better-sqlite3 database. The store creates its table if missing. */
  database: Database.Database;
  /** Table name. Default `oauth_credentials`. */
  table?: string;
}

interface Row {
  record: string;
  version: string;
}

export class SqliteCredentialStore implements CredentialStore {
  readonly #db: Database.Database;
  readonly #statements;

  constructor(options: SqliteCredentialStoreOptions) {
    this.#db = options.database;
    const table = options.table ?? 'oauth_credentials';
    if (!/^[a-z_][a-z0-9_]*$/i.test(table)) throw new Error('table name must be a plain identifier');
    this.#db.exec(
      `CREATE TABLE IF NOT EXISTS ${table} (user_id TEXT PRIMARY KEY, record TEXT NOT NULL, version TEXT NOT NULL)`,
    );
    this.#statements = {
      get: this.#db.prepare<[string], Row>(`SELECT record, version FROM ${table} WHERE user_id = ?`),
      upsert: this.#db.prepare(
        `INSERT INTO ${table} (user_id, record, version) VALUES (?, ?, ?)
         ON CONFLICT(user_id) DO UPDATE SET record = excluded.record, version = excluded.version`,
      ),
      insertIfAbsent: this.#db.prepare(
        `INSERT INTO ${table} (user_id, record, version) VALUES (?, ?, ?) ON CONFLICT(user_id) DO NOTHING`,
      ),
      updateIfVersion: this.#db.prepare(
        `UPDATE ${table} SET record = ?, version = ? WHERE user_id = ? AND version = ?`,
      ),
      delete: this.#db.prepare(`DELETE FROM ${table} WHERE user_id = ?`),
      deleteIfVersion: this.#db.prepare(`DELETE FROM ${table} WHERE user_id = ? AND version = ?`),
      list: this.#db.prepare<[], { user_id: string }>(`SELECT user_id FROM ${table}`),
    };
  }

  async get(rawUserId: string): Promise<VersionedCredentials | undefined> {
    const userId = normaliseUserId(rawUserId);
    const row = this.#run(userId, () => this.#statements.get.get(userId));
    if (!row) return undefined;
    let document: unknown;
    try {
      document = JSON.parse(row.record);
    } catch {
      throw new CorruptCredentialsError(`stored credentials for ${userId} are not valid JSON`, { userId });
    }
    return { credentials: parseStoredCredentials(document, userId), version: row.version };
  }

  async put(rawUserId: string, credentials: StoredCredentials, options?: PutOptions): Promise<string> {
    const { userId, record } = validateWrite(rawUserId, credentials, options);
    const json = JSON.stringify(record);
    const version = randomUUID();
    const changes = this.#run(userId, () => {
      if (options?.ifVersion === undefined) return this.#statements.upsert.run(userId, json, version).changes;
      if (options.ifVersion === null)
        return this.#statements.insertIfAbsent.run(userId, json, version).changes;
      return this.#statements.updateIfVersion.run(json, version, userId, options.ifVersion).changes;
    });
    if (changes === 0)
      throw new ConflictError(`credentials for ${userId} changed since version was read`, { userId });
    return version;
  }

  async delete(rawUserId: string, options?: DeleteOptions): Promise<boolean> {
    const userId = validateDelete(rawUserId, options);
    return this.#run(userId, () => {
      if (options?.ifVersion === undefined) return this.#statements.delete.run(userId).changes > 0;
      if (this.#statements.deleteIfVersion.run(userId, options.ifVersion).changes > 0) return true;
      if (this.#statements.get.get(userId)) {
        throw new ConflictError(`credentials for ${userId} changed since version was read`, { userId });
      }
      return false;
    });
  }

  async *list(): AsyncIterable<string> {
    const rows = this.#run(undefined, () => this.#statements.list.all());
    for (const row of rows) yield row.user_id;
  }

  #run<T>(userId: string | undefined, work: () => T): T {
    try {
      return work();
    } catch (error) {
      if (error instanceof ConflictError) throw error;
      throw new StorageUnavailableError(`SQLite credential store failed${userId ? ` for ${userId}` : ''}`, {
        cause: error,
        ...(userId ? { userId } : {}),
      });
    }
  }
}
