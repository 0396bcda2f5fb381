/**
 * The file lock's takeover when a fresh lock slips in between judging the old one stale and moving
 * it aside: the fresh lock must be put back, or two writers would hold the record at once. The
 * interleaving cannot be timed from outside, so `rename` is wrapped to create it.
 */
import { lutimes, readlink, symlink, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StorageUnavailableError } from '../../src/index.js';
import { acquireFileLock } from '../../src/stores/file-lock.js';
import { makeTempDir } from '../support/temp-dir.js';

const hooks = vi.hoisted(() => ({ beforeRename: undefined as undefined | (() => Promise<void>) }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...real,
    rename: async (from: string, to: string) => {
      const hook = hooks.beforeRename;
      hooks.beforeRename = undefined;
      await hook?.();
      return real.rename(from, to);
    },
  };
});

let directory: string;
let dispose: () => Promise<void>;
beforeEach(async () => {
  ({ path: directory, dispose } = await makeTempDir());
});
afterEach(async () => {
  hooks.beforeRename = undefined;
  await dispose();
});

const ownerWith = (nonce: string) =>
  `${process.ppid}@${encodeURIComponent(hostname())}#0123456789abcdef.${nonce}`;

describe('acquireFileLock: a fresh lock that slips in during a takeover', () => {
  it('is put back, and the newcomer waits for it instead of entering too', async () => {
    const lockPath = join(directory, '.x.lock');
    const stale = ownerWith('00aa11bb22cc');
    const fresh = ownerWith('ffee00ddcc11');
    await symlink(stale, lockPath);
    const old = new Date(Date.now() - 61_000);
    await lutimes(lockPath, old, old);
    // Another writer breaks the stale lock and takes the record between our look and our move.
    hooks.beforeRename = async () => {
      await unlink(lockPath);
      await symlink(fresh, lockPath);
    };
    await expect(
      acquireFileLock(lockPath, { staleMs: 60_000, timeoutMs: 150 }, 'race@example.com'),
    ).rejects.toBeInstanceOf(StorageUnavailableError);
    expect(await readlink(lockPath)).toBe(fresh);
  });

  it('a stale lock moved aside as judged is removed, and the newcomer takes the record', async () => {
    const lockPath = join(directory, '.x.lock');
    const stale = ownerWith('00aa11bb22cc');
    await symlink(stale, lockPath);
    const old = new Date(Date.now() - 61_000);
    await lutimes(lockPath, old, old);
    const release = await acquireFileLock(lockPath, { staleMs: 60_000, timeoutMs: 150 }, 'race@example.com');
    expect(await readlink(lockPath)).not.toBe(stale);
    await release();
  });

  it('a stale lock removed by another writer just before the move: nothing to move, the record is taken', async () => {
    const lockPath = join(directory, '.x.lock');
    await symlink(ownerWith('00aa11bb22cc'), lockPath);
    const old = new Date(Date.now() - 61_000);
    await lutimes(lockPath, old, old);
    hooks.beforeRename = async () => {
      await unlink(lockPath);
    };
    const release = await acquireFileLock(lockPath, { staleMs: 60_000, timeoutMs: 150 }, 'race@example.com');
    expect(await readlink(lockPath)).toMatch(new RegExp(`^${process.pid}@`));
    await release();
  });

  it('a move that fails for another reason (permissions) is passed on, not retried around', async () => {
    const lockPath = join(directory, '.x.lock');
    await symlink(ownerWith('00aa11bb22cc'), lockPath);
    const old = new Date(Date.now() - 61_000);
    await lutimes(lockPath, old, old);
    hooks.beforeRename = async () => {
      throw Object.assign(new Error('rename EACCES'), { code: 'EACCES' });
    };
    await expect(
      acquireFileLock(lockPath, { staleMs: 60_000, timeoutMs: 150 }, 'race@example.com'),
    ).rejects.toMatchObject({ code: 'EACCES' });
  });
});
