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
});
