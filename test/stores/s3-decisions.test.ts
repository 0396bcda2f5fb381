/**
 * The S3 store's remaining decisions, each on its own (aws-sdk-client-mock stands in for S3 where an
 * exact answer is needed): the size bound at its edge and its default, what `get` and `delete` report
 * to `onOperation`, which listed keys are users, archived objects, missing keys against missing
 * buckets, the lost-precondition answers, and the client the store builds for itself.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { S3_TEST_CREDENTIALS } from '../../dev/s3-endpoint.js';
import {
  ConfigurationError,
  ConflictError,
  CorruptCredentialsError,
  StorageUnavailableError,
  type StoreOperationEvent,
  toPythonDocument,
} from '../../src/index.js';
import { S3CredentialStore } from '../../src/s3/index.js';
import { createS3Client } from '../../src/stores/s3.js';
import { sampleCredentials } from '../../src/testing/index.js';
import { type RecordedLine, recordingLogger } from '../support/recording-logger.js';
import { rejectionOf } from '../support/rejection.js';

const USER = 'ada@example.com';
const client = new S3Client({ region: 'us-east-1', credentials: S3_TEST_CREDENTIALS });
const s3 = mockClient(client);
beforeEach(() => s3.reset());

const recordText = JSON.stringify(toPythonDocument(sampleCredentials(USER)));
const body = (text: string) =>
  ({ transformToString: async () => text }) as unknown as GetObjectCommandOutput['Body'];
const serviceError = (name: string, status: number) =>
  new S3ServiceException({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
    message: name,
  });

describe('the size bound', () => {
  it('reads an object of exactly maxObjectBytes and refuses one byte more, naming the bound', async () => {
    const store = new S3CredentialStore({ client, location: 's3://bucket/', maxObjectBytes: 4096 });
    s3.on(GetObjectCommand).resolves({ ETag: '"a"', ContentLength: 4096, Body: body(recordText) });
    expect((await store.get(USER))?.version).toBe('"a"');
    s3.on(GetObjectCommand).resolves({ ETag: '"a"', ContentLength: 4097, Body: body(recordText) });
    const error = await rejectionOf(store.get(USER));
    expect(error).toBeInstanceOf(CorruptCredentialsError);
    expect(error.message).toBe(`stored credentials for ${USER} are larger than 4096 bytes`);
  });

  it('defaults to 1 MiB, and reads an object whose length S3 did not send', async () => {
    const store = new S3CredentialStore({ client, location: 's3://bucket/' });
    s3.on(GetObjectCommand).resolves({ ETag: '"a"', ContentLength: 1024 * 1024, Body: body(recordText) });
    expect(await store.get(USER)).toBeDefined();
    s3.on(GetObjectCommand).resolves({ ETag: '"a"', ContentLength: 1024 * 1024 + 1, Body: body(recordText) });
    await expect(store.get(USER)).rejects.toBeInstanceOf(CorruptCredentialsError);
    s3.on(GetObjectCommand).resolves({ ETag: '"a"', Body: body(recordText) });
    expect(await store.get(USER)).toBeDefined();
  });

  it('refuses an answer without a body', async () => {
    const store = new S3CredentialStore({ client, location: 's3://bucket/' });
    s3.on(GetObjectCommand).resolves({ ETag: '"a"', ContentLength: 10 });
    const error = await rejectionOf(store.get(USER));
    expect(error).toBeInstanceOf(StorageUnavailableError);
    expect(error.message).toBe(`S3 returned no body or ETag for ${USER}`);
  });
});

describe('what get and delete report', () => {
  it("reports a hit as 'ok', a missing key as 'miss', and a delete likewise", async () => {
    const events: StoreOperationEvent[] = [];
    const store = new S3CredentialStore({
      client,
      location: 's3://bucket/',
      onOperation: (e) => events.push(e),
    });
    s3.on(GetObjectCommand).resolves({ ETag: '"a"', ContentLength: 10, Body: body(recordText) });
    await store.get(USER);
    s3.on(GetObjectCommand).rejects(serviceError('NoSuchKey', 404));
    await store.get(USER);
    s3.on(DeleteObjectCommand).resolves({});
    await store.delete(USER);
    s3.on(DeleteObjectCommand).rejects(serviceError('NoSuchKey', 404));
    await store.delete(USER);
    expect(events.map((e) => `${e.operation}:${e.outcome}`)).toEqual([
      'get:ok',
      'get:miss',
      'delete:ok',
      'delete:miss',
    ]);
  });
});

describe('missing keys, missing buckets and lost preconditions', () => {
  const store = () => new S3CredentialStore({ client, location: 's3://bucket/' });

  it('a 404 is a missing key (NotFound, or no name at all), unless it names the bucket', async () => {
    s3.on(GetObjectCommand).rejects(serviceError('NotFound', 404));
    expect(await store().get(USER)).toBeUndefined();
    s3.on(GetObjectCommand).rejects(Object.assign(new Error('gone'), { $metadata: { httpStatusCode: 404 } }));
    expect(await store().get(USER)).toBeUndefined();
    s3.on(GetObjectCommand).rejects(serviceError('NoSuchBucket', 404));
    const error = await rejectionOf(store().get(USER));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toBe('S3 bucket "bucket" does not exist');
  });

  it('an archived object is unavailable, naming the user', async () => {
    s3.on(GetObjectCommand).rejects(serviceError('InvalidObjectState', 403));
    const error = await rejectionOf(store().get(USER));
    expect(error).toBeInstanceOf(StorageUnavailableError);
    expect(error.message).toBe(`credentials object for ${USER} is archived and cannot be read`);
  });

  it.each([
    ['PreconditionFailed', 412],
    ['ConditionalRequestConflict', 409],
    ['SomethingElse', 412],
    ['SomethingElse', 409],
    ['NoSuchKey', 404],
  ])('a conditional put answered %s (%i) is a conflict', async (name, status) => {
    s3.on(PutObjectCommand).rejects(serviceError(name, status));
    const error = await rejectionOf(store().put(USER, sampleCredentials(USER), { ifVersion: '"old"' }));
    expect(error).toBeInstanceOf(ConflictError);
    expect(error.message).toBe(`credentials for ${USER} changed since version was read`);
    const created = await rejectionOf(store().put(USER, sampleCredentials(USER), { ifVersion: null }));
    expect(created.message).toBe(`credentials for ${USER} already exist`);
  });

  it('a conditional put answered 400 or 500 is not a conflict', async () => {
    for (const [name, status] of [
      ['InvalidRequest', 400],
      ['InternalError', 500],
    ] as const) {
      s3.on(PutObjectCommand).rejects(serviceError(name, status));
      const error = await rejectionOf(store().put(USER, sampleCredentials(USER), { ifVersion: '"old"' }));
      expect(error).not.toBeInstanceOf(ConflictError);
    }
  });

  it('a conditional delete whose precondition was lost is a conflict; an outage is not', async () => {
    s3.on(DeleteObjectCommand).rejects(serviceError('PreconditionFailed', 412));
    await expect(store().delete(USER, { ifVersion: '"old"' })).rejects.toBeInstanceOf(ConflictError);
    s3.on(DeleteObjectCommand).rejects(serviceError('SlowDown', 503));
    await expect(store().delete(USER)).rejects.toBeInstanceOf(StorageUnavailableError);
  });
});

describe('listing', () => {
  it('lists only canonical names of users directly under the prefix', async () => {
    s3.on(ListObjectsV2Command).resolves({
      Contents: [
        { Key: 'pre/ada@example.com.json' },
        { Key: 'pre/Bob@Example.com.json' }, // not the canonical spelling: not a key this store writes
        { Key: 'pre/not-a-user.json' },
        { Key: 'pre/carol@example.com.txt' },
        { Key: 'other/dan@example.com.json' },
        { Key: 'pre/eve@example.com.json' },
        {},
      ],
    });
    const store = new S3CredentialStore({ client, location: 's3://bucket/pre/' });
    const listed: string[] = [];
    for await (const userId of store.list()) listed.push(userId);
    expect(listed).toEqual(['ada@example.com', 'eve@example.com']);
    expect(s3.commandCalls(ListObjectsV2Command)[0]!.args[0].input).toMatchObject({
      Bucket: 'bucket',
      Prefix: 'pre/',
      Delimiter: '/',
    });
  });

  it('a failed page is a typed error without a user', async () => {
    s3.on(ListObjectsV2Command).rejects(serviceError('AccessDenied', 403));
    const store = new S3CredentialStore({
      client,
      location: 's3://bucket/pre/',
      serverSideEncryption: 'aws:kms',
    });
    const error = (await rejectionOf(
      (async () => {
        for await (const _ of store.list());
      })(),
    )) as Error & { userId?: string; hint?: string };
    expect(error.message).toBe('S3 denied list on s3://bucket/pre/');
    expect(error.userId).toBeUndefined();
    // Listing needs no KMS permission.
    expect(error.hint).toBe('grant s3:ListBucket on s3://bucket/pre/*');
  });
});

describe('options', () => {
  it('refuses an unknown encryption and a KMS key without aws:kms', () => {
    expect(
      () =>
        new S3CredentialStore({ client, location: 's3://bucket/', serverSideEncryption: 'none' as never }),
    ).toThrow('serverSideEncryption must be "AES256" or "aws:kms"');
    expect(
      () =>
        new S3CredentialStore({
          client,
          location: 's3://bucket/',
          serverSideEncryption: 'AES256',
          kmsKeyId: 'k',
        }),
    ).toThrow('kmsKeyId needs serverSideEncryption "aws:kms"');
  });

  it('builds its own client with standard retries (3 attempts), the request timeout and a capped connection timeout', async () => {
    const built = createS3Client({ location: 's3://b/', region: 'eu-west-1', requestTimeoutMs: 8_000 });
    expect(await built.config.maxAttempts()).toBe(3);
    expect(await built.config.region()).toBe('eu-west-1');
    const handler = built.config.requestHandler as unknown as {
      configProvider: Promise<Record<string, unknown>>;
    };
    expect(await handler.configProvider).toMatchObject({
      requestTimeout: 8_000,
      connectionTimeout: 3_000,
      throwOnRequestTimeout: true,
    });
    const quick = createS3Client({
      location: 's3://b/',
      region: 'eu-west-1',
      requestTimeoutMs: 1_000,
      maxAttempts: 5,
    });
    expect(await quick.config.maxAttempts()).toBe(5);
    expect(
      await (quick.config.requestHandler as unknown as { configProvider: Promise<Record<string, unknown>> })
        .configProvider,
    ).toMatchObject({
      requestTimeout: 1_000,
      connectionTimeout: 1_000,
    });
    const defaults = createS3Client({ location: 's3://b/', region: 'eu-west-1' });
    expect(
      await (
        defaults.config.requestHandler as unknown as { configProvider: Promise<Record<string, unknown>> }
      ).configProvider,
    ).toMatchObject({
      requestTimeout: 5_000,
    });
  });
});

describe('what each error names', () => {
  const store = () => new S3CredentialStore({ client, location: 's3://bucket/' });
  const userOf = async (promise: Promise<unknown>) =>
    ((await rejectionOf(promise)) as Error & { userId?: string }).userId;

  it('names the user on every refusal it builds itself', async () => {
    s3.on(GetObjectCommand).resolves({ ETag: '"a"', ContentLength: 10 });
    expect(await userOf(store().get(USER))).toBe(USER);
    s3.on(GetObjectCommand).resolves({ ETag: '"a"', ContentLength: 2 * 1024 * 1024, Body: body('{}') });
    expect(await userOf(store().get(USER))).toBe(USER);
    s3.on(PutObjectCommand).resolves({});
    expect(await userOf(store().put(USER, sampleCredentials(USER)))).toBe(USER);
    s3.on(DeleteObjectCommand).rejects(serviceError('PreconditionFailed', 412));
    expect(await userOf(store().delete(USER, { ifVersion: '"old"' }))).toBe(USER);
  });

  it('says an unparsable object is not valid JSON', async () => {
    s3.on(GetObjectCommand).resolves({ ETag: '"a"', ContentLength: 5, Body: body('{nope') });
    const error = await rejectionOf(store().get(USER));
    expect(error).toBeInstanceOf(CorruptCredentialsError);
    expect(error.message).toBe(`stored credentials for ${USER} are not valid JSON`);
  });

  it('names the IAM permission each operation needs, with KMS only when writing or reading under aws:kms', async () => {
    const hint = async (operation: () => Promise<unknown>) =>
      ((await rejectionOf(operation())) as Error & { hint?: string }).hint;
    s3.on(GetObjectCommand).rejects(serviceError('AccessDenied', 403));
    s3.on(PutObjectCommand).rejects(serviceError('AccessDenied', 403));
    s3.on(DeleteObjectCommand).rejects(serviceError('AccessDenied', 403));
    expect(await hint(() => store().get(USER))).toBe('grant s3:GetObject on s3://bucket/*');
    expect(await hint(() => store().put(USER, sampleCredentials(USER)))).toBe(
      'grant s3:PutObject on s3://bucket/*',
    );
    expect(await hint(() => store().delete(USER))).toBe(
      'grant s3:DeleteObject (and s3:GetObject, which conditional deletes need) on s3://bucket/*',
    );
    const kms = new S3CredentialStore({ client, location: 's3://bucket/', serverSideEncryption: 'aws:kms' });
    expect(await hint(() => kms.get(USER))).toBe(
      'grant s3:GetObject on s3://bucket/*, and kms:GenerateDataKey / kms:Decrypt on the KMS key',
    );
  });

  it('an archived object met while listing names no user', async () => {
    s3.on(ListObjectsV2Command).rejects(serviceError('InvalidObjectState', 403));
    const error = await rejectionOf(
      (async () => {
        for await (const _ of store().list());
      })(),
    );
    expect(error.message).toBe('credentials object is archived and cannot be read');
  });

  it('reads a lost precondition or a missing key from the error name alone, without a status', async () => {
    const named = (name: string) => Object.assign(new Error(name), { name });
    for (const name of ['PreconditionFailed', 'ConditionalRequestConflict']) {
      s3.on(PutObjectCommand).rejects(named(name));
      await expect(store().put(USER, sampleCredentials(USER), { ifVersion: '"old"' })).rejects.toBeInstanceOf(
        ConflictError,
      );
    }
    for (const name of ['NoSuchKey', 'NotFound']) {
      s3.on(GetObjectCommand).rejects(named(name));
      expect(await store().get(USER)).toBeUndefined();
    }
  });

  it('an unconditional put is never a conflict, whatever S3 answers', async () => {
    for (const [name, status] of [
      ['PreconditionFailed', 412],
      ['NoSuchKey', 404],
      ['ConditionalRequestConflict', 409],
    ] as const) {
      s3.on(PutObjectCommand).rejects(serviceError(name, status));
      for (const options of [undefined, {}]) {
        const error = await rejectionOf(store().put(USER, sampleCredentials(USER), options));
        expect(error).not.toBeInstanceOf(ConflictError);
      }
    }
  });

  it('logs a listener that throws to the logger it was given', async () => {
    const lines: RecordedLine[] = [];
    const logger = recordingLogger(lines);
    const withLogger = new S3CredentialStore({
      client,
      location: 's3://bucket/',
      logger,
      onOperation: () => {
        throw new Error('listener bug');
      },
    });
    s3.on(GetObjectCommand).rejects(serviceError('NoSuchKey', 404));
    await withLogger.get(USER);
    expect(lines.map((line) => line.message)).toEqual(['store operation listener threw; ignored']);
  });

  it('passes forcePathStyle and the endpoint to the client it builds', async () => {
    const built = createS3Client({
      location: 's3://bucket/',
      region: 'eu-west-1',
      endpoint: 'http://127.0.0.1:9000',
      forcePathStyle: true,
    });
    expect(built.config.forcePathStyle).toBe(true);
    expect((await built.config.endpoint!()).hostname).toBe('127.0.0.1');
    expect(createS3Client({ location: 's3://bucket/', region: 'eu-west-1' }).config.forcePathStyle).toBe(
      false,
    );
  });
});
