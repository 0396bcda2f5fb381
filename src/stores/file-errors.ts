/**
 * The file store's error for a failed file-system call: a symlink or an over-long name is bad
 * input, a refused permission is `StorageForbiddenError`, a file where the directory should be is a
 * misconfiguration, anything else (a full or unmounted disk) is `StorageUnavailableError`. The
 * package's own errors pass through unchanged.
 *
 * @module
 */
import {
  ConfigurationError,
  type CredentialError,
  InvalidInputError,
  isCredentialError,
  StorageForbiddenError,
  StorageUnavailableError,
} from '../errors.js';
import { errorCode } from './file-lock.js';

/** Where a file-system call failed. */
export interface FileFailureContext {
  /** The credentials directory. */
  directory: string;
  /** What the store was doing: `read`, `write`, `delete` or `list`. */
  action: string;
  /** The user the call was for, when there was one. */
  userId?: string | undefined;
}

/** See the module documentation. */
export function translateFileError(error: unknown, context: FileFailureContext): CredentialError {
  if (isCredentialError(error)) return error;
  const { directory, action, userId } = context;
  const code = errorCode(error);
  const who = userId === undefined ? '' : ` for ${userId}`;
  const options = { cause: error, userId };
  switch (code) {
    case 'ELOOP':
    case 'EMLINK':
      return new InvalidInputError(`credentials path${who} is a symlink; refusing to follow it`, options);
    case 'EACCES':
    case 'EPERM':
      return new StorageForbiddenError(
        `cannot ${action} credentials${who} in ${directory}: permission denied`,
        {
          ...options,
          hint: `check the owner and mode of ${directory} and its files`,
        },
      );
    case 'ENOTDIR':
      return new ConfigurationError(`credentials directory ${directory} is not a directory`, options);
    case 'ENAMETOOLONG':
      return new InvalidInputError(`user id is too long to be stored as a file${who}`, options);
    default:
      return new StorageUnavailableError(`cannot ${action} credentials${who} (${code ?? 'unknown error'})`, {
        ...options,
        hint: `check that ${directory} is on a writable, mounted file system`,
      });
  }
}
