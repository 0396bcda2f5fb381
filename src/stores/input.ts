import type { StoredCredentials } from '../credentials.js';
import { InvalidInputError } from '../errors.js';
import { checkStoredCredentials } from '../internal/record-shape.js';
import { normaliseUserId } from '../user-id.js';
import type { DeleteOptions, PutOptions } from './types.js';

/**
 * Checks a write before a store touches storage: the user id is valid, the record belongs to that
 * user, the record fits the schema and `ifVersion` is well-formed. Returns the normalised id and a
 * validated copy of the record. Built-in stores call it first; custom stores should too.
 *
 * @throws InvalidInputError naming the user and the failing fields (never their values).
 */
export function validateWrite(
  rawUserId: string,
  credentials: StoredCredentials,
  options: PutOptions | undefined,
): { userId: string; record: StoredCredentials } {
  const userId = normaliseUserId(rawUserId);
  checkIfVersion(options?.ifVersion, true);
  const parsed = checkStoredCredentials(credentials);
  if (!parsed.ok) {
    const fields = parsed.issues.map((issue) => issue.path).join(', ');
    throw new InvalidInputError(`credentials for ${userId} are invalid (fields: ${fields})`, { userId });
  }
  if (parsed.value.userId !== userId) {
    throw new InvalidInputError(`credentials for ${userId} carry a different userId`, { userId });
  }
  return { userId, record: parsed.value };
}

/**
 * Checks a delete before a store touches storage; returns the normalised user id.
 *
 * @throws InvalidInputError for an invalid user id or a malformed `ifVersion`.
 */
export function validateDelete(rawUserId: string, options: DeleteOptions | undefined): string {
  const userId = normaliseUserId(rawUserId);
  checkIfVersion(options?.ifVersion, false);
  return userId;
}

function checkIfVersion(ifVersion: unknown, allowNull: boolean): void {
  if (ifVersion === undefined) return;
  if (ifVersion === null && allowNull) return;
  if (typeof ifVersion !== 'string' || ifVersion.length === 0 || ifVersion.length > 1024) {
    throw new InvalidInputError('ifVersion must be a version string returned by the store');
  }
}
