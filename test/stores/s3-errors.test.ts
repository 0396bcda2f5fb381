/**
 * Error paths and exact request parameters of S3CredentialStore. aws-sdk-client-mock stands in for S3
 * where no local server can produce the answer (AccessDenied, 409 ConditionalRequestConflict...);
 * retries and timeouts are exercised against small local HTTP servers so the SDK's own retry
 * strategy runs.
 */

import { createServer, type Server } from 'node:http';
import { inspect } from 'node:util';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchBucket,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { S3_TEST_CREDENTIALS } from '../../dev/s3-endpoint.js';
import {
  AccessDeniedError,
  ConfigurationError,
  ConflictError,
  CorruptCredentialsError,
  type CredentialError,
  SanitisedCause,
  StorageForbiddenError,
  StorageUnavailableError,
} from '../../src/index.js';
import { S3CredentialStore } from '../../src/s3/index.js';
import { sampleCredentials } from '../../src/testing/index.js';

function serviceError(name: string, status: number, message = name): S3ServiceException {
  return new S3ServiceException({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status, requestId: 'REQ123' },
    message,
  });
}

// What the store reads of a GetObject body; a full SDK stream is not needed for these cases.
function body(text: string): GetObjectCommandOutput['Body'] {
  return { transformToString: async () => text } as unknown as GetObjectCommandOutput['Body'];
}

const USER = 'mapped@example.com';

describe('S3CredentialStore requests (aws-sdk-client-mock)', () => {
  const client = new S3Client({ region: 'us-east-1', credentials: S3_TEST_CREDENTIALS });
  const s3 = mockClient(client);
  beforeEach(() => s3.reset());

  it('puts JSON with SSE AES256 by default, and no condition on an unconditional put', async () => {
    s3.on(PutObjectCommand).resolves({ ETag: '"v1"' });
    const store = new S3CredentialStore({ client, location: 's3://bucket/pre/fix' });
    expect(await store.put(USER, sampleCredentials(USER))).toBe('"v1"');
    const input = s3.commandCalls(PutObjectCommand)[0]!.args[0].input;
    expect(input).toMatchObject({
      Bucket: 'bucket',
      Key: 'pre/fix/mapped@example.com.json',
      ContentType: 'application/json',
      ServerSideEncryption: 'AES256',
    });
    expect(input).not.toHaveProperty('IfMatch');
    expect(input).not.toHaveProperty('IfNoneMatch');
    expect(input).not.toHaveProperty('SSEKMSKeyId');
    expect(JSON.parse(String(input.Body))).toMatchObject({ user_email: USER, token: expect.any(String) });
  });

  it('uses aws:kms with the configured key id', async () => {
    s3.on(PutObjectCommand).resolves({ ETag: '"v1"' });
    const store = new S3CredentialStore({
      client,
      location: 's3://bucket/',
      serverSideEncryption: 'aws:kms',
      kmsKeyId: 'arn:aws:kms:us-east-1:111122223333:key/abc',
    });
    await store.put(USER, sampleCredentials(USER));
    expect(s3.commandCalls(PutObjectCommand)[0]!.args[0].input).toMatchObject({
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: 'arn:aws:kms:us-east-1:111122223333:key/abc',
    });
    expect(() => new S3CredentialStore({ client, location: 's3://bucket/', kmsKeyId: 'k' })).toThrow(
      ConfigurationError,
    );
  });

  it('sends If-Match for ifVersion and If-None-Match: * for ifVersion null', async () => {
    s3.on(PutObjectCommand).resolves({ ETag: '"v2"' });
    const store = new S3CredentialStore({ client, location: 's3://bucket/' });
    await store.put(USER, sampleCredentials(USER), { ifVersion: '"v1"' });
    await store.put(USER, sampleCredentials(USER), { ifVersion: null });
    const [first, second] = s3.commandCalls(PutObjectCommand).map((call) => call.args[0].input);
    expect(first).toMatchObject({ IfMatch: '"v1"' });
    expect(first).not.toHaveProperty('IfNoneMatch');
    expect(second).toMatchObject({ IfNoneMatch: '*' });
    expect(second).not.toHaveProperty('IfMatch');
  });

  it('gets with exactly one GetObject and no HEAD before it', async () => {
    s3.on(GetObjectCommand).resolves({
      ETag: '"e1"',
      ContentLength: 40,
      Body: body(JSON.stringify({ token: 'ya29.x', scopes: ['openid'] })),
    });
    const store = new S3CredentialStore({ client, location: 's3://bucket/p/' });
    const read = await store.get(USER);
    expect(read).toMatchObject({
      version: '"e1"',
      credentials: { accessToken: 'ya29.x', scopes: ['openid'] },
    });
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(1);
    expect(s3.commandCalls(HeadObjectCommand)).toHaveLength(0);
    expect(s3.calls()).toHaveLength(1);
  });

  it('resolves undefined for NoSuchKey', async () => {
    s3.on(GetObjectCommand).rejects(
      new NoSuchKey({ $metadata: { httpStatusCode: 404 }, message: 'missing' }),
    );
    const store = new S3CredentialStore({ client, location: 's3://bucket/' });
    expect(await store.get(USER)).toBeUndefined();
  });

  it('deletes with If-Match * (or the version) and reports whether something was removed', async () => {
    const store = new S3CredentialStore({ client, location: 's3://bucket/' });
    s3.on(DeleteObjectCommand).resolves({});
    expect(await store.delete(USER)).toBe(true);
    expect(await store.delete(USER, { ifVersion: '"v9"' })).toBe(true);
    expect(s3.commandCalls(DeleteObjectCommand).map((call) => call.args[0].input.IfMatch)).toEqual([
      '*',
      '"v9"',
    ]);
    s3.on(DeleteObjectCommand).rejects(
      new NoSuchKey({ $metadata: { httpStatusCode: 404 }, message: 'missing' }),
    );
    expect(await store.delete(USER)).toBe(false);
  });

  it.each([
    ['412 PreconditionFailed', serviceError('PreconditionFailed', 412)],
    ['409 ConditionalRequestConflict', serviceError('ConditionalRequestConflict', 409)],
    ['404 NoSuchKey on If-Match', new NoSuchKey({ $metadata: { httpStatusCode: 404 }, message: 'gone' })],
  ])('maps %s on a conditional put to ConflictError, keeping a sanitised cause', async (_label, failure) => {
    s3.on(PutObjectCommand).rejects(failure);
    const store = new S3CredentialStore({ client, location: 's3://bucket/' });
    const error = await store
      .put(USER, sampleCredentials(USER), { ifVersion: '"v1"' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as Error).cause).toMatchObject({
      name: failure.name,
      status: failure.$metadata.httpStatusCode,
    });
  });

  it('never reports a failed unconditional put as a conflict (nothing to re-read and retry)', async () => {
    s3.on(PutObjectCommand).rejects(serviceError('PreconditionFailed', 412));
    const store = new S3CredentialStore({ client, location: 's3://bucket/' });
    const error = await store.put(USER, sampleCredentials(USER)).catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(ConflictError);
    expect(error).toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
  });

  it('refuses an answer without an ETag, so no record is served without a version to compare against', async () => {
    s3.on(GetObjectCommand).resolves({ ContentLength: 2, Body: body(JSON.stringify({})) });
    const store = new S3CredentialStore({ client, location: 's3://bucket/' });
    await expect(store.get(USER)).rejects.toMatchObject({
      code: 'STORAGE_UNAVAILABLE',
      message: expect.stringContaining('ETag'),
    });
    s3.on(PutObjectCommand).resolves({});
    await expect(store.put(USER, sampleCredentials(USER), { ifVersion: null })).rejects.toMatchObject({
      code: 'STORAGE_UNAVAILABLE',
      message: expect.stringContaining('ETag'),
    });
  });

  it('maps a 412 on a conditional delete to ConflictError', async () => {
    s3.on(DeleteObjectCommand).rejects(serviceError('PreconditionFailed', 412));
    const store = new S3CredentialStore({ client, location: 's3://bucket/' });
    await expect(store.delete(USER, { ifVersion: '"old"' })).rejects.toBeInstanceOf(ConflictError);
  });

  it.each([
    ['get', GetObjectCommand, 's3:GetObject'],
    ['put', PutObjectCommand, 's3:PutObject'],
    ['delete', DeleteObjectCommand, 's3:DeleteObject'],
    ['list', ListObjectsV2Command, 's3:ListBucket'],
  ] as const)(
    'maps AccessDenied on %s to StorageForbiddenError naming the IAM action (not an access decision)',
    async (operation, Command, action) => {
      // The store sends one kind of command per operation; reject whichever it is.
      s3.on(Command as typeof GetObjectCommand).rejects(serviceError('AccessDenied', 403, 'Access Denied'));
      const store = new S3CredentialStore({ client, location: 's3://bucket/creds/' });
      const run = {
        get: () => store.get(USER),
        put: () => store.put(USER, sampleCredentials(USER)),
        delete: () => store.delete(USER),
        list: async () => {
          for await (const _ of store.list()) {
            // drain
          }
        },
      }[operation];
      const error = await run().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StorageForbiddenError);
      expect(error).not.toBeInstanceOf(AccessDeniedError);
      expect((error as StorageForbiddenError).hint).toContain(action);
      expect((error as StorageForbiddenError).hint).toContain('s3://bucket/creds/');
      expect((error as Error).cause).toMatchObject({ name: 'AccessDenied', status: 403 });
    },
  );

  it('adds the KMS permissions to the AccessDenied hint when writing with aws:kms', async () => {
    s3.on(PutObjectCommand).rejects(serviceError('AccessDenied', 403));
    const store = new S3CredentialStore({
      client,
      location: 's3://bucket/',
      serverSideEncryption: 'aws:kms',
    });
    const error = (await store
      .put(USER, sampleCredentials(USER))
      .catch((e: unknown) => e)) as StorageForbiddenError;
    expect(error.hint).toContain('kms:GenerateDataKey');
  });

  it.each([
    [
      'NoSuchBucket',
      new NoSuchBucket({ $metadata: { httpStatusCode: 404 }, message: 'no bucket' }),
      ConfigurationError,
    ],
    ['SlowDown (503)', serviceError('SlowDown', 503), StorageUnavailableError],
    ['InternalError (500)', serviceError('InternalError', 500), StorageUnavailableError],
    [
      'TimeoutError',
      Object.assign(new Error('socket timed out'), { name: 'TimeoutError' }),
      StorageUnavailableError,
    ],
    [
      'ECONNRESET',
      Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
      StorageUnavailableError,
    ],
    ['InvalidAccessKeyId', serviceError('InvalidAccessKeyId', 403), ConfigurationError],
    ['ExpiredToken', serviceError('ExpiredToken', 400), ConfigurationError],
  ])(
    'maps %s to a typed error with a sanitised cause (name, code, status, message)',
    async (_label, failure, Expected) => {
      s3.on(GetObjectCommand).rejects(failure);
      const store = new S3CredentialStore({ client, location: 's3://bucket/' });
      const error = await store.get(USER).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Expected);
      expect((error as Error).cause).toBeInstanceOf(SanitisedCause);
      expect((error as Error).cause).toMatchObject({ name: failure.name, message: failure.message });
      expect((error as CredentialError).userId).toBe(USER);
    },
  );

  it('keeps no signed request in the cause, even with inspect({ showHidden: true })', async () => {
    const signed = Object.assign(serviceError('AccessDenied', 403, 'Access Denied'), {
      $response: {
        statusCode: 403,
        headers: {
          authorization:
            'AWS4-HMAC-SHA256 Credential=AKIDLEAKEDKEY123/20261127/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=deadbeefcafebabe0123456789',
          'x-amz-security-token': 'FwoGZXIvYXdzELEAKEDSESSIONTOKEN',
        },
      },
      request: { body: '{"refresh_token":"1//leaked-refresh-token"}' },
    });
    s3.on(PutObjectCommand).rejects(signed);
    const store = new S3CredentialStore({ client, location: 's3://bucket/' });
    const error = await store.put(USER, sampleCredentials(USER)).catch((e: unknown) => e);
    const dump = inspect(error, { showHidden: true, depth: 10 });
    for (const secret of [
      'AKIDLEAKEDKEY123',
      'deadbeefcafebabe',
      'LEAKEDSESSIONTOKEN',
      'leaked-refresh-token',
    ]) {
      expect(dump).not.toContain(secret);
    }
  });

  it('reports a missing region as ConfigurationError with the fix, not as an outage', async () => {
    const saved = { region: process.env.AWS_REGION, fallback: process.env.AWS_DEFAULT_REGION };
    delete process.env.AWS_REGION;
    delete process.env.AWS_DEFAULT_REGION;
    try {
      const store = new S3CredentialStore({ location: 's3://bucket/', credentials: S3_TEST_CREDENTIALS });
      const error = await store.get(USER).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as ConfigurationError).hint).toContain('AWS_REGION');
    } finally {
      if (saved.region !== undefined) process.env.AWS_REGION = saved.region;
      if (saved.fallback !== undefined) process.env.AWS_DEFAULT_REGION = saved.fallback;
    }
  });

  it('reports an unparsable or oversized object as CorruptCredentialsError', async () => {
    const store = new S3CredentialStore({ client, location: 's3://bucket/', maxObjectBytes: 100 });
    s3.on(GetObjectCommand).resolves({ ETag: '"x"', ContentLength: 10, Body: body('{not json') });
    await expect(store.get(USER)).rejects.toBeInstanceOf(CorruptCredentialsError);
    s3.on(GetObjectCommand).resolves({ ETag: '"x"', ContentLength: 5_000_000, Body: body('{}') });
    await expect(store.get(USER)).rejects.toBeInstanceOf(CorruptCredentialsError);
  });

  it('never puts a token, the secret key or a signed URL into a message, toJSON or inspect output', async () => {
    const record = sampleCredentials(USER);
    const failures = [
      serviceError('AccessDenied', 403),
      serviceError('SlowDown', 503),
      serviceError('PreconditionFailed', 412),
      new NoSuchBucket({ $metadata: { httpStatusCode: 404 }, message: 'no bucket' }),
    ];
    for (const failure of failures) {
      s3.reset();
      s3.on(PutObjectCommand).rejects(failure);
      const store = new S3CredentialStore({ client, location: 's3://bucket/' });
      const error = (await store.put(USER, record, { ifVersion: '"v"' }).catch((e: unknown) => e)) as Error;
      for (const text of [error.message, JSON.stringify(error), inspect(error, { depth: 6 })]) {
        for (const secret of [
          record.accessToken,
          record.refreshToken!,
          S3_TEST_CREDENTIALS.secretAccessKey,
          'X-Amz-Signature',
        ]) {
          expect(text).not.toContain(secret);
        }
      }
    }
  });
});

describe('S3CredentialStore retries (the SDK retry strategy, against local HTTP servers)', () => {
  let server: Server | undefined;
  let requests = 0;
  afterEach(async () => {
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
    requests = 0;
  });

  async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
    server = createServer((request, response) => {
      requests += 1;
      handler!(request, response);
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  }

  function storeAt(endpoint: string, extra: { requestTimeoutMs?: number } = {}) {
    return new S3CredentialStore({
      location: 's3://bucket/',
      endpoint,
      forcePathStyle: true,
      region: 'us-east-1',
      credentials: S3_TEST_CREDENTIALS,
      maxAttempts: 3,
      ...extra,
    });
  }

  it('retries throttling (503 SlowDown) maxAttempts times, then StorageUnavailableError', async () => {
    const endpoint = await serve((_request, response) => {
      response.writeHead(503, { 'content-type': 'application/xml' });
      response.end('<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>');
    });
    const error = await storeAt(endpoint)
      .get(USER)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageUnavailableError);
    expect((error as Error).message).toContain('SlowDown');
    expect(requests).toBe(3);
  });

  it('recovers when a 500 is followed by success', async () => {
    const endpoint = await serve((_request, response) => {
      if (requests === 1) {
        response.writeHead(500, { 'content-type': 'application/xml' });
        response.end(
          '<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>',
        );
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json', etag: '"ok"' });
      response.end(JSON.stringify({ token: 'ya29.after-retry', scopes: [] }));
    });
    expect((await storeAt(endpoint).get(USER))?.credentials.accessToken).toBe('ya29.after-retry');
    expect(requests).toBe(2);
  });

  it('times out a server that never answers, retries, then StorageUnavailableError', async () => {
    const endpoint = await serve(() => {
      // never respond
    });
    const startedAt = Date.now();
    const error = await storeAt(endpoint, { requestTimeoutMs: 200 })
      .get(USER)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageUnavailableError);
    expect(requests).toBe(3);
    expect(Date.now() - startedAt).toBeLessThan(10_000);
  });
});
