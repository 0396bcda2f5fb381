import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  AccessDeniedError,
  ConfigurationError,
  ConflictError,
  CorruptCredentialsError,
  CredentialError,
  InvalidInputError,
  isCredentialError,
  NotFoundError,
  ProviderError,
  ReauthRequiredError,
  StorageUnavailableError,
} from '../src/index.js';

describe('CredentialError', () => {
  it.each([
    [NotFoundError, 'NOT_FOUND'],
    [ConflictError, 'CONFLICT'],
    [CorruptCredentialsError, 'CORRUPT'],
    [ReauthRequiredError, 'REAUTH_REQUIRED'],
    [AccessDeniedError, 'ACCESS_DENIED'],
    [StorageUnavailableError, 'STORAGE_UNAVAILABLE'],
    [InvalidInputError, 'INVALID_INPUT'],
    [ConfigurationError, 'CONFIGURATION'],
    [ProviderError, 'PROVIDER_ERROR'],
  ] as const)('%o has code %s, its own name, and keeps the cause', (ErrorClass, code) => {
    const cause = new Error('backend said no');
    const error = new ErrorClass('it failed', { cause, userId: 'u@example.com', hint: 'do this' });
    expect(error).toBeInstanceOf(CredentialError);
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe(code);
    expect(error.name).toBe(ErrorClass.name);
    expect(error.cause).toBe(cause);
    expect(isCredentialError(error, code)).toBe(true);
    expect(isCredentialError(new Error('x'))).toBe(false);
    expect(error.toJSON()).toEqual({
      name: ErrorClass.name,
      code,
      message: 'it failed',
      userId: 'u@example.com',
      hint: 'do this',
    });
    expect(inspect(error)).toContain(code);
  });

  it('serialises without the cause, which may come from a third party', () => {
    const error = new StorageUnavailableError('down', { cause: new Error('token=ya29.SECRET') });
    expect(JSON.stringify(error)).not.toContain('SECRET');
  });
});
