/**
 * The file store's writes: a record written to a fresh, exclusively created temporary file (0600, no
 * link followed, an unpredictable name), synced, renamed over the old one, and the directory synced,
 * so a crash leaves the old record or the new one, never a mix; and the version of a file.
 *
 * @module
 */
import { constants, fstatSync } from 'node:fs';
import { type FileHandle, open, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { InvalidInputError } from '../errors.js';
import { errorCode } from './file-lock.js';
import { temporaryFileName } from './file-names.js';

/** A file's version: inode, modification time (ns) and size, so any rewrite changes it. */
export function versionOf(stats: { ino: bigint; mtimeNs: bigint; size: bigint }): string {
  return `${stats.ino.toString(36)}-${stats.mtimeNs.toString(36)}-${stats.size.toString(36)}`;
}

function inside(directory: string, fileName: string): string {
  const path = join(directory, fileName);
  if (dirname(path) !== directory) {
    throw new InvalidInputError('user id would resolve outside the credentials directory');
  }
  return path;
}

/** Writes `content` as `directory/fileName` atomically (see the module documentation); resolves its version. */
export async function writeAtomically(
  directory: string,
  fsync: boolean,
  fileName: string,
  content: string,
): Promise<string> {
  let temporary = '';
  let handle: FileHandle | undefined;
  // Exclusively created, never following a link, under a name nobody can predict: a file someone
  // else prepared can never become ours.
  for (let attempt = 0; handle === undefined; attempt++) {
    temporary = inside(directory, temporaryFileName(fileName));
    try {
      handle = await open(
        temporary,
        constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW,
        0o600,
      );
    } catch (error) {
      if (errorCode(error) !== 'EEXIST' || attempt >= 2) throw error;
    }
  }
  let version: string;
  try {
    // The creation mode is filtered by the umask; make it exactly 0600 on the descriptor.
    await handle.chmod(0o600);
    await handle.writeFile(content, 'utf8');
    if (fsync) await handle.sync();
    // fstat on an open descriptor does no I/O: the synchronous call spares a thread-pool round trip.
    version = versionOf(fstatSync(handle.fd, { bigint: true }));
  } catch (error) {
    await handle.close();
    await unlink(temporary).catch(() => {});
    throw error;
  }
  await handle.close();
  try {
    await rename(temporary, inside(directory, fileName));
  } catch (error) {
    await unlink(temporary).catch(() => {});
    throw error;
  }
  await syncDirectory(directory, fsync);
  return version;
}

/** Makes a rename in `directory` durable (fsync of the directory), where the platform allows it. */
export async function syncDirectory(directory: string, fsync: boolean): Promise<void> {
  if (!fsync) return;
  const handle = await open(directory, constants.O_RDONLY);
  try {
    await handle.sync();
  } catch (error) {
    // Some platforms and file systems do not support fsync on a directory.
    if (!['EINVAL', 'EISDIR', 'EPERM', 'ENOTSUP'].includes(errorCode(error) ?? '')) throw error;
  } finally {
    await handle.close();
  }
}
