/**
 * The file store's reads against what only a racing writer or a failing disk produces, injected by
 * wrapping `node:fs/promises`: a partial file read while the Python server rewrites it in place (read
 * again, a bounded number of times, only when the file changed), each file-system error code
 * translated to its typed error, and the index of older file names rebuilt when the directory changes.
 */
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ConfigurationError,
  CorruptCredentialsError,
  FileCredentialStore,
  InvalidInputError,
  StorageForbiddenError,
  StorageUnavailableError,
  toPythonDocument,
} from '../../src/index.js';
import { sampleCredentials } from '../../src/testing/index.js';
import { type RecordedLine, recordingLogger } from '../support/recording-logger.js';
import { rejectionOf } from '../support/rejection.js';
import { makeTempDir } from '../support/temp-dir.js';

const hooks = vi.hoisted(() => ({
  /** Replaces what a credentials file reads as, by read number (1 = the first read). */
  readAs: undefined as undefined | ((path: string, read: number, real: string) => string),
  /** Runs before each lstat of a credentials file (the version check after a bad read). */
  beforeLstat: undefined as undefined | ((path: string) => Promise<void>),
  openFault: undefined as undefined | ((path: string) => Error | undefined),
  /** Runs before each unlink the store makes. */
  beforeUnlink: undefined as undefined | ((path: string) => Promise<void>),
  reads: 0,
  scans: 0,
}));

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...real,
    open: async (path: string, flags: number, mode?: number) => {
      const fault = hooks.openFault?.(path);
      if (fault) throw fault;
      const handle = await real.open(path, flags, mode);
      return new Proxy(handle, {
        get(target, property) {
          if (property === 'readFile') {
            return async (encoding: BufferEncoding) => {
              const text = (await target.readFile(encoding)) as unknown as string;
              if (!path.endsWith('.json')) return text;
              hooks.reads += 1;
              return hooks.readAs ? hooks.readAs(path, hooks.reads, text) : text;
            };
          }
          const value = Reflect.get(target, property);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    },
    lstat: async (path: string, options?: { bigint?: boolean }) => {
      if (path.endsWith('.json')) await hooks.beforeLstat?.(path);
      return real.lstat(path, options as never);
    },
    opendir: async (path: string) => {
      hooks.scans += 1;
      return real.opendir(path);
    },
    unlink: async (path: string) => {
      await hooks.beforeUnlink?.(path);
      return real.unlink(path);
    },
  };
});

const failure = (code?: string) =>
  Object.assign(new Error(`${code ?? 'no code'}: injected`), code ? { code } : {});
const document = (userId: string, accessToken: string) =>
  JSON.stringify(toPythonDocument({ ...sampleCredentials(userId), accessToken }));

let directory: string;
let dispose: () => Promise<void>;
let store: FileCredentialStore;
const ADA = 'ada@example.com';
beforeEach(async () => {
  ({ path: directory, dispose } = await makeTempDir());
  store = new FileCredentialStore({ directory, createDirectory: true, fsync: false });
  await store.put(ADA, { ...sampleCredentials(ADA), accessToken: 'ya29.first' });
  hooks.reads = 0;
  hooks.scans = 0;
});
afterEach(async () => {
  Object.assign(hooks, {
    readAs: undefined,
    beforeLstat: undefined,
    openFault: undefined,
    beforeUnlink: undefined,
  });
  await dispose();
});

describe('a partial read (the Python server rewriting the file in place)', () => {
  it('reads again when the file changed under the read, and returns the finished record', async () => {
    hooks.readAs = (_path, read, text) => (read === 1 ? text.slice(0, 40) : text);
    let rewritten = false;
    hooks.beforeLstat = async (path) => {
      if (rewritten) return;
      rewritten = true;
      await writeFile(path, document(ADA, 'ya29.second-longer-token'), { mode: 0o600 });
    };
    const entry = await store.get(ADA);
    expect(entry?.credentials.accessToken).toBe('ya29.second-longer-token');
    expect(hooks.reads).toBe(2);
  });

  it('a file that did not change is corrupt at once: one read, no retry', async () => {
    hooks.readAs = (_path, _read, text) => text.slice(0, 40);
    const error = await rejectionOf(store.get(ADA));
    expect(error).toBeInstanceOf(CorruptCredentialsError);
    expect(error.message).toBe(`stored credentials for ${ADA} are not valid JSON`);
    expect(hooks.reads).toBe(1);
  });

  it('a file that keeps changing is read three times, then reported corrupt', async () => {
    hooks.readAs = (_path, _read, text) => text.slice(0, 40);
    let writes = 0;
    hooks.beforeLstat = async (path) => {
      writes += 1;
      await writeFile(path, document(ADA, `ya29.changing-${'x'.repeat(writes)}`), { mode: 0o600 });
    };
    await expect(store.get(ADA)).rejects.toBeInstanceOf(CorruptCredentialsError);
    expect(hooks.reads).toBe(3);
  });

  it('a file removed while it was read is a miss, not corruption', async () => {
    hooks.readAs = (_path, read, text) => (read === 1 ? text.slice(0, 40) : text);
    const { unlink } = await vi.importActual<typeof import('node:fs/promises')>('node:fs/promises');
    hooks.beforeLstat = async (path) => {
      hooks.beforeLstat = undefined;
      await unlink(path);
    };
    expect(await store.get(ADA)).toBeUndefined();
  });
});

describe('file-system errors, each as its typed error naming the user', () => {
  const cases: [string | undefined, new (...args: never[]) => Error, RegExp][] = [
    [
      'EACCES',
      StorageForbiddenError,
      /^cannot read credentials for ada@example\.com in .+: permission denied$/,
    ],
    [
      'EPERM',
      StorageForbiddenError,
      /^cannot read credentials for ada@example\.com in .+: permission denied$/,
    ],
    [
      'ELOOP',
      InvalidInputError,
      /^credentials path for ada@example\.com is a symlink; refusing to follow it$/,
    ],
    [
      'EMLINK',
      InvalidInputError,
      /^credentials path for ada@example\.com is a symlink; refusing to follow it$/,
    ],
    ['ENOTDIR', ConfigurationError, /^credentials directory .+ is not a directory$/],
    ['ENAMETOOLONG', InvalidInputError, /^user id is too long to be stored as a file for ada@example\.com$/],
    ['EIO', StorageUnavailableError, /^cannot read credentials for ada@example\.com \(EIO\)$/],
    [undefined, StorageUnavailableError, /^cannot read credentials for ada@example\.com \(unknown error\)$/],
  ];
  for (const [code, type, message] of cases) {
    it(`${code ?? 'an error without a code'} → ${type.name}`, async () => {
      hooks.openFault = (path) => (path.endsWith('.json') ? failure(code) : undefined);
      const error = (await rejectionOf(store.get(ADA))) as Error & { userId?: string; hint?: string };
      expect(error).toBeInstanceOf(type);
      expect(error.message).toMatch(message);
      expect(error.userId).toBe(ADA);
      if (type === StorageForbiddenError)
        expect(error.hint).toBe(`check the owner and mode of ${directory} and its files`);
      if (type === StorageUnavailableError) {
        expect(error.hint).toBe(`check that ${directory} is on a writable, mounted file system`);
      }
    });
  }
});

describe('the index of names older servers wrote', () => {
  const plant = (name: string, userId: string, accessToken: string) =>
    writeFile(join(directory, name), document(userId, accessToken), { mode: 0o600 });

  it('is built by one scan and kept while the directory is unchanged', async () => {
    await plant('Bob@Example.com.json', 'bob@example.com', 'ya29.bob');
    expect((await store.get('bob@example.com'))?.credentials.accessToken).toBe('ya29.bob');
    expect(hooks.scans).toBe(1);
    expect(await store.get('carol@example.com')).toBeUndefined();
    expect(hooks.scans).toBe(1);
  });

  it('is rebuilt when the directory changed, so a file planted since is found', async () => {
    expect(await store.get('carol@example.com')).toBeUndefined();
    await plant('Carol@Example.com.json', 'carol@example.com', 'ya29.carol');
    expect((await store.get('carol@example.com'))?.credentials.accessToken).toBe('ya29.carol');
    expect(hooks.scans).toBe(2);
  });

  it('forgets a legacy file once deleted, and deletes both files of a user who has two', async () => {
    await plant('Dan@Example.com.json', 'dan@example.com', 'ya29.dan-old');
    await store.put('dan@example.com', { ...sampleCredentials('dan@example.com'), accessToken: 'ya29.dan' });
    // The put replaced the legacy file by the canonical one.
    expect(await store.delete('dan@example.com')).toBe(true);
    expect(await store.get('dan@example.com')).toBeUndefined();
    await plant('Eve@Example.com.json', 'eve@example.com', 'ya29.eve');
    await plant('eve@example.com.json', 'eve@example.com', 'ya29.eve-canonical');
    expect((await store.get('eve@example.com'))?.credentials.accessToken).toBe('ya29.eve-canonical');
    expect(await store.delete('eve@example.com')).toBe(true);
    expect(await store.get('eve@example.com')).toBeUndefined();
    expect(await store.delete('eve@example.com')).toBe(false);
  });

  it('lists a user with a canonical and an older-named file once', async () => {
    await plant('Fay@Example.com.json', 'fay@example.com', 'ya29.fay-old');
    await plant('fay@example.com.json', 'fay@example.com', 'ya29.fay');
    await plant('Gus@Example.com.json', 'gus@example.com', 'ya29.gus');
    const listed: string[] = [];
    for await (const userId of store.list()) listed.push(userId);
    expect(listed.sort()).toEqual([ADA, 'fay@example.com', 'gus@example.com']);
    // Whether the canonical file exists cannot be told: the listing fails rather than guess.
    hooks.beforeLstat = async (path) => {
      if (path.endsWith('fay@example.com.json')) throw failure('EIO');
    };
    const error = await rejectionOf(
      (async () => {
        for await (const _userId of store.list());
      })(),
    );
    expect(error).toBeInstanceOf(StorageUnavailableError);
    expect(error.message).toBe('cannot list credentials (EIO)');
    expect((error as StorageUnavailableError).hint).toBe(
      `check that ${directory} is on a writable, mounted file system`,
    );
  });

  it('an older-named file another process removed after the scan is no record: delete finds nothing', async () => {
    await plant('Hal@Example.com.json', 'hal@example.com', 'ya29.hal');
    hooks.beforeLstat = async (path) => {
      if (path.endsWith('Hal@Example.com.json')) await rm(path, { force: true });
    };
    expect(await store.delete('hal@example.com')).toBe(false);
  });

  it('replacing an older-named file another process removed first still saves, and says what it replaced', async () => {
    const lines: RecordedLine[] = [];
    const logged = new FileCredentialStore({ directory, fsync: false, logger: recordingLogger(lines) });
    await plant('Ivy@Example.com.json', 'ivy@example.com', 'ya29.ivy-old');
    hooks.beforeUnlink = async (path) => {
      if (path.endsWith('Ivy@Example.com.json')) await rm(path, { force: true });
    };
    await logged.put('ivy@example.com', { ...sampleCredentials('ivy@example.com'), accessToken: 'ya29.ivy' });
    expect((await logged.get('ivy@example.com'))?.credentials.accessToken).toBe('ya29.ivy');
    expect(lines.filter((line) => line.level === 'info').map((line) => line.fields)).toEqual([
      { store: 'file', userId: 'ivy@example.com' },
    ]);
  });

  it('a failure removing the older-named file fails the save that replaces it (only a missing one is fine)', async () => {
    await plant('Jay@Example.com.json', 'jay@example.com', 'ya29.jay-old');
    hooks.beforeUnlink = async (path) => {
      if (path.endsWith('Jay@Example.com.json')) throw failure('EIO');
    };
    const error = await rejectionOf(
      store.put('jay@example.com', { ...sampleCredentials('jay@example.com'), accessToken: 'ya29.jay' }),
    );
    expect(error).toBeInstanceOf(StorageUnavailableError);
  });

  it('a failure checking the file before a delete fails the delete, naming the user', async () => {
    hooks.beforeLstat = async (path) => {
      if (path.endsWith(`${ADA}.json`)) throw failure('EIO');
    };
    const error = (await rejectionOf(store.delete(ADA))) as StorageUnavailableError;
    expect(error).toBeInstanceOf(StorageUnavailableError);
    expect(error.userId).toBe(ADA);
    hooks.beforeLstat = undefined;
    expect(await store.get(ADA)).toBeDefined();
  });
});
