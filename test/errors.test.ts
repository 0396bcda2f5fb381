import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  AccessDeniedError,
  ConfigurationError,
  ConflictError,
  CorruptCredentialsError,
  CredentialError,
  InvalidInputError,
  InvalidTokenError,
  isCredentialError,
  NotFoundError,
  ProviderError,
  ReauthRequiredError,
  SanitisedCause,
  StorageForbiddenError,
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
    [StorageForbiddenError, 'STORAGE_FORBIDDEN'],
    [InvalidTokenError, 'INVALID_TOKEN'],
  ] as const)('%o has code %s, its own name, and keeps a sanitised cause', (ErrorClass, code) => {
    const cause = Object.assign(new Error('backend said no'), {
      code: 'EBACKEND',
      command: { args: ['SET', 'k', '{"secret":1}'] },
    });
    const error = new ErrorClass('it failed', { cause, userId: 'u@example.com', hint: 'do this' });
    expect(error).toBeInstanceOf(CredentialError);
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe(code);
    expect(error.name).toBe(ErrorClass.name);
    expect(error.cause).toBeInstanceOf(SanitisedCause);
    expect(error.cause).toMatchObject({ name: 'Error', code: 'EBACKEND', message: 'backend said no' });
    expect(inspect(error, { showHidden: true, depth: 10 })).not.toContain('secret');
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

  it('keeps an error of this package as its cause unchanged', () => {
    const inner = new ConflictError('lost the race');
    expect(new StorageUnavailableError('gave up', { cause: inner }).cause).toBe(inner);
  });

  it('serialises without the cause, which may come from a third party', () => {
    const error = new StorageUnavailableError('down', { cause: new Error('token=ya29.SECRET') });
    expect(JSON.stringify(error)).not.toContain('SECRET');
  });
});

describe('one error identity across copies of the package (ESM and CommonJS, duplicated installs)', () => {
  // What an error thrown by another copy looks like: another class, the same global brand.
  function fromAnotherCopy(code: string): Error {
    const error = new Error('thrown by another copy') as Error & Record<string | symbol, unknown>;
    error.code = code;
    error[Symbol.for('mcp-oauth-credentials.CredentialError')] = true;
    return error;
  }

  it('recognises a branded error as a CredentialError and as the subclass of its code only', async () => {
    const { CredentialError, ConflictError, NotFoundError, isCredentialError } = await import(
      '../src/index.js'
    );
    const conflict = fromAnotherCopy('CONFLICT');
    expect(conflict instanceof CredentialError).toBe(true);
    expect(conflict instanceof ConflictError).toBe(true);
    expect(conflict instanceof NotFoundError).toBe(false);
    expect(isCredentialError(conflict)).toBe(true);
    expect(isCredentialError(conflict, 'CONFLICT')).toBe(true);
    expect(isCredentialError(conflict, 'NOT_FOUND')).toBe(false);
  });

  it('does not recognise look-alikes without the brand, or with a non-string code', async () => {
    const { CredentialError, ConflictError, isCredentialError } = await import('../src/index.js');
    const lookAlike = Object.assign(new Error('x'), { code: 'CONFLICT' });
    expect(lookAlike instanceof CredentialError).toBe(false);
    expect(lookAlike instanceof ConflictError).toBe(false);
    expect(isCredentialError(lookAlike)).toBe(false);
    const badCode = fromAnotherCopy('CONFLICT') as Error & { code: unknown };
    badCode.code = 42;
    expect(isCredentialError(badCode)).toBe(false);
    expect(isCredentialError(null)).toBe(false);
    expect(isCredentialError('CONFLICT')).toBe(false);
  });

  it('keeps ordinary instanceof within one copy', async () => {
    const { CredentialError, ConflictError, ReauthRequiredError } = await import('../src/index.js');
    const error = new ConflictError('x');
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(CredentialError);
    expect(error).toBeInstanceOf(ConflictError);
    expect(error).not.toBeInstanceOf(ReauthRequiredError);
    expect(error.name).toBe('ConflictError');
  });
});
