/**
 * The file store against another local account and a misconfigured deployment: temp-file takeover,
 * directories and files someone else controls, locks that would wedge writers, names too long to
 * store, and the file names older Python servers wrote. The "other account" is `nobody` (these tests
 * run as root, which can hand files to it); without root they skip, saying why.
 */
import { chmod, chown, mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ConfigurationError,
  DEFAULT_LOCK_STALE_MS,
  DEFAULT_LOCK_TIMEOUT_MS,
  FileCredentialStore,
  InvalidInputError,
  toPythonDocument,
} from '../../src/index.js';
import { sampleCredentials } from '../../src/testing/index.js';
import { type LogLine, recordingLogger } from '../support/mcp-auth-harness.js';
import { makeTempDir } from '../support/temp-dir.js';

const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;
if (!isRoot) console.info('[skip] the other-account attacks need root to hand files to uid 65534 (nobody)');

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const item of iterable) out.push(item);
  return out.sort();
}

describe('FileCredentialStore hardening', () => {
  let dir: { path: string; dispose: () => Promise<void> };
  let directory: string;
  let log: LogLine[];
  let logger: ReturnType<typeof recordingLogger>['logger'];
  beforeEach(async () => {
    dir = await makeTempDir();
    directory = join(dir.path, 'credentials');
    await mkdir(directory, { mode: 0o700 });
    ({ lines: log, logger } = recordingLogger());
  });
  afterEach(() => dir.dispose());

  describe.skipIf(!isRoot)('another local account', () => {
    it('cannot take over the temporary file (pre-created, world-writable) and read the tokens', async () => {
      // A directory shared with the Python server's group: group-writable, explicitly trusted.
      await chmod(directory, 0o770);
      const store = new FileCredentialStore({ directory, sharedGroup: true, logger });
      const user = 'victim@example.com';
      // What the attacker can predict today: `.<file>.<pid>.tmp`.
      const trap = join(directory, `.${user}.json.${process.pid}.tmp`);
      await writeFile(trap, '', { mode: 0o666 });
      await chown(trap, NOBODY, NOBODY);
      await chmod(trap, 0o666);
      const record = sampleCredentials(user);
      await store.put(user, record);
      // Today the attacker's file was written and renamed into place: theirs (uid 65534), mode 0666.
      const written = await stat(join(directory, `${user}.json`));
      expect(written.uid).toBe(process.getuid!());
      expect(written.mode & 0o777).toBe(0o600);
      expect(await readFile(trap, 'utf8')).toBe('');
    });

    it('refuses to write into a directory owned by another user, naming the path and the fix', async () => {
      await chown(directory, NOBODY, NOBODY);
      const store = new FileCredentialStore({ directory });
      const error = await store
        .put('a@example.com', sampleCredentials('a@example.com'))
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigurationError);
      expect(String((error as Error).message)).toContain(directory);
      expect((error as ConfigurationError).hint).toMatch(/chown/);
    });

    it('refuses to read a file owned by another user (it could have been planted)', async () => {
      const user = 'planted@example.com';
      const path = join(directory, `${user}.json`);
      await writeFile(path, JSON.stringify(toPythonDocument(sampleCredentials(user))), { mode: 0o600 });
      await chown(path, NOBODY, NOBODY);
      const store = new FileCredentialStore({ directory });
      const error = await store.get(user).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigurationError);
      expect(String((error as Error).message)).toContain('owned by another user');
    });

    it('with sharedGroup, reads a file of another user in the directory’s group', async () => {
      await chmod(directory, 0o770);
      const user = 'python-side@example.com';
      const path = join(directory, `${user}.json`);
      await writeFile(path, JSON.stringify(toPythonDocument(sampleCredentials(user))), { mode: 0o640 });
      await chown(path, NOBODY, (await stat(directory)).gid);
      const store = new FileCredentialStore({ directory, sharedGroup: true, logger });
      expect((await store.get(user))?.credentials.userId).toBe(user);
    });
  });

  it('refuses a group- or world-writable directory unless sharedGroup says so; never a world-writable one', async () => {
    await chmod(directory, 0o777);
    const store = new FileCredentialStore({ directory });
    await expect(store.put('a@example.com', sampleCredentials('a@example.com'))).rejects.toBeInstanceOf(
      ConfigurationError,
    );
    const shared = new FileCredentialStore({ directory, sharedGroup: true });
    await expect(shared.put('a@example.com', sampleCredentials('a@example.com'))).rejects.toThrow(
      /writable by everyone/,
    );
    await chmod(directory, 0o770);
    await expect(store.put('a@example.com', sampleCredentials('a@example.com'))).rejects.toBeInstanceOf(
      ConfigurationError,
    );
    await shared.put('a@example.com', sampleCredentials('a@example.com'));
  });

  it('reads a file of ours that others can read, warns once, and writes it back 0600', async () => {
    const user = 'loose@example.com';
    const path = join(directory, `${user}.json`);
    await writeFile(path, JSON.stringify(toPythonDocument(sampleCredentials(user))), { mode: 0o644 });
    await chmod(path, 0o644);
    const store = new FileCredentialStore({ directory, logger });
    const entry = await store.get(user);
    await store.get(user);
    expect(
      log.filter((line) => line.level === 'warn' && /readable by other users/.test(line.message)),
    ).toHaveLength(1);
    await store.put(user, entry!.credentials, { ifVersion: entry!.version });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  describe('locks', () => {
    const lockOf = (user: string) => join(directory, `.${user}.json.lock`);

    it('takes over a lock dated in the future (it could never age out)', async () => {
      const store = new FileCredentialStore({ directory, lockTimeoutMs: 2_000 });
      const user = 'future@example.com';
      await symlink(`4242@elsewhere.example#${'ab'.repeat(12)}`, lockOf(user));
      const future = new Date(Date.now() + 24 * 60 * 60 * 1000);
      const { lutimes } = await import('node:fs/promises');
      await lutimes(lockOf(user), future, future);
      await store.put(user, sampleCredentials(user));
      expect(await readdir(directory)).toEqual([`${user}.json`]);
    });

    it('takes over a lock naming our own PID from a previous incarnation (a restarted container)', async () => {
      const store = new FileCredentialStore({ directory, lockTimeoutMs: 2_000 });
      const user = 'restart@example.com';
      await symlink(`${process.pid}@${encodeURIComponent(hostname())}#${'cd'.repeat(12)}`, lockOf(user));
      await store.put(user, sampleCredentials(user));
      expect(await readdir(directory)).toEqual([`${user}.json`]);
    });

    it('waits longer than a lock takes to go stale by default; refuses a wait that is not a duration', () => {
      expect(DEFAULT_LOCK_TIMEOUT_MS).toBeGreaterThan(DEFAULT_LOCK_STALE_MS);
      expect(() => new FileCredentialStore({ directory, lockTimeoutMs: Number.NaN })).toThrow(
        /lockTimeoutMs/,
      );
      expect(() => new FileCredentialStore({ directory, lockStaleMs: -1 })).toThrow(/lockStaleMs/);
    });

    it('with the defaults, a write outlasts an abandoned lock of another host', async () => {
      const user = 'other-host@example.com';
      await symlink(`4242@elsewhere.example#${'ab'.repeat(12)}`, lockOf(user));
      const { lutimes } = await import('node:fs/promises');
      const aging = new Date(Date.now() - DEFAULT_LOCK_STALE_MS + 300);
      await lutimes(lockOf(user), aging, aging);
      await new FileCredentialStore({ directory }).put(user, sampleCredentials(user));
      expect(await readdir(directory)).toEqual([`${user}.json`]);
    });
  });

  it('refuses, up front and clearly, an id whose lock or temporary file name would be too long', async () => {
    const store = new FileCredentialStore({ directory });
    const local = 'l'.repeat(60);
    const tooLong = `${local}@${'d'.repeat(60)}.${'e'.repeat(60)}.${'f'.repeat(55)}.example`;
    // A valid email whose file name fits (251 bytes) but whose lock and temporary names would not.
    expect(tooLong).toHaveLength(246);
    const error = await store.put(tooLong, sampleCredentials(tooLong)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(String((error as Error).message)).toMatch(/too long/);
    const fits = `${'l'.repeat(60)}@${'d'.repeat(60)}.${'e'.repeat(60)}.example`;
    await store.put(fits, sampleCredentials(fits));
    expect((await store.get(fits))?.credentials.userId).toBe(fits);
  });

  describe('file names older Python servers wrote', () => {
    async function plant(name: string, userId: string): Promise<void> {
      await writeFile(join(directory, name), JSON.stringify(toPythonDocument(sampleCredentials(userId))), {
        mode: 0o600,
      });
    }

    it('reads capitalised and unquoted names under the canonical id; one file per user after a put', async () => {
      await plant('Bob.Smith@Example.com.json', 'bob.smith@example.com');
      await plant("o'brien+raw@example.com.json", "o'brien+raw@example.com");
      const store = new FileCredentialStore({ directory, logger });
      expect(await collect(store.list())).toEqual(['bob.smith@example.com', "o'brien+raw@example.com"]);
      const bob = await store.get('bob.smith@example.com');
      expect(bob?.credentials.userId).toBe('bob.smith@example.com');
      await store.put('bob.smith@example.com', bob!.credentials, { ifVersion: bob!.version });
      expect((await readdir(directory)).sort()).toEqual([
        'bob.smith@example.com.json',
        "o'brien+raw@example.com.json",
      ]);
      expect(await store.delete("o'brien+raw@example.com")).toBe(true);
      expect(await readdir(directory)).toEqual(['bob.smith@example.com.json']);
    });

    it('reports names that are not a user instead of skipping them silently', async () => {
      await plant('bob@example.com.json', 'bob@example.com');
      await writeFile(join(directory, 'not-an-email.json'), '{}', { mode: 0o600 });
      const store = new FileCredentialStore({ directory, logger });
      expect(await collect(store.list())).toEqual(['bob@example.com']);
      expect(await store.unmappedFiles()).toEqual(['not-an-email.json']);
      expect(log.some((line) => line.level === 'warn' && line.fields.file === 'not-an-email.json')).toBe(
        true,
      );
    });
  });

  describe('a missing directory is not an empty store', () => {
    it('reads throw ConfigurationError naming the path; a write creates it 0700', async () => {
      const missing = join(dir.path, 'typo');
      const store = new FileCredentialStore({ directory: missing });
      await expect(store.get('a@example.com')).rejects.toBeInstanceOf(ConfigurationError);
      await expect(collect(store.list())).rejects.toThrow(missing);
      await store.put('a@example.com', sampleCredentials('a@example.com'));
      expect((await stat(missing)).mode & 0o777).toBe(0o700);
      expect(await collect(store.list())).toEqual(['a@example.com']);
    });

    it('with createDirectory, reads create it too (a fresh server on its own default location)', async () => {
      const fresh = join(dir.path, 'fresh');
      const store = new FileCredentialStore({ directory: fresh, createDirectory: true });
      expect(await store.get('a@example.com')).toBeUndefined();
      expect((await stat(fresh)).isDirectory()).toBe(true);
    });
  });
});
