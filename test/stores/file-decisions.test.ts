/**
 * Each refusal and report of the file store by its own test, on a real directory: what is not a
 * regular file or not a directory, a missing directory for each operation, the trust warning only
 * where it applies, conflicts and path errors naming the user, and listing order. The contract and
 * the cross-process behaviour are in file.test.ts; attacks by another account in file-hardening.test.ts.
 */
import { existsSync, readdirSync } from 'node:fs';
import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ConfigurationError,
  ConflictError,
  FileCredentialStore,
  InvalidInputError,
  type StoredCredentials,
  type StoreOperationEvent,
} from '../../src/index.js';
import { sampleCredentials } from '../../src/testing/index.js';
import { type RecordedLine, recordingLogger } from '../support/recording-logger.js';
import { rejectionOf } from '../support/rejection.js';
import { makeTempDir } from '../support/temp-dir.js';

const ADA = 'ada@example.com';

let root: { path: string; dispose: () => Promise<void> };
let directory: string;
beforeEach(async () => {
  root = await makeTempDir();
  directory = join(root.path, 'credentials');
  await mkdir(directory, { mode: 0o700 });
});
afterEach(() => root.dispose());

const record = (userId: string): StoredCredentials => sampleCredentials(userId);

describe('FileCredentialStore refusals', () => {
  it('a directory where a credentials file should be is refused, naming the user', async () => {
    await mkdir(join(directory, `${ADA}.json`));
    const error = await rejectionOf(new FileCredentialStore({ directory }).get(ADA));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message).toContain('not a regular file');
    expect((error as InvalidInputError).userId).toBe(ADA);
    // A delete checks it before taking anything away, with the same refusal.
    const refusedDelete = await rejectionOf(new FileCredentialStore({ directory }).delete(ADA));
    expect(refusedDelete.message).toBe(`credentials path for ${ADA} is not a regular file; refusing it`);
    expect((refusedDelete as InvalidInputError).userId).toBe(ADA);
  });

  it('a symlink in place of the file is refused with an error naming the user, not the target', async () => {
    await writeFile(join(root.path, 'elsewhere.json'), '{}');
    await symlink(join(root.path, 'elsewhere.json'), join(directory, `${ADA}.json`));
    const error = await rejectionOf(new FileCredentialStore({ directory }).get(ADA));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message).toBe(`credentials path for ${ADA} is a symlink; refusing to follow it`);
    expect((error as InvalidInputError).userId).toBe(ADA);
  });

  it('a credentials directory under a file is not a directory (not a missing one to create)', async () => {
    const file = join(root.path, 'plain-file');
    await writeFile(file, '');
    const below = join(file, 'credentials');
    for (const store of [
      new FileCredentialStore({ directory: below }),
      new FileCredentialStore({ directory: below, createDirectory: true }),
    ]) {
      const error = await rejectionOf(store.get(ADA));
      expect(error).toBeInstanceOf(ConfigurationError);
      expect(error.message).toBe(`credentials directory ${below} is not a directory`);
    }
  });

  it('a credentials "directory" that is a file is a ConfigurationError', async () => {
    const file = join(root.path, 'plain-file');
    await writeFile(file, '');
    const error = await rejectionOf(new FileCredentialStore({ directory: file }).get(ADA));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toBe(`credentials directory ${file} is not a directory`);
  });

  it('a missing directory: reads and listing fail with a hint, deletes find nothing', async () => {
    const missing = join(root.path, 'missing');
    const store = new FileCredentialStore({ directory: missing });
    const error = await rejectionOf(store.get(ADA));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).hint).toContain(`mkdir -m 700 ${missing}`);
    expect(await store.delete(ADA)).toBe(false);
    const listing = async () => {
      for await (const _userId of store.list()) {
        // nothing to list
      }
    };
    expect(await rejectionOf(listing())).toBeInstanceOf(ConfigurationError);
    expect(await rejectionOf(store.unmappedFiles())).toBeInstanceOf(ConfigurationError);
  });

  it('conflicts name the user: create over an existing record, stale write, stale delete', async () => {
    const store = new FileCredentialStore({ directory, fsync: false });
    const version = await store.put(ADA, record(ADA));
    const exists = await rejectionOf(store.put(ADA, record(ADA), { ifVersion: null }));
    expect(exists).toBeInstanceOf(ConflictError);
    expect((exists as ConflictError).userId).toBe(ADA);
    await store.put(ADA, record(ADA));
    // One at a time: started together, the second could reject before anything awaits it.
    for (const attempt of [
      () => store.put(ADA, record(ADA), { ifVersion: version }),
      () => store.delete(ADA, { ifVersion: version }),
    ]) {
      const stale = await rejectionOf(attempt());
      expect(stale).toBeInstanceOf(ConflictError);
      expect((stale as ConflictError).userId).toBe(ADA);
    }
  });
});

describe('FileCredentialStore reports', () => {
  it('deleting a user who has only the canonical file removes it and reports no older-named file', async () => {
    const lines: RecordedLine[] = [];
    const store = new FileCredentialStore({ directory, fsync: false, logger: recordingLogger(lines) });
    await store.put(ADA, record(ADA));
    await store.put('bob@example.com', record('bob@example.com'));
    expect(await store.delete(ADA)).toBe(true);
    expect(lines).toEqual([]);
    expect(await store.get(ADA)).toBeUndefined();
    expect((await store.get('bob@example.com'))?.credentials.userId).toBe('bob@example.com');
  });

  it('warns about a file others can read, and never about a 0600 one', async () => {
    const lines: RecordedLine[] = [];
    const writer = new FileCredentialStore({ directory, fsync: false });
    await writer.put(ADA, record(ADA));
    await writer.put('bob@example.com', record('bob@example.com'));
    await chmod(join(directory, 'bob@example.com.json'), 0o644);
    const store = new FileCredentialStore({ directory, logger: recordingLogger(lines) });
    await store.get(ADA);
    expect(lines).toEqual([]);
    await store.get('bob@example.com');
    await store.get('bob@example.com');
    expect(lines).toEqual([
      {
        level: 'warn',
        message: 'credentials file is readable by other users; it is written back 0600 on the next save',
        fields: { store: 'file', userId: 'bob@example.com', mode: '644' },
      },
    ]);
  });

  it('reports the .json files that name no user, in order', async () => {
    // Created in an order that is sorted neither forwards nor backwards.
    for (const name of ['mid.json', 'alpha.json', 'zeta.json', `${ADA}.json`]) {
      await writeFile(join(directory, name), '{}');
    }
    expect(await new FileCredentialStore({ directory }).unmappedFiles()).toEqual([
      'alpha.json',
      'mid.json',
      'zeta.json',
    ]);
  });

  it("reports a found record and a deleted one as 'ok', nothing there as 'miss'", async () => {
    const events: StoreOperationEvent[] = [];
    const store = new FileCredentialStore({
      directory,
      fsync: false,
      onOperation: (event) => events.push(event),
    });
    await store.get(ADA);
    await store.delete(ADA);
    await store.put(ADA, record(ADA));
    await store.get(ADA);
    await store.delete(ADA);
    expect(events.map((event) => `${event.operation}:${event.outcome}`)).toEqual([
      'get:miss',
      'delete:miss',
      'put:ok',
      'get:ok',
      'delete:ok',
    ]);
  });

  it('lists without a word about files that are not records (locks, temporary files, other extensions)', async () => {
    const lines: RecordedLine[] = [];
    const store = new FileCredentialStore({ directory, fsync: false, logger: recordingLogger(lines) });
    await store.put(ADA, record(ADA));
    for (const name of [`.${ADA}.json.lock`, `.${ADA}.json.abc123.tmp`, 'notes.txt', 'README']) {
      await writeFile(join(directory, name), 'x');
    }
    const listed: string[] = [];
    for await (const userId of store.list()) listed.push(userId);
    expect(listed).toEqual([ADA]);
    expect(lines).toEqual([]);
  });

  it.skipIf(!existsSync('/proc/self/fd'))(
    'closes every file it opens: reads, misses and refusals leave no descriptor behind (Linux /proc)',
    async () => {
      const store = new FileCredentialStore({ directory, fsync: false });
      await store.put(ADA, record(ADA));
      await mkdir(join(directory, 'bob@example.com.json'));
      const openDescriptors = () => readdirSync('/proc/self/fd').length;
      const before = openDescriptors();
      for (let i = 0; i < 50; i++) {
        await store.get(ADA);
        await store.get('nobody@example.com');
        await store.get('bob@example.com').catch(() => undefined);
      }
      expect(openDescriptors()).toBeLessThanOrEqual(before + 2);
    },
  );

  it('expands ~ in the directory to the home directory', () => {
    expect(new FileCredentialStore({ directory: '~/creds' }).directory).toBe(join(homedir(), 'creds'));
    expect(new FileCredentialStore({ directory: '~' }).directory).toBe(homedir());
    expect(new FileCredentialStore({ directory: '/srv/~creds' }).directory).toBe('/srv/~creds');
  });
});
