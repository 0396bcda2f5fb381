import { describe, expect, it } from 'vitest';
import { ConfigurationError, NotFoundError, ProviderError } from '../../src/errors.js';
import {
  classifyProviderFailure,
  ProviderFailureError,
  toPublicError,
} from '../../src/refresh/provider-errors.js';

/** What gaxios rejects with: the response, and the request (with its secrets) beside it. */
function gaxiosError(status: number | undefined, data?: unknown, code?: string): Error {
  const error = new Error('request failed') as Error & Record<string, unknown>;
  error.config = { body: 'refresh_token=1//secret-refresh&client_secret=shh' };
  if (status !== undefined) error.response = { status, data };
  if (code !== undefined) error.code = code;
  return error;
}

describe('classifyProviderFailure', () => {
  it.each([
    ['invalid_grant', gaxiosError(400, { error: 'invalid_grant' }), 'invalid_grant', 'invalid_grant'],
    ['invalid_client', gaxiosError(401, { error: 'invalid_client' }), 'invalid_client', 'invalid_client'],
    [
      'unauthorized_client',
      gaxiosError(400, { error: 'unauthorized_client' }),
      'invalid_client',
      'unauthorized_client',
    ],
    [
      'temporarily_unavailable on a 400',
      gaxiosError(400, { error: 'temporarily_unavailable' }),
      'transient',
      'temporarily_unavailable',
    ],
    ['a 408', gaxiosError(408), 'transient', 'HTTP 408'],
    ['a 429', gaxiosError(429, 'slow down'), 'transient', 'HTTP 429'],
    ['a 500', gaxiosError(500, { error: 'server_error' }), 'transient', 'server_error'],
    ['a 503 without a body', gaxiosError(503), 'transient', 'HTTP 503'],
    ['a 499 (not 5xx)', gaxiosError(499), 'rejected', 'HTTP 499'],
    ['a 400 with another error', gaxiosError(400, { error: 'invalid_scope' }), 'rejected', 'invalid_scope'],
    ['a 403 with a non-string error field', gaxiosError(403, { error: 42 }), 'rejected', 'HTTP 403'],
    [
      'a network error with a code',
      gaxiosError(undefined, undefined, 'ECONNRESET'),
      'transient',
      'ECONNRESET',
    ],
    ['a network error without a code', gaxiosError(undefined), 'transient', 'network error'],
    ['a non-error', 'boom', 'transient', 'network error'],
    ['undefined thrown', undefined, 'transient', 'network error'],
    ['null thrown', null, 'transient', 'network error'],
    ['a 400 with a null body', gaxiosError(400, null), 'rejected', 'HTTP 400'],
    ['a 400 with a text body', gaxiosError(400, 'invalid_grant'), 'rejected', 'HTTP 400'],
  ])('%s', (_name, error, kind, code) => {
    const failure = classifyProviderFailure(error);
    expect(failure).toBeInstanceOf(ProviderFailureError);
    expect(failure.kind).toBe(kind);
    expect(failure.providerCode).toBe(code);
    expect(failure.sanitised.message).toBe(code);
    expect(failure.sanitised.name).toBe('ProviderResponse');
  });

  it('keeps nothing of the request: no refresh token, no client secret, anywhere in the failure', () => {
    const failure = classifyProviderFailure(gaxiosError(400, { error: 'invalid_grant' }));
    const everything = JSON.stringify([failure, failure.cause, failure.message, failure.sanitised.stack]);
    expect(everything).not.toContain('secret-refresh');
    expect(everything).not.toContain('shh');
    expect(failure.cause).toBe(failure.sanitised);
  });

  it('passes a failure it already classified through unchanged', () => {
    const failure = classifyProviderFailure(gaxiosError(400, { error: 'invalid_grant' }));
    expect(classifyProviderFailure(failure)).toBe(failure);
  });
});

describe('toPublicError', () => {
  it('passes a CredentialError through as it is', () => {
    const error = new NotFoundError('nothing stored', { userId: 'ada@example.com' });
    expect(toPublicError(error, 'ada@example.com')).toBe(error);
  });

  it('turns a refused OAuth client into a ConfigurationError with a hint', () => {
    const error = toPublicError(gaxiosError(401, { error: 'invalid_client' }), 'ada@example.com');
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error).toMatchObject({
      code: 'CONFIGURATION',
      userId: 'ada@example.com',
      hint: 'check oauth.clientId and oauth.clientSecret',
    });
    expect(error.message).toBe('the provider refused the OAuth client (invalid_client)');
  });

  it('says "after retries" for a transient failure and "refused" for a rejection, naming the user when known', () => {
    const transient = toPublicError(gaxiosError(503), 'ada@example.com');
    expect(transient).toBeInstanceOf(ProviderError);
    expect(transient.message).toBe('the OAuth provider failed for ada@example.com after retries (HTTP 503)');
    const rejected = toPublicError(gaxiosError(400, { error: 'invalid_scope' }), undefined);
    expect(rejected).toBeInstanceOf(ProviderError);
    expect(rejected.message).toBe('the OAuth provider refused the request (invalid_scope)');
    expect(rejected).toMatchObject({ userId: undefined, providerCode: 'invalid_scope' });
    expect((rejected.cause as Error).message).toBe('invalid_scope');
  });
});
