/**
 * A per-record lock that works across processes on one host and degrades to an age limit across
 * hosts (a shared volume). The lock is a symbolic link whose target text names its owner
 * (`pid@host#processNonce.lockNonce`): creating it is one atomic system call that fails if it exists,
 * and it is never followed. A lock is taken over when its owner process is gone (same host; a lock
 * naming this process's PID but another process nonce is a previous incarnation's, as after a
 * container restart that reuses PID 1), when it is older than `staleMs`, or when it is dated more
 * than `staleMs` in the future (it would otherwise never age out). A killed writer never wedges
 * the store.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { link, lstat, readlink, rename, symlink, unlink } from 'node:fs/promises';
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
  /** The owning process's nonce; undefined for locks of versions that did not record one. */
  processNonce: string | undefined;
  nonce: string;
}

const HOST = hostname();
// Tells this process apart from an earlier one that had the same PID (a restarted container).
const PROCESS_NONCE = randomBytes(8).toString('hex');

function encodeOwner(owner: LockOwner): string {
  return `${owner.pid}@${encodeURIComponent(owner.host)}#${owner.processNonce}.${owner.nonce}`;
}

function decodeOwner(text: string): LockOwner | undefined {
  const match = /^(\d+)@([^#]*)#([0-9a-f]+)(?:\.([0-9a-f]+))?$/.exec(text);
  // Stryker disable next-line ConditionalExpression: without it, reading the missing match throws inside the try below, which answers `undefined` all the same.
  if (!match) return undefined;
  let host: string;
  try {
    host = decodeURIComponent(match[2]!);
  } catch {
    return undefined;
  }
  // Stryker disable next-line ConditionalExpression: `false` reads an old-format lock's only nonce as its process nonce; both mean "not this incarnation", and the lock nonce is never read.
  return match[4] === undefined
    ? { pid: Number(match[1]), host, processNonce: undefined, nonce: match[3]! }
    : { pid: Number(match[1]), host, processNonce: match[3]!, nonce: match[4] };
}

/** Whether a lock's owner is certainly gone: a dead process on this host, or this PID's earlier life. */
function ownerIsGone(owner: LockOwner): boolean {
  if (owner.host !== HOST) return false;
  if (owner.pid === process.pid) return owner.processNonce !== PROCESS_NONCE;
  return !processIsAlive(owner.pid);
}

/** Acquires the lock at `lockPath`; resolves a function that releases it. */
export async function acquireFileLock(
  lockPath: string,
  settings: FileLockSettings,
  userId: string,
): Promise<() => Promise<void>> {
  const owner: LockOwner = {
    pid: process.pid,
    host: HOST,
    processNonce: PROCESS_NONCE,
    nonce: randomBytes(12).toString('hex'),
  };
  const deadline = Date.now() + settings.timeoutMs;
  let wait = 2;
  for (;;) {
    if (await tryCreate(lockPath, owner)) {
      const acquiredAt = Date.now();
      return () => release(lockPath, owner, acquiredAt, settings.staleMs);
    }
    if (await breakIfStale(lockPath, settings.staleMs)) continue;
    if (Date.now() >= deadline) {
      throw new StorageUnavailableError(`credentials for ${userId} are locked by another writer`, {
        userId,
        hint: `the lock ${lockPath} was held for longer than ${settings.timeoutMs} ms`,
      });
    }
    // Stryker disable next-line ArithmeticOperator: how long to wait between looks, not whether to enter.
    await delay(wait + Math.random() * wait);
    // Stryker disable next-line ArithmeticOperator,MethodExpression: as above.
    wait = Math.min(wait * 2, 50);
  }
}

async function tryCreate(lockPath: string, owner: LockOwner): Promise<boolean> {
  try {
    await symlink(encodeOwner(owner), lockPath);
    return true;
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false;
    throw error;
  }
}

/** The lock's target text; `null` when the path is not a symbolic link; `undefined` when it is gone. */
async function readTarget(path: string): Promise<string | null | undefined> {
  try {
    return await readlink(path);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT') return undefined;
    // Stryker disable next-line ConditionalExpression: another readlink failure on a path that EEXIST just named cannot be produced; as `null` it would only delay the same error to the move.
    if (code === 'EINVAL') return null;
    throw error;
  }
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === 'EPERM';
  }
}

// Something at the lock path that is not a lock this package wrote (a stray file or link) is taken
// over only after this long, in case it is being created right now.
const FOREIGN_LOCK_GRACE_MS = 2_000;

async function breakIfStale(lockPath: string, staleMs: number): Promise<boolean> {
  const target = await readTarget(lockPath);
  // Stryker disable next-line BooleanLiteral,ConditionalExpression: `false` only waits one step before the same retry.
  if (target === undefined) return true; // released meanwhile: try again at once
  const modifiedAt = await lstat(lockPath).then(
    (stats) => stats.mtimeMs,
    // Stryker disable next-line all: lstat failing right after readlink succeeded on the same path cannot be produced here.
    (error: unknown) => (errorCode(error) === 'ENOENT' ? undefined : Promise.reject(error)),
  );
  // Stryker disable next-line ConditionalExpression,BooleanLiteral: released in between, as above; `false` only waits a step.
  if (modifiedAt === undefined) return true;
  // Stryker disable next-line ConditionalExpression: decodeOwner(null) finds no owner either.
  const owner = target === null ? undefined : decodeOwner(target);
  const age = Date.now() - modifiedAt;
  const abandoned =
    age > staleMs ||
    age < -staleMs ||
    (owner === undefined && Math.abs(age) > FOREIGN_LOCK_GRACE_MS) ||
    (owner !== undefined && ownerIsGone(owner));
  if (!abandoned) return false;

  // Take the stale lock out of the way atomically, then check that what we moved is the lock we
  // judged stale; if a fresh lock slipped in between, put it back.
  const moved = `${lockPath}.${randomBytes(6).toString('hex')}.stale`;
  try {
    await rename(lockPath, moved);
  } catch (error) {
    // Stryker disable next-line BooleanLiteral: `false` only waits one step before the retry finds the path free.
    if (errorCode(error) === 'ENOENT') return true;
    throw error;
  }
  if ((await readTarget(moved)) !== target) await link(moved, lockPath).catch(() => {});
  await unlink(moved).catch(() => {});
  return true;
}

async function release(
  lockPath: string,
  owner: LockOwner,
  acquiredAt: number,
  staleMs: number,
): Promise<void> {
  // Nobody takes over a live owner's lock before it is `staleMs` old, so a lock released sooner is
  // still ours: one unlink. Past that, check the owner first.
  // Stryker disable next-line ConditionalExpression,ArithmeticOperator: checking the owner earlier too is only an extra readlink.
  if (Date.now() - acquiredAt >= staleMs && (await readTarget(lockPath)) !== encodeOwner(owner)) return;
  // Stryker disable next-line BlockStatement: swallowing other unlink failures needs one (EACCES on our own lock) that cannot be produced here.
  await unlink(lockPath).catch((error: unknown) => {
    // Stryker disable next-line ConditionalExpression: as above.
    if (errorCode(error) !== 'ENOENT') throw error;
  });
}

/** The `code` of a Node system error, if any. */
export function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error
    ? String((error as { code: unknown }).code)
    : undefined;
}
