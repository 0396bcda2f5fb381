/**
 * Whom the file store trusts: it writes only into a directory this process owns that nobody else
 * can write, and reads only files this process owns, so another local account can neither plant a
 * record nor swap one. `sharedGroup` relaxes this for a directory shared with the Python server's
 * account through a group: a group-writable directory, and files owned by other members of the
 * directory's group. A world-writable directory is never trusted.
 *
 * @module
 */
import type { Stats } from 'node:fs';
import { ConfigurationError } from '../errors.js';

/** The process's identity, or undefined where the platform has none (Windows). */
function processIds(): { uid: number; gids: number[] } | undefined {
  if (typeof process.getuid !== 'function') return undefined;
  // Stryker disable next-line ArrayDeclaration: a made-up string is never a numeric group id
  const gids = typeof process.getgroups === 'function' ? process.getgroups() : [];
  return { uid: process.getuid(), gids: [process.getgid?.() ?? -1, ...gids] };
}

/** Throws {@link ConfigurationError} naming the directory and the fix when it is not trustworthy. */
export function checkDirectoryTrust(directory: string, stats: Stats, sharedGroup: boolean): void {
  const ids = processIds();
  if (ids === undefined) return;
  const mode = (stats.mode & 0o777).toString(8).padStart(3, '0');
  if ((stats.mode & 0o002) !== 0) {
    throw new ConfigurationError(
      `credentials directory ${directory} is writable by everyone (mode ${mode})`,
      {
        hint: `chmod 700 ${directory} (or 770 with sharedGroup)`,
      },
    );
  }
  const ownedByUs = stats.uid === ids.uid;
  const groupShared = sharedGroup && ids.gids.includes(stats.gid);
  if (!ownedByUs && !groupShared) {
    throw new ConfigurationError(
      `credentials directory ${directory} is owned by uid ${stats.uid}, not by this process (uid ${ids.uid})`,
      {
        hint: `chown ${ids.uid} ${directory} && chmod 700 ${directory}, or share it through a group and set sharedGroup`,
      },
    );
  }
  if ((stats.mode & 0o020) !== 0 && !sharedGroup) {
    throw new ConfigurationError(
      `credentials directory ${directory} is writable by its group (mode ${mode})`,
      {
        hint: `chmod 700 ${directory}, or set sharedGroup if the group is shared with the Python server on purpose`,
      },
    );
  }
}

/** How a file checked out. */
export type FileTrust = 'ours' | 'readable-by-others';

/**
 * Checks a credentials file before it is read. Throws {@link ConfigurationError} for a file owned by
 * someone else (unless `sharedGroup` and it belongs to the directory's group).
 */
export function checkFileTrust(
  path: string,
  stats: { uid: number; gid: number; mode: number },
  directoryGid: number,
  sharedGroup: boolean,
): FileTrust {
  const ids = processIds();
  if (ids === undefined) return 'ours';
  if (stats.uid !== ids.uid && !(sharedGroup && stats.gid === directoryGid)) {
    throw new ConfigurationError(
      `credentials file ${path} is owned by another user (uid ${stats.uid}); refusing to read it`,
      {
        hint: 'someone else could have written it: check it, then chown it to this process’s user or remove it',
      },
    );
  }
  if ((stats.mode & 0o002) !== 0) {
    throw new ConfigurationError(`credentials file ${path} is writable by everyone; refusing to read it`, {
      hint: `check it, then chmod 600 ${path}`,
    });
  }
  return (stats.mode & 0o077) !== 0 ? 'readable-by-others' : 'ours';
}
