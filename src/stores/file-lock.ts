/**
 * A per-record lock file that works across processes on one host and degrades to an age limit across
 * hosts (a shared volume). Created with O_EXCL; a lock whose owner process is gone (same host) or
 * that is older than `staleMs` is taken over, so a killed writer never wedges the store.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { StorageUnavailableError } from '../errors.js';

/** Settings for {@link acquireFileLock}. */
export interface FileLockSettings {
  /** Age after which any lock is considered abandoned, milliseconds. */
  staleMs: number;
  /** How long to wait for a busy lock before failing, milliseconds. */
  timeoutMs: number;
}

interface LockOwner {
  pid: number;
  host: string;
  nonce: string;
}

// A lock file that exists but has no readable owner yet: its creator is between open and write.
const UNWRITTEN_LOCK_GRACE_MS = 2_000;
const HOST = hostname();

/** Acquires the lock at `lockPath`; resolves a function that releases it. */
export async function acquireFileLock(
  lockPath: string,
  settings: FileLockSettings,
  userId: string,
): Promise<() => Promise<void>> {
  const owner: LockOwner = { pid: process.pid, host: HOST, nonce: randomBytes(12).toString('hex') };
  const deadline = Date.now() + settings.timeoutMs;
  let wait = 2;
  for (;;) {
    if (await tryCreate(lockPath, owner)) {
      return () => release(lockPath, owner);
    }
    if (await breakIfStale(lockPath, settings.staleMs)) continue;
    if (Date.now() >= deadline) {
      throw new StorageUnavailableError(`credentials for ${userId} are locked by another writer`, {
        userId,
        hint: `the lock file ${lockPath} was held for longer than ${settings.timeoutMs} ms`,
      });
    }
    await delay(wait + Math.random() * wait);
    wait = Math.min(wait * 2, 50);
  }
}

async function tryCreate(lockPath: string, owner: LockOwner): Promise<boolean> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(
      lockPath,
      constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW,
      0o600,
    );
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false;
    throw error;
  }
  try {
    await handle.writeFile(JSON.stringify(owner));
  } finally {
    await handle.close();
  }
  return true;
}

async function readOwner(path: string): Promise<LockOwner | undefined> {
  try {
    const parsed: unknown = JSON.parse(await readFile(path, 'utf8'));
    if (
      typeof parsed === 'object' &&
      parsed !== null &&
      typeof (parsed as LockOwner).pid === 'number' &&
      typeof (parsed as LockOwner).host === 'string' &&
      typeof (parsed as LockOwner).nonce === 'string'
    ) {
      return parsed as LockOwner;
    }
  } catch {
    // unreadable or half-written: no owner
  }
  return undefined;
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === 'EPERM';
  }
}

async function breakIfStale(lockPath: string, staleMs: number): Promise<boolean> {
  let modifiedAt: number;
  try {
    modifiedAt = (await stat(lockPath)).mtimeMs;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return true; // released meanwhile: try again at once
    throw error;
  }
  const owner = await readOwner(lockPath);
  const age = Date.now() - modifiedAt;
  const abandoned =
    age > staleMs ||
    (owner === undefined && age > UNWRITTEN_LOCK_GRACE_MS) ||
    (owner !== undefined && owner.host === HOST && owner.pid !== process.pid && !processIsAlive(owner.pid));
  if (!abandoned) return false;

  // Take the stale lock out of the way atomically, then check that what we moved is the lock we
  // judged stale; if a fresh lock slipped in between, put it back.
  const moved = `${lockPath}.${randomBytes(6).toString('hex')}.stale`;
  try {
    await rename(lockPath, moved);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return true;
    throw error;
  }
  const movedOwner = await readOwner(moved);
  if (owner !== undefined && movedOwner?.nonce !== owner.nonce) {
    await link(moved, lockPath).catch(() => {});
  }
  await unlink(moved).catch(() => {});
  return true;
}

async function release(lockPath: string, owner: LockOwner): Promise<void> {
  const current = await readOwner(lockPath);
  if (current?.nonce === owner.nonce) {
    await unlink(lockPath).catch((error: unknown) => {
      if (errorCode(error) !== 'ENOENT') throw error;
    });
  }
}

/** The `code` of a Node system error, if any. */
export function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error
    ? String((error as { code: unknown }).code)
    : undefined;
}
