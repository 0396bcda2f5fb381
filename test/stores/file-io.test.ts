/**
 * The file store's atomic write on a real directory, with the failures a disk produces only rarely
 * (a temporary name already taken, a failed write, rename or fsync) injected by wrapping
 * `node:fs/promises`: each must leave the old record in place and no temporary file behind.
 */
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FileCredentialStore, InvalidInputError } from '../../src/index.js';
import { syncDirectory, versionOf, writeAtomically } from '../../src/stores/file-io.js';
import { sampleCredentials } from '../../src/testing/index.js';
import { makeTempDir } from '../support/temp-dir.js';

type Fault = (path: string) => Error | undefined;

const hooks = vi.hoisted(() => ({
  openFault: undefined as undefined | ((path: string) => Error | undefined),
  writeFault: undefined as undefined | Error,
  renameFault: undefined as undefined | Error,
  syncFault: undefined as undefined | ((path: string) => Error | undefined),
  syncs: [] as string[],
  closes: [] as string[],
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
          if (property === 'sync') {
            return async () => {
              hooks.syncs.push(path);
              const syncFault = hooks.syncFault?.(path);
              if (syncFault) throw syncFault;
              return target.sync();
            };
          }
          if (property === 'writeFile' && hooks.writeFault) {
            const fault = hooks.writeFault;
            return async () => {
              throw fault;
            };
          }
          if (property === 'close') {
            return async () => {
              hooks.closes.push(path);
              return target.close();
            };
          }
          const value = Reflect.get(target, property);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    },
    rename: async (from: string, to: string) => {
      if (hooks.renameFault) throw hooks.renameFault;
      return real.rename(from, to);
    },
  };
});

const failure = (code: string) => Object.assign(new Error(`${code}: injected`), { code });

let directory: string;
let dispose: () => Promise<void>;
beforeEach(async () => {
  ({ path: directory, dispose } = await makeTempDir());
  await writeFile(join(directory, 'ada.json'), 'old record');
});
afterEach(async () => {
  Object.assign(hooks, {
    openFault: undefined,
    writeFault: undefined,
    renameFault: undefined,
    syncFault: undefined,
    syncs: [],
    closes: [],
  });
  await dispose();
});

const leftovers = async () => (await readdir(directory)).filter((name) => name !== 'ada.json');

describe('writeAtomically', () => {
  it('replaces the record, mode 0600, and resolves the version of what it wrote', async () => {
    const version = await writeAtomically(directory, false, 'ada.json', 'new record');
    expect(await readFile(join(directory, 'ada.json'), 'utf8')).toBe('new record');
    const stats = await stat(join(directory, 'ada.json'), { bigint: true });
    expect(Number(stats.mode & 0o777n)).toBe(0o600);
    expect(version).toBe(versionOf(stats));
    expect(await leftovers()).toEqual([]);
  });

  it('with fsync, syncs the file and then the directory; without, neither', async () => {
    await writeAtomically(directory, true, 'ada.json', 'synced');
    expect(hooks.syncs).toHaveLength(2);
    expect(hooks.syncs[0]).toMatch(/\/\.ada\.json\.[0-9a-f]+\.tmp$/); // the temporary file, before its rename
    expect(hooks.syncs[1]).toBe(directory);
    hooks.syncs.length = 0;
    await writeAtomically(directory, false, 'ada.json', 'not synced');
    expect(hooks.syncs).toEqual([]);
  });

  it('takes another temporary name when one is taken, up to three tries', async () => {
    let taken = 2;
    hooks.openFault = (path) => (path !== directory && taken-- > 0 ? failure('EEXIST') : undefined);
    await writeAtomically(directory, false, 'ada.json', 'third name');
    expect(await readFile(join(directory, 'ada.json'), 'utf8')).toBe('third name');

    let opens = 0;
    hooks.openFault = () => {
      opens += 1;
      return failure('EEXIST');
    };
    await expect(writeAtomically(directory, false, 'ada.json', 'never')).rejects.toMatchObject({
      code: 'EEXIST',
    });
    expect(opens).toBe(3);
    expect(await readFile(join(directory, 'ada.json'), 'utf8')).toBe('third name');
  });

  it('any other failure to create the temporary file is thrown at once', async () => {
    let opens = 0;
    hooks.openFault = () => {
      opens += 1;
      return failure('EACCES');
    };
    await expect(writeAtomically(directory, false, 'ada.json', 'never')).rejects.toMatchObject({
      code: 'EACCES',
    });
    expect(opens).toBe(1);
  });

  it('a failed write leaves the old record and no temporary file, and closes what it opened', async () => {
    hooks.writeFault = failure('ENOSPC');
    await expect(writeAtomically(directory, false, 'ada.json', 'lost')).rejects.toMatchObject({
      code: 'ENOSPC',
    });
    expect(await readFile(join(directory, 'ada.json'), 'utf8')).toBe('old record');
    expect(await leftovers()).toEqual([]);
    expect(hooks.closes).toHaveLength(1);
  });

  it('a failed rename leaves the old record and no temporary file', async () => {
    hooks.renameFault = failure('EXDEV');
    await expect(writeAtomically(directory, false, 'ada.json', 'lost')).rejects.toMatchObject({
      code: 'EXDEV',
    });
    expect(await readFile(join(directory, 'ada.json'), 'utf8')).toBe('old record');
    expect(await leftovers()).toEqual([]);
  });

  it('refuses a name that would resolve outside the directory, writing nothing', async () => {
    await expect(writeAtomically(directory, false, '../escape.json', 'x')).rejects.toBeInstanceOf(
      InvalidInputError,
    );
    await expect(writeAtomically(directory, false, 'sub/escape.json', 'x')).rejects.toBeInstanceOf(
      InvalidInputError,
    );
    expect(await leftovers()).toEqual([]);
  });
});

describe('syncDirectory', () => {
  it('does nothing without fsync', async () => {
    let opens = 0;
    hooks.openFault = () => {
      opens += 1;
      return undefined;
    };
    await syncDirectory(directory, false);
    expect(opens).toBe(0);
  });

  it.each(['EINVAL', 'EISDIR', 'EPERM', 'ENOTSUP'])(
    'tolerates %s (a platform without directory fsync), closing the directory',
    async (code) => {
      hooks.syncFault = () => failure(code);
      await syncDirectory(directory, true);
      expect(hooks.syncs).toEqual([directory]);
      expect(hooks.closes).toEqual([directory]);
    },
  );

  it('throws any other failure (the rename may not be durable), closing the directory', async () => {
    hooks.syncFault = () => failure('EIO');
    await expect(syncDirectory(directory, true)).rejects.toMatchObject({ code: 'EIO' });
    expect(hooks.closes).toEqual([directory]);
    const uncoded: Fault = () => new Error('no code');
    hooks.syncFault = uncoded;
    await expect(syncDirectory(directory, true)).rejects.toThrow('no code');
  });
});

describe('the file store', () => {
  it('syncs by default (file and directory), and not with fsync: false', async () => {
    await new FileCredentialStore({ directory }).put('ada@example.com', sampleCredentials('ada@example.com'));
    expect(hooks.syncs.filter((path) => path === directory).length).toBeGreaterThanOrEqual(1);
    expect(hooks.syncs.some((path) => path.endsWith('.tmp'))).toBe(true);
    hooks.syncs.length = 0;
    await new FileCredentialStore({ directory, fsync: false }).put(
      'bob@example.com',
      sampleCredentials('bob@example.com'),
    );
    expect(hooks.syncs).toEqual([]);
  });
});
