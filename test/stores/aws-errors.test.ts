import { describe, expect, it } from 'vitest';
import {
  ConfigurationError,
  NotFoundError,
  StorageForbiddenError,
  StorageUnavailableError,
} from '../../src/errors.js';
import { awsErrorName, awsHttpStatus, translateAwsError } from '../../src/stores/aws-errors.js';

const context = {
  service: 'S3',
  operation: 'put',
  userId: 'ada@example.com',
  where: 's3://bucket/prefix/',
  grant: 's3:PutObject on s3://bucket/prefix/*',
};

function awsError(name: string, status?: number, message = 'failed'): Error {
  const error = new Error(message) as Error & Record<string, unknown>;
  error.name = name;
  if (status !== undefined) error.$metadata = { httpStatusCode: status };
  error.$response = { headers: { authorization: 'AWS4-HMAC-SHA256 Credential=AKIA/secret-signature' } };
  return error;
}

describe('translateAwsError', () => {
  it.each([
    [
      'CredentialsProviderError',
      awsError('CredentialsProviderError'),
      ConfigurationError,
      'no AWS credentials were found',
    ],
    [
      'a credentials message',
      new Error('Could not load credentials from any providers'),
      ConfigurationError,
      'no AWS credentials',
    ],
    [
      'InvalidAccessKeyId',
      awsError('InvalidAccessKeyId', 403),
      ConfigurationError,
      'refused the AWS credentials (InvalidAccessKeyId)',
    ],
    [
      'ExpiredTokenException',
      awsError('ExpiredTokenException', 400),
      ConfigurationError,
      'refused the AWS credentials',
    ],
    ['a missing region', new Error('Region is missing'), ConfigurationError, 'no AWS region'],
    ['an endpoint that is not a URL', new TypeError('Invalid URL'), ConfigurationError, 'not a valid URL'],
    [
      'AccessDenied',
      awsError('AccessDenied', 403),
      StorageForbiddenError,
      'S3 denied put for ada@example.com on s3://bucket/prefix/',
    ],
    ['AccessDeniedException', awsError('AccessDeniedException', 400), StorageForbiddenError, 'denied put'],
    ['any 403', awsError('Forbidden', 403), StorageForbiddenError, 'denied put'],
    [
      'throttling',
      awsError('SlowDown', 503),
      StorageUnavailableError,
      'S3 put for ada@example.com failed after retries (SlowDown)',
    ],
    [
      'a bare 500',
      Object.assign(new Error('x'), { $metadata: { httpStatusCode: 500 } }),
      StorageUnavailableError,
      '(HTTP 500)',
    ],
    ['a network error', new Error('socket hang up'), StorageUnavailableError, '(network error)'],
  ])('%s', (_name, error, type, message) => {
    const translated = translateAwsError(error, context);
    expect(translated).toBeInstanceOf(type);
    expect(translated.message).toContain(message);
    expect(translated.userId).toBe('ada@example.com');
    expect(JSON.stringify([translated, translated.cause, String(translated.cause)])).not.toContain(
      'secret-signature',
    );
  });

  it('names what to grant when refused, and says a retry may help when unavailable', () => {
    expect(translateAwsError(awsError('AccessDenied', 403), context).hint).toBe(
      'grant s3:PutObject on s3://bucket/prefix/*',
    );
    expect(translateAwsError(awsError('InternalError', 500), context).hint).toBe(
      'S3 is throttling, failing or unreachable; the operation can be retried',
    );
  });

  it('passes an error of this package through, and omits the user when there is none', () => {
    const own = new NotFoundError('nothing');
    expect(translateAwsError(own, context)).toBe(own);
    const listing = translateAwsError(awsError('AccessDenied', 403), {
      ...context,
      operation: 'list',
      userId: undefined,
    });
    expect(listing.message).toBe('S3 denied list on s3://bucket/prefix/');
    expect(listing.userId).toBeUndefined();
  });
});

describe('awsErrorName / awsHttpStatus', () => {
  it('read S3 XML codes, SDK names and the response status; ignore a plain Error name', () => {
    expect(awsErrorName({ Code: 'NoSuchBucket', name: 'S3ServiceException' })).toBe('NoSuchBucket');
    expect(awsErrorName(awsError('NoSuchKey'))).toBe('NoSuchKey');
    expect(awsErrorName(new Error('plain'))).toBeUndefined();
    expect(awsErrorName('text')).toBeUndefined();
    expect(awsHttpStatus(awsError('X', 412))).toBe(412);
    expect(awsHttpStatus(new Error('no response'))).toBeUndefined();
  });
});
