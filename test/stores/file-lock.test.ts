/**
 * The file lock alone: each condition under which a lock is taken over, and each under which it must
 * not be (a live writer's lock broken means two writers in the critical section).
 */
import { lstat, lutimes, readlink, symlink, unlink, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StorageUnavailableError } from '../../src/index.js';
import { acquireFileLock, errorCode } from '../../src/stores/file-lock.js';
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

  it('reads only a whole owner: anything before or after it, or a host that does not decode, is a foreign lock', async () => {
    for (const target of [
      `x${liveOwner()}`,
      `${liveOwner()}-junk`,
      `${process.ppid}@%E0%A4%A#0123456789abcdef.00aa11bb22cc`,
    ]) {
      const lockPath = join(directory, '.x.lock');
      await symlink(target, lockPath);
      await ageBy(lockPath, 2_500);
      // Foreign and past its 2 s grace: taken over (a live owner's lock would not be, for 60 s).
      const release = await acquireFileLock(lockPath, { staleMs: 60_000, timeoutMs: 150 }, USER);
      expect(await readlink(lockPath), target).not.toBe(target);
      await release();
    }
  });

  it('never judges a lock of another host by its PID: only its age counts', async () => {
    const lockPath = join(directory, '.x.lock');
    const target = '999999@another-host#0123456789abcdef.00aa11bb22cc';
    await symlink(target, lockPath);
    await ageBy(lockPath, 3_000);
    vi.spyOn(process, 'kill').mockImplementation(() => {
      throw Object.assign(new Error('kill ESRCH'), { code: 'ESRCH' });
    });
    await expect(acquireFileLock(lockPath, { staleMs: 60_000, timeoutMs: 100 }, USER)).rejects.toBeInstanceOf(
      StorageUnavailableError,
    );
    expect(await readlink(lockPath)).toBe(target);
  });

  it('names this process in the lock it holds, and says whose lock and which path when it gives up', async () => {
    const lockPath = join(directory, '.x.lock');
    const release = await acquireFileLock(lockPath, { staleMs: 60_000, timeoutMs: 100 }, USER);
    expect(await readlink(lockPath)).toMatch(
      new RegExp(`^${process.pid}@${encodeURIComponent(hostname())}#[0-9a-f]{16}\\.[0-9a-f]{24}$`),
    );
    const error = await acquireFileLock(lockPath, { staleMs: 60_000, timeoutMs: 50 }, USER).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StorageUnavailableError);
    expect(error).toMatchObject({ userId: USER });
    expect((error as StorageUnavailableError).hint).toContain(lockPath);
    await release();
  });

  it('passes on a failure to create the lock that is not "it exists" (a missing directory)', async () => {
    const lockPath = join(directory, 'missing', '.x.lock');
    await expect(
      acquireFileLock(lockPath, { staleMs: 60_000, timeoutMs: 5_000 }, USER),
    ).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });

  describe('at the exact boundaries (the clock frozen at a whole millisecond)', () => {
    /** A live owner's lock (or a foreign file) dated `ageMs` before a frozen now. */
    async function lockAged(
      ageMs: number,
      kind: 'live owner' | 'foreign file' = 'live owner',
    ): Promise<string> {
      const lockPath = join(directory, `.b${Math.abs(ageMs)}${ageMs < 0 ? 'f' : ''}.lock`);
      if (kind === 'foreign file') await writeFile(lockPath, 'not a lock');
      else await symlink(liveOwner(), lockPath);
      const dated = new Date(Math.floor(Date.now() / 1000) * 1000 - 100_000);
      await lutimes(lockPath, dated, dated);
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(dated.getTime() + ageMs);
      return lockPath;
    }
    // timeoutMs 0: one look at the lock, then give up (the frozen clock never reaches a later deadline).
    const taken = async (lockPath: string) =>
      acquireFileLock(lockPath, { staleMs: 10_000, timeoutMs: 0 }, USER).then(
        async (release) => {
          await release();
          return true;
        },
        (error: unknown) => {
          expect(error).toBeInstanceOf(StorageUnavailableError);
          return false;
        },
      );

    it('a live owner’s lock exactly staleMs old is kept; one millisecond older is taken', async () => {
      expect(await taken(await lockAged(10_000))).toBe(false);
      vi.useRealTimers();
      expect(await taken(await lockAged(10_001))).toBe(true);
    });

    it('a lock dated exactly staleMs in the future is kept; one millisecond further is taken', async () => {
      expect(await taken(await lockAged(-10_000))).toBe(false);
      vi.useRealTimers();
      expect(await taken(await lockAged(-10_001))).toBe(true);
    });

    it('something foreign exactly 2 s old is kept; one millisecond older is taken', async () => {
      expect(await taken(await lockAged(2_000, 'foreign file'))).toBe(false);
      vi.useRealTimers();
      expect(await taken(await lockAged(2_001, 'foreign file'))).toBe(true);
    });

    it('releasing exactly staleMs after acquiring checks the owner first (a successor may hold it)', async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(1_800_000_000_000);
      const lockPath = join(directory, '.r.lock');
      const release = await acquireFileLock(lockPath, { staleMs: 1_000, timeoutMs: 150 }, USER);
      vi.setSystemTime(1_800_000_001_000);
      await unlink(lockPath);
      await symlink(liveOwner(), lockPath);
      await release();
      expect(await readlink(lockPath)).toBe(liveOwner());
    });
  });

  it('a release finds its lock already gone (an operator removed it): nothing to do, no error', async () => {
    const lockPath = join(directory, '.x.lock');
    const release = await acquireFileLock(lockPath, { staleMs: 60_000, timeoutMs: 100 }, USER);
    await unlink(lockPath);
    await expect(release()).resolves.toBeUndefined();
  });
});

describe('errorCode', () => {
  it('is the code of an object that has one, else undefined', () => {
    expect(errorCode(Object.assign(new Error('x'), { code: 'EEXIST' }))).toBe('EEXIST');
    expect(errorCode({ code: 42 })).toBe('42');
    expect(errorCode(new Error('no code'))).toBeUndefined();
    expect(errorCode({})).toBeUndefined();
    expect(errorCode(null)).toBeUndefined();
    expect(errorCode('EEXIST')).toBeUndefined();
    expect(errorCode(undefined)).toBeUndefined();
  });
});
