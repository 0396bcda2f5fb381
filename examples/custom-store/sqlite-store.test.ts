import Database from 'better-sqlite3';
import { describeCredentialStoreContract } from 'mcp-oauth-credentials/testing';
import { SqliteCredentialStore } from './sqlite-store.js';

const databases = new WeakMap<object, Database.Database>();

describeCredentialStoreContract('SqliteCredentialStore (examples/custom-store)', {
  createStore: () => {
    const database = new Database(':memory:');
    const store = new SqliteCredentialStore({ database });
    databases.set(store, database);
    return store;
  },
  disposeStore: (store) => {
    databases.get(store)?.close();
  },
  // Damages a row the way a bad migration or a disk error would: the contract then checks that the
  // store reports it as CorruptCredentialsError naming the user, and keeps the others readable.
  corruptRecord: async (store, userId) => {
    databases
      .get(store)!
      .prepare('UPDATE oauth_credentials SET record = ? WHERE user_id = ?')
      .run('{"accessToken": 42', userId);
  },
});
