/**
 * User ids are Google account emails, normalised to lower case. Every entry point normalises and
 * validates them before they reach a file name, an S3 key or a map key, so a hostile id cannot
 * traverse a directory, inject a key or alias another user.
 *
 * @module
 */
import { InvalidInputError } from './errors.js';

const LOCAL_PART = /^[a-z0-9!#$&'*+=?^_`{|}~-]+(?:\.[a-z0-9!#$&'*+=?^_`{|}~-]+)*$/;
const DOMAIN = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const NON_PRINTABLE_ASCII = /[^\x21-\x7e]/;
const MAX_EMAIL_LENGTH = 254;
const MAX_LOCAL_PART_LENGTH = 64;

/**
 * Returns the canonical form of a user id (the email in lower case) or throws
 * {@link InvalidInputError}.
 *
 * Accepted: printable ASCII emails up to 254 characters with a dotted domain. Refused: anything
 * else, including `/`, `\`, `%`, NUL and other control characters, whitespace, `..`, non-ASCII
 * characters (some lower-case to ASCII and would alias another account) and non-strings.
 */
export function normaliseUserId(raw: unknown): string {
  if (typeof raw === 'string' && canonicalIds.has(raw)) return raw;
  if (typeof raw !== 'string' || raw.length === 0) {
    throw new InvalidInputError('user id must be a non-empty email address');
  }
  if (raw.length > MAX_EMAIL_LENGTH || NON_PRINTABLE_ASCII.test(raw)) {
    throw new InvalidInputError('user id is not a valid email address');
  }
  const userId = raw.toLowerCase();
  const at = userId.lastIndexOf('@');
  const local = userId.slice(0, at);
  const domain = userId.slice(at + 1);
  if (at <= 0 || local.length > MAX_LOCAL_PART_LENGTH || !LOCAL_PART.test(local) || !DOMAIN.test(domain)) {
    throw new InvalidInputError('user id is not a valid email address');
  }
  rememberCanonical(userId);
  return userId;
}

// Ids already validated and in canonical form: every request normalises the same few ids several
// times, and a set lookup is cheaper than the regular expressions. Bounded; emptied when full.
const canonicalIds = new Set<string>();
const MAX_REMEMBERED_IDS = 100_000;

function rememberCanonical(userId: string): void {
  if (canonicalIds.size >= MAX_REMEMBERED_IDS) canonicalIds.clear();
  canonicalIds.add(userId);
}

/** True when `raw` is a valid user id (see {@link normaliseUserId}). */
export function isValidUserId(raw: unknown): boolean {
  try {
    normaliseUserId(raw);
    return true;
  } catch {
    return false;
  }
}

// Python's urllib.parse.quote(s, safe="@._-"): letters, digits, "_.-~" and "@" stay as they are.
const PYTHON_SAFE = /[A-Za-z0-9_.\-~@]/;

/**
 * Encodes a normalised user id the way google_workspace_mcp names its files and S3 keys:
 * `urllib.parse.quote(email, safe="@._-")` (percent-encoding with upper-case hex).
 */
export function encodeUserIdForStorage(userId: string): string {
  let out = '';
  for (const char of userId) {
    if (PYTHON_SAFE.test(char)) {
      out += char;
    } else {
      for (const byte of Buffer.from(char, 'utf8')) {
        out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
      }
    }
  }
  return out;
}

/**
 * Decodes a storage name written by {@link encodeUserIdForStorage} (or by the Python server) back to
 * a normalised user id, or returns `undefined` when it is not one.
 */
export function decodeUserIdFromStorage(encoded: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(encoded);
  } catch {
    return undefined;
  }
  try {
    return normaliseUserId(decoded);
  } catch {
    return undefined;
  }
}
