/**
 * DynamoCredentialStore against DynamoDB emulators on 127.0.0.1: dynalite (always) and moto (where
 * installed): the contract, compare-and-swap races, prefixes, TTL and the `dynamodb://` spec.
 */
import {
  DescribeTimeToLiveCommand,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoCredentialStore, parseDynamoLocation } from '../../src/dynamodb/index.js';
import {
  ConfigurationError,
  ConflictError,
  createCredentialStore,
  InvalidInputError,
  StorageUnavailableError,
} from '../../src/index.js';
import { describeCredentialStoreContract, sampleCredentials } from '../../src/testing/index.js';
import { FakeClock } from '../support/clock.js';
import {
  DYNAMO_TEST_CREDENTIALS,
  dynamoEngines,
  freshDynamoStore,
  testDynamoClient,
} from '../support/dynamo-test-store.js';

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const item of iterable) out.push(item);
  return out.sort();
}

const unavailable = () =>
  new DynamoCredentialStore({
    table: 'down-table',
    endpoint: 'http://127.0.0.1:9',
    region: 'us-east-1',
    credentials: DYNAMO_TEST_CREDENTIALS,
    maxAttempts: 1,
    requestTimeoutMs: 1_000,
  });

for (const engine of dynamoEngines()) {
  const label = `${engine.name}${engine.endpoint ? '' : ` (skipped: ${engine.skipReason})`}`;

  if (engine.endpoint) {
    describeCredentialStoreContract(`DynamoCredentialStore on ${engine.name}`, {
      createStore: async () => (await freshDynamoStore(engine.endpoint)).store,
      corruptRecord: async (store, userId) => {
        const dynamo = store as DynamoCredentialStore;
        await testDynamoClient(engine.endpoint).send(
          new PutItemCommand({
            TableName: dynamo.table,
            Item: {
              user_id: { S: dynamo.keyFor(userId) },
              version: { S: 'v' },
              record: { S: '{"token": 42' },
            },
          }),
        );
      },
      createUnavailableStore: unavailable,
    });
  }

  describe.skipIf(!engine.endpoint)(`DynamoCredentialStore on ${label}`, () => {
    it('writes one item per user: the record as JSON, a version, updated_at; no token anywhere else', async () => {
      const clock = new FakeClock(1_800_000_000_000);
      const { store, client, table } = await freshDynamoStore(engine.endpoint, { clock });
      const record = sampleCredentials('alice@example.com');
      const version = await store.put(record.userId, record);
      const { Item } = await client.send(
        new GetItemCommand({ TableName: table, Key: { user_id: { S: 'alice@example.com' } } }),
      );
      expect(Object.keys(Item!).sort()).toEqual(['record', 'updated_at', 'user_id', 'version']);
      expect(Item!.version).toEqual({ S: version });
      expect(Item!.updated_at).toEqual({ N: '1800000000' });
      expect(JSON.parse(Item!.record!.S!)).toEqual(record);
    });

    it('lets exactly one of 20 compare-and-swap writers on separate clients win', async () => {
      const { store, table } = await freshDynamoStore(engine.endpoint);
      const userId = 'race@example.com';
      const base = await store.put(userId, sampleCredentials(userId));
      const replicas = Array.from(
        { length: 4 },
        () => new DynamoCredentialStore({ client: testDynamoClient(engine.endpoint), table }),
      );
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) =>
          replicas[i % 4]!.put(userId, sampleCredentials(userId), { ifVersion: base }),
        ),
      );
      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
      for (const result of results) {
        if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(ConflictError);
      }
    });

    it('keeps deployments apart by prefix on one table; list pages through a scan', async () => {
      const { store, client, table } = await freshDynamoStore(engine.endpoint, { prefix: 'team-a/' });
      const other = new DynamoCredentialStore({ client, table, prefix: 'team-b' });
      const bare = new DynamoCredentialStore({ client, table });
      const users = Array.from({ length: 30 }, (_, i) => `user${String(i).padStart(2, '0')}@example.com`);
      for (const user of users) await store.put(user, sampleCredentials(user));
      await other.put('bob@example.com', sampleCredentials('bob@example.com'));
      await bare.put('carol@example.com', sampleCredentials('carol@example.com'));
      // Something else in the table that is no user id of any store.
      await client.send(
        new PutItemCommand({
          TableName: table,
          Item: { user_id: { S: 'team-a/not an email' }, version: { S: 'v' } },
        }),
      );
      expect(await collect(store.list())).toEqual(users);
      expect(await collect(other.list())).toEqual(['bob@example.com']);
      expect(await collect(bare.list())).toEqual(['carol@example.com']);
      expect(await store.get('bob@example.com')).toBeUndefined();
      expect(other.keyFor('Bob@Example.com')).toBe('team-b/bob@example.com');
      const scanned = await client.send(new ScanCommand({ TableName: table, Select: 'COUNT' }));
      expect(scanned.Count).toBe(33);
    });

    it('with ttl: stamps the expiry attribute, and an item past it reads and lists as absent', async () => {
      const clock = new FakeClock(1_800_000_000_000);
      const ttl = { attribute: 'expires_at', afterSeconds: 86_400 };
      // The table without DynamoDB TTL turned on (dynalite has no UpdateTimeToLive): reads must not
      // depend on DynamoDB having deleted the item.
      const { client, table } = await freshDynamoStore(engine.endpoint);
      const store = new DynamoCredentialStore({ client, table, clock, ttl });
      const record = sampleCredentials('ttl@example.com');
      await store.put(record.userId, record);
      const { Item } = await client.send(
        new GetItemCommand({ TableName: table, Key: { user_id: { S: 'ttl@example.com' } } }),
      );
      expect(Item!.expires_at).toEqual({ N: String(1_800_000_000 + 86_400) });
      clock.advance(86_399_000);
      expect((await store.get(record.userId))?.credentials).toEqual(record);
      clock.advance(1_000);
      expect(await store.get(record.userId)).toBeUndefined();
      expect(await collect(store.list())).toEqual([]);
      expect(await store.delete(record.userId)).toBe(false);
      // Absent for "only if absent" too, although DynamoDB has not deleted it yet.
      await store.put(record.userId, record, { ifVersion: null });
      expect((await store.get(record.userId))?.credentials).toEqual(record);
    });

    it.skipIf(engine.name !== 'moto')(
      'ensureTable turns on DynamoDB TTL for the attribute (moto implements TTL; dynalite does not)',
      async () => {
        const { client, table } = await freshDynamoStore(engine.endpoint, {
          ttl: { attribute: 'expires_at', afterSeconds: 3_600 },
        });
        const described = await client.send(new DescribeTimeToLiveCommand({ TableName: table }));
        expect(described.TimeToLiveDescription).toMatchObject({
          AttributeName: 'expires_at',
          TimeToLiveStatus: expect.stringMatching(/ENABL/),
        });
        // Idempotent.
        await new DynamoCredentialStore({
          client,
          table,
          ttl: { attribute: 'expires_at', afterSeconds: 3_600 },
        }).ensureTable();
      },
    );

    it('is what createCredentialStore builds for dynamodb://table/prefix/, the table created on request', async () => {
      const table = `spec-${Date.now().toString(36)}`;
      const store = (await createCredentialStore(`dynamodb://${table}/tenant/`, {
        dynamodb: { endpoint: engine.endpoint, region: 'us-east-1', credentials: DYNAMO_TEST_CREDENTIALS },
        createTables: true,
      })) as DynamoCredentialStore;
      expect(store).toBeInstanceOf(DynamoCredentialStore);
      expect(store.prefix).toBe('tenant/');
      await store.put('spec@example.com', sampleCredentials('spec@example.com'));
      expect(await collect(store.list())).toEqual(['spec@example.com']);
      await store.close();
    });

    it('reports a missing table as ConfigurationError naming ensureTable', async () => {
      const store = new DynamoCredentialStore({
        client: testDynamoClient(engine.endpoint),
        table: 'no-such-table',
      });
      const error = await store.get('a@example.com').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as ConfigurationError).hint).toContain('ensureTable');
    });
  });
}

describe('DynamoCredentialStore configuration', () => {
  it('parses dynamodb:// locations and refuses malformed ones', () => {
    expect(parseDynamoLocation('dynamodb://creds')).toEqual({ table: 'creds', prefix: '' });
    expect(parseDynamoLocation('dynamodb://creds/a/b')).toEqual({ table: 'creds', prefix: 'a/b/' });
    for (const bad of [
      'dynamodb://',
      'dynamodb://ab',
      'dynamodb://t@ble',
      'dynamodb://creds/a b/',
      'dynamodb://creds//',
    ]) {
      expect(() => parseDynamoLocation(bad), bad).toThrow(InvalidInputError);
    }
  });

  it('refuses bad tables, prefixes and ttl settings at construction', () => {
    const client = testDynamoClient('http://127.0.0.1:9');
    expect(() => new DynamoCredentialStore({ client, table: 'x' })).toThrow(ConfigurationError);
    expect(() => new DynamoCredentialStore({ client, table: 'creds', prefix: 'a%b' })).toThrow(
      ConfigurationError,
    );
    expect(
      () =>
        new DynamoCredentialStore({
          client,
          table: 'creds',
          ttl: { attribute: 'version', afterSeconds: 3600 },
        }),
    ).toThrow(ConfigurationError);
    expect(
      () =>
        new DynamoCredentialStore({
          client,
          table: 'creds',
          ttl: { attribute: 'expires_at', afterSeconds: 1 },
        }),
    ).toThrow(ConfigurationError);
  });

  it('rejects with StorageUnavailableError (never a crash) when nothing listens', async () => {
    const store = unavailable();
    await expect(store.get('a@example.com')).rejects.toBeInstanceOf(StorageUnavailableError);
    await expect(collect(store.list())).rejects.toBeInstanceOf(StorageUnavailableError);
  });
});
