import { randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, inject, it } from 'vitest';
import { S3_TEST_CREDENTIALS, testS3Client } from '../../dev/s3-endpoint.js';
import {
  ConfigurationError,
  ConflictError,
  CorruptCredentialsError,
  createCredentialStore,
  FileCredentialStore,
  StorageUnavailableError,
  type StoreOperationEvent,
} from '../../src/index.js';
import { S3CredentialStore } from '../../src/s3/index.js';
import { describeCredentialStoreContract, sampleCredentials } from '../../src/testing/index.js';
import { ensureBucket, freshS3Store, s3Endpoint } from '../support/s3-test-store.js';
import { makeTempDir } from '../support/temp-dir.js';

describeCredentialStoreContract('S3CredentialStore (fauxqs endpoint)', {
  createStore: async () => (await freshS3Store()).store,
  corruptRecord: async (store, userId) => {
    const s3 = store as S3CredentialStore;
    await testS3Client(s3Endpoint()).send(
      new PutObjectCommand({
        Bucket: s3.bucket,
        Key: s3.keyFor(userId),
        Body: '{"token": 42, "scopes": "no"',
      }),
    );
  },
  createUnavailableStore: () =>
    new S3CredentialStore({
      location: 's3://credentials-test/down/',
      endpoint: 'http://127.0.0.1:9',
      forcePathStyle: true,
      region: 'us-east-1',
      credentials: S3_TEST_CREDENTIALS,
      maxAttempts: 1,
      requestTimeoutMs: 1_000,
    }),
});

// moto's S3 is a second, independent implementation of conditional writes (If-Match,
// If-None-Match), where installed. Not the whole contract: moto compares `If-Match: *` on
// DeleteObject literally (AWS S3 treats it as "any version"), so its unconditional deletes fail.
const motoEndpoint = inject('motoEndpoint');
describe.skipIf(!motoEndpoint)(
  `S3CredentialStore conditional writes on moto's server${motoEndpoint ? '' : ` (skipped: ${inject('motoSkipReason')})`}`,
  () => {
    async function motoStore(): Promise<S3CredentialStore> {
      const client = testS3Client(motoEndpoint);
      const bucket = await ensureBucket(client, 'credentials-moto');
      return new S3CredentialStore({ client, bucket, prefix: `run-${randomBytes(6).toString('hex')}/` });
    }

    it('lets exactly one of 20 same-version writers win, and one of 20 "only if absent" writers', async () => {
      const store = await motoStore();
      const userId = 'race@example.com';
      const created = await Promise.allSettled(
        Array.from({ length: 20 }, () => store.put(userId, sampleCredentials(userId), { ifVersion: null })),
      );
      expect(created.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
      const base = (await store.get(userId))!.version;
      const swapped = await Promise.allSettled(
        Array.from({ length: 20 }, () => store.put(userId, sampleCredentials(userId), { ifVersion: base })),
      );
      expect(swapped.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
      for (const result of [...created, ...swapped]) {
        if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(ConflictError);
      }
    });

    it('refuses a stale version on put and delete, and deletes at the current one', async () => {
      const store = await motoStore();
      const userId = 'cas@example.com';
      const first = await store.put(userId, sampleCredentials(userId));
      const second = await store.put(userId, sampleCredentials(userId), { ifVersion: first });
      await expect(store.put(userId, sampleCredentials(userId), { ifVersion: first })).rejects.toBeInstanceOf(
        ConflictError,
      );
      await expect(store.delete(userId, { ifVersion: first })).rejects.toBeInstanceOf(ConflictError);
      expect(await store.delete(userId, { ifVersion: second })).toBe(true);
      expect(await store.get(userId)).toBeUndefined();
    });
  },
);

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const item of iterable) out.push(item);
  return out.sort();
}

describe('S3CredentialStore against the S3 endpoint', () => {
  it('lets exactly one of 20 concurrent compare-and-swap puts on one key win; the rest get ConflictError', async () => {
    const { store } = await freshS3Store();
    const userId = 'race@example.com';
    const base = await store.put(userId, sampleCredentials(userId));
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () => store.put(userId, sampleCredentials(userId), { ifVersion: base })),
    );
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    for (const result of results) {
      if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(ConflictError);
    }
  });

  it('writes the file store format under the file store name, so objects and files can be copied both ways', async () => {
    const { store, client, bucket, prefix } = await freshS3Store();
    const fixtures = fileURLToPath(new URL('../fixtures/google_workspace_mcp/', import.meta.url));
    for (const name of (await readdir(fixtures)).filter((file) => file.endsWith('.json'))) {
      await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: `${prefix}${name}`,
          Body: await readFile(join(fixtures, name)),
        }),
      );
    }
    expect(await collect(store.list())).toEqual([
      'alice@example.com',
      'bob+work@example.com',
      'carol@example.com',
      'dave@example.com',
      'erin@example.com',
    ]);
    const files = new FileCredentialStore({ directory: fixtures });
    for await (const userId of store.list()) {
      expect((await store.get(userId))?.credentials, userId).toEqual((await files.get(userId))?.credentials);
    }

    const record = sampleCredentials('copy+me@example.com');
    await store.put(record.userId, record);
    expect(store.keyFor(record.userId)).toBe(`${prefix}copy%2Bme@example.com.json`);
    const object = await client.send(
      new GetObjectCommand({ Bucket: bucket, Key: store.keyFor(record.userId) }),
    );
    expect(object.ContentType).toBe('application/json');
    const dir = await makeTempDir();
    try {
      await writeFile(join(dir.path, 'copy%2Bme@example.com.json'), await object.Body!.transformToString());
      expect(
        (await new FileCredentialStore({ directory: dir.path }).get(record.userId))?.credentials,
      ).toEqual(record);
    } finally {
      await dir.dispose();
    }
  });

  it('pages through more than 1,000 objects and lists direct children only', async () => {
    const { store, client, bucket, prefix } = await freshS3Store();
    const body = JSON.stringify({ token: 't', scopes: [] });
    const users = Array.from({ length: 1_005 }, (_, i) => `user${String(i).padStart(4, '0')}@example.com`);
    for (let i = 0; i < users.length; i += 100) {
      await Promise.all(
        users
          .slice(i, i + 100)
          .map((user) =>
            client.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}${user}.json`, Body: body })),
          ),
      );
    }
    for (const key of [
      'nested/deep@example.com.json',
      'notes.txt',
      'no-at-sign.json',
      'UPPER@example.com.json',
    ]) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}${key}`, Body: body }));
    }
    expect(await collect(store.list())).toEqual(users);
  });

  it('reports a corrupt object as CorruptCredentialsError naming the user and keeps others readable', async () => {
    const { store, client, bucket, prefix } = await freshS3Store();
    await store.put('good@example.com', sampleCredentials('good@example.com'));
    await client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: `${prefix}bad@example.com.json`,
        Body: '{"token": "ya29.SECRET',
      }),
    );
    const error = await store.get('bad@example.com').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CorruptCredentialsError);
    expect((error as Error).message).toContain('bad@example.com');
    expect((error as Error).message).not.toContain('SECRET');
    expect((await store.get('good@example.com'))?.credentials.userId).toBe('good@example.com');
  });

  it('maps a missing bucket to ConfigurationError with a hint', async () => {
    const store = new S3CredentialStore({
      client: testS3Client(s3Endpoint()),
      location: 's3://no-such-bucket-here/p/',
    });
    const error = await store.get('x@example.com').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).hint).toMatch(/create the bucket/);
    expect((error as Error).cause).toBeDefined();
  });

  it('reports an unreachable endpoint as StorageUnavailableError after the SDK retries, without secrets', async () => {
    const server: Server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      const events: StoreOperationEvent[] = [];
      const store = new S3CredentialStore({
        location: 's3://credentials-test/x/',
        endpoint: `http://127.0.0.1:${port}`,
        forcePathStyle: true,
        region: 'us-east-1',
        credentials: S3_TEST_CREDENTIALS,
        maxAttempts: 2,
        requestTimeoutMs: 500,
        onOperation: (event) => events.push(event),
      });
      const error = await store
        .put('down@example.com', sampleCredentials('down@example.com'))
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StorageUnavailableError);
      expect(JSON.stringify(error)).not.toContain(S3_TEST_CREDENTIALS.secretAccessKey);
      expect((error as Error).message).not.toContain('ya29');
      expect(events).toMatchObject([
        { store: 's3', operation: 'put', outcome: 'error', errorCode: 'STORAGE_UNAVAILABLE' },
      ]);
    } finally {
      server.close();
    }
  });

  it('is built by createCredentialStore from an s3:// spec or the env variables', async () => {
    const options = {
      s3: {
        endpoint: s3Endpoint(),
        forcePathStyle: true,
        region: 'us-east-1',
        credentials: S3_TEST_CREDENTIALS,
      },
    };
    const store = await createCredentialStore('s3://credentials-test/from-spec/', options);
    expect(store).toBeInstanceOf(S3CredentialStore);
    expect((store as S3CredentialStore).prefix).toBe('from-spec/');
    const record = sampleCredentials('spec@example.com');
    await store.put(record.userId, record);
    expect((await store.get(record.userId))?.credentials).toEqual(record);
    const fromEnv = await createCredentialStore(undefined, {
      ...options,
      env: { WORKSPACE_MCP_CREDENTIALS_DIR: 's3://credentials-test/from-spec' },
    });
    expect((await fromEnv.get(record.userId))?.credentials).toEqual(record);
  });
});
