/**
 * File names of the file store: the canonical name of a user's file (the Python server's
 * `quote(email, safe="@._-")` of the lower-case email), the names derived from it (lock, temporary
 * file, a lock taken aside), and the names older Python servers wrote (capitals kept, or no quoting)
 * that still map to a user.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { InvalidInputError } from '../errors.js';
import { decodeUserIdFromStorage, encodeUserIdForStorage } from '../user-id.js';

/** The suffix of every credentials file. */
export const FILE_SUFFIX = '.json';
const MAX_FILE_NAME_BYTES = 255;
const RANDOM_HEX = 12;
// The longest derived name: a lock being taken over, `.<file>.lock.<12 hex>.stale`.
const DERIVED_OVERHEAD = '.'.length + '.lock'.length + 1 + RANDOM_HEX + '.stale'.length;

/**
 * The canonical file name of a user's record. Throws `InvalidInputError` when it, or a name derived
 * from it (lock, temporary file), would exceed the 255-byte file name limit.
 */
export function canonicalFileName(userId: string): string {
  const name = encodeUserIdForStorage(userId) + FILE_SUFFIX;
  if (Buffer.byteLength(name) + DERIVED_OVERHEAD > MAX_FILE_NAME_BYTES) {
    throw new InvalidInputError(
      `user id is too long to be stored as a file (its file name would be ${Buffer.byteLength(name)} bytes; at most ${MAX_FILE_NAME_BYTES - DERIVED_OVERHEAD} leave room for the lock and temporary files)`,
      { userId },
    );
  }
  return name;
}

/** The lock of a credentials file. */
export function lockFileName(fileName: string): string {
  return `.${fileName}.lock`;
}

/** A fresh, unpredictable temporary name for a write of `fileName`. */
export function temporaryFileName(fileName: string): string {
  return `.${fileName}.${randomBytes(RANDOM_HEX / 2).toString('hex')}.tmp`;
}

/** What a directory entry is to the store. */
export type EntryKind =
  | { kind: 'canonical'; userId: string }
  | { kind: 'legacy'; userId: string }
  | { kind: 'unmapped' }
  | { kind: 'ignored' };

/**
 * Classifies a directory entry: a canonical credentials file, a legacy one (a name an older Python
 * server wrote that maps to a user), a `.json` file that names no user, or something to ignore
 * (hidden files: locks, temporary files; other suffixes).
 */
export function classifyEntry(name: string): EntryKind {
  if (name.startsWith('.') || !name.endsWith(FILE_SUFFIX)) return { kind: 'ignored' };
  const userId = decodeUserIdFromStorage(name.slice(0, -FILE_SUFFIX.length));
  if (userId === undefined) return { kind: 'unmapped' };
  return encodeUserIdForStorage(userId) + FILE_SUFFIX === name
    ? { kind: 'canonical', userId }
    : { kind: 'legacy', userId };
}
