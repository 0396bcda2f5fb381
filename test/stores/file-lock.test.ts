/**
 * The file lock alone: each condition under which a lock is taken over, and each under which it must
 * not be (a live writer's lock broken means two writers in the critical section).
 */
import { lstat, lutimes, readlink, symlink, unlink, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StorageUnavailableError } from '../../src/index.js';
import { acquireFileLock } from '../../src/stores/file-lock.js';
import { makeTempDir } from '../support/temp-dir.js';

let directory: string;
let dispose: () => Promise<void>;
beforeEach(async () => {
  ({ path: directory, dispose } = await makeTempDir());
});
afterEach(async () => {
  vi.restoreAllMocks();
  vi.useRealTimers();
  await dispose();
});

/** A lock as another live process on this host holds it: the parent of this test process. */
const liveOwner = () => `${process.ppid}@${encodeURIComponent(hostname())}#0123456789abcdef.00aa11bb22cc`;
const ageBy = async (path: string, ms: number) => {
  const when = new Date(Date.now() - ms);
  await lutimes(path, when, when);
};
const USER = 'lock@example.com';

describe('acquireFileLock', () => {
  it('does not break a live writer’s lock that is older than the foreign-lock grace (2 s) but not stale', async () => {
    const lockPath = join(directory, '.x.lock');
    await symlink(liveOwner(), lockPath);
    await ageBy(lockPath, 3_000);
    const error = await acquireFileLock(lockPath, { staleMs: 60_000, timeoutMs: 200 }, USER).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StorageUnavailableError);
    expect((error as Error).message).toContain('locked by another writer');
    expect(await readlink(lockPath)).toBe(liveOwner());
  });

  it('takes over a live writer’s lock once it is older than staleMs (a writer on another host that died)', async () => {
    const lockPath = join(directory, '.x.lock');
    await symlink(liveOwner(), lockPath);
    await ageBy(lockPath, 61_000);
    const release = await acquireFileLock(lockPath, { staleMs: 60_000, timeoutMs: 200 }, USER);
    expect(await readlink(lockPath)).not.toBe(liveOwner());
    await release();
  });

  it('treats another user’s live process (EPERM on signal 0) as alive', async () => {
    const lockPath = join(directory, '.x.lock');
    const pid = 999_999;
    await symlink(`${pid}@${encodeURIComponent(hostname())}#0123456789abcdef.00aa11bb22cc`, lockPath);
    const kill = vi.spyOn(process, 'kill').mockImplementation((target) => {
      if (target === pid) throw Object.assign(new Error('kill EPERM'), { code: 'EPERM' });
      return true;
    });
    await expect(acquireFileLock(lockPath, { staleMs: 60_000, timeoutMs: 150 }, USER)).rejects.toBeInstanceOf(
      StorageUnavailableError,
    );
    expect(kill).toHaveBeenCalledWith(pid, 0);
    // ESRCH: the process is gone; the lock is taken over at once.
    kill.mockImplementation(() => {
      throw Object.assign(new Error('kill ESRCH'), { code: 'ESRCH' });
    });
    const release = await acquireFileLock(lockPath, { staleMs: 60_000, timeoutMs: 150 }, USER);
    await release();
  });

  it('leaves something it did not write alone for the grace period, then takes it over', async () => {
    const lockPath = join(directory, '.x.lock');
    await writeFile(lockPath, 'not a lock');
    await expect(acquireFileLock(lockPath, { staleMs: 60_000, timeoutMs: 150 }, USER)).rejects.toBeInstanceOf(
      StorageUnavailableError,
    );
    const when = new Date(Date.now() - 2_500);
    await utimes(lockPath, when, when);
    const release = await acquireFileLock(lockPath, { staleMs: 60_000, timeoutMs: 150 }, USER);
    expect((await lstat(lockPath)).isSymbolicLink()).toBe(true);
    await release();
  });

  it('releases its own lock, but never a successor’s after it overran staleMs', async () => {
    const lockPath = join(directory, '.x.lock');
    const release = await acquireFileLock(lockPath, { staleMs: 1_000, timeoutMs: 150 }, USER);
    await release();
    await expect(lstat(lockPath)).rejects.toMatchObject({ code: 'ENOENT' });

    vi.useFakeTimers({ toFake: ['Date'] });
    const overrun = await acquireFileLock(lockPath, { staleMs: 1_000, timeoutMs: 150 }, USER);
    vi.setSystemTime(Date.now() + 1_500);
    // Meanwhile another writer judged the lock stale and took it.
    await unlink(lockPath);
    await symlink(liveOwner(), lockPath);
    await overrun();
    expect(await readlink(lockPath)).toBe(liveOwner());
  });

  it('releases its own lock after overrunning staleMs when nobody took it', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const lockPath = join(directory, '.x.lock');
    const release = await acquireFileLock(lockPath, { staleMs: 1_000, timeoutMs: 150 }, USER);
    vi.setSystemTime(Date.now() + 1_500);
    await release();
    await expect(lstat(lockPath)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
