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

describe('translateAwsError, each rule on its own', () => {
  it('refuses every credentials error AWS names, and only those', () => {
    for (const name of [
      'InvalidAccessKeyId',
      'SignatureDoesNotMatch',
      'ExpiredToken',
      'UnrecognizedClientException',
      'InvalidSignatureException',
      'ExpiredTokenException',
    ]) {
      const translated = translateAwsError(awsError(name, 403), context);
      expect(translated).toBeInstanceOf(ConfigurationError);
      expect(translated.message).toBe(`S3 refused the AWS credentials (${name})`);
      expect(translated.hint).toBe('check the credentials the AWS SDK default provider chain resolves');
    }
    expect(translateAwsError(awsError('InvalidToken', 400), context)).toBeInstanceOf(StorageUnavailableError);
  });

  it('reads a missing-credentials message only when it is about credentials and about loading them', () => {
    for (const message of [
      'Unable to load credentials',
      'could not load credentials from any providers',
      'Credential is missing',
    ]) {
      const translated = translateAwsError(new Error(message), context);
      expect(translated).toBeInstanceOf(ConfigurationError);
      expect(translated.message).toBe('the S3 store is misconfigured: no AWS credentials were found');
      expect(translated.hint).toBe(
        'configure credentials for the AWS SDK default provider chain (environment, profile, or role)',
      );
    }
    for (const message of ['Credential scope is wrong', 'Unable to load the page', 'missing piece']) {
      expect(translateAwsError(new Error(message), context)).toBeInstanceOf(StorageUnavailableError);
    }
  });

  it('says how to set the region, and reads an invalid endpoint only from a TypeError', () => {
    const region = translateAwsError(new Error('Region is missing'), context);
    expect(region.message).toBe('the S3 store is misconfigured: no AWS region');
    expect(region.hint).toBe('set AWS_REGION (or AWS_DEFAULT_REGION), or pass region to the store');
    const endpoint = translateAwsError(new TypeError('Invalid URL'), context);
    expect(endpoint.message).toBe('the S3 store is misconfigured: the endpoint is not a valid URL');
    expect(endpoint.hint).toBe('pass endpoint as an absolute URL, e.g. https://s3.eu-west-1.amazonaws.com');
    expect(translateAwsError(new Error('Invalid URL'), context)).toBeInstanceOf(StorageUnavailableError);
  });

  it('treats AllAccessDisabled as a refusal, and a 400 with another name as an outage', () => {
    expect(translateAwsError(awsError('AllAccessDisabled', 400), context)).toBeInstanceOf(
      StorageForbiddenError,
    );
    expect(translateAwsError(awsError('BadDigest', 400), context)).toBeInstanceOf(StorageUnavailableError);
  });

  it('keeps the cause and the user on what it builds, and names the error in the outage message', () => {
    const original = awsError('SlowDown', 503);
    const translated = translateAwsError(original, context);
    expect(translated.message).toBe('S3 put for ada@example.com failed after retries (SlowDown)');
    expect(translated.cause).toBeDefined();
    expect((translated.cause as { name?: string }).name).toBe('SlowDown');
    const withoutUser = translateAwsError(awsError('SlowDown', 503), { ...context, userId: undefined });
    expect(withoutUser.message).toBe('S3 put failed after retries (SlowDown)');
    expect(withoutUser.userId).toBeUndefined();
    expect(translateAwsError('a string', context).message).toBe(
      'S3 put for ada@example.com failed after retries (network error)',
    );
  });
});

describe('awsErrorName / awsHttpStatus, odd shapes', () => {
  it('prefers the XML Code to the name, and ignores non-string names and non-numeric statuses', () => {
    expect(awsErrorName({ Code: 'SlowDown', name: 'Other' })).toBe('SlowDown');
    expect(awsErrorName({ name: 42 })).toBeUndefined();
    expect(awsErrorName(null)).toBeUndefined();
    expect(awsErrorName({ name: 'Error' })).toBeUndefined();
    expect(awsHttpStatus({ $metadata: { httpStatusCode: '500' } })).toBeUndefined();
    expect(awsHttpStatus(undefined)).toBeUndefined();
    expect(awsHttpStatus({ $metadata: {} })).toBeUndefined();
  });
});

describe('names and statuses on their own', () => {
  it('a refusal named AccessDenied or AccessDeniedException is one without a status too', () => {
    for (const name of ['AccessDenied', 'AccessDeniedException', 'AllAccessDisabled']) {
      expect(translateAwsError(awsError(name), context)).toBeInstanceOf(StorageForbiddenError);
    }
  });

  it('reads no name from undefined', () => {
    expect(awsErrorName(undefined)).toBeUndefined();
  });
});
