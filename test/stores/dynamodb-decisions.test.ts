/**
 * Each decision of the DynamoDB store by its own test: expiry (`ttl`) in reads, listings and
 * only-if-absent writes against dynalite; the consistency, filters and conditions of each request,
 * an item this store cannot trust, table creation and its waits, what errors and events name, and
 * the client it builds, with aws-sdk-client-mock where no emulator can produce the answer.
 */
import {
  CreateTableCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  DynamoDBClient,
  DynamoDBServiceException,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createDynamoClient, DynamoCredentialStore } from '../../src/dynamodb/index.js';
import {
  ConfigurationError,
  ConflictError,
  CorruptCredentialsError,
  StorageForbiddenError,
  StorageUnavailableError,
  type StoreOperationEvent,
} from '../../src/index.js';
import { sampleCredentials } from '../../src/testing/index.js';
import { FakeClock } from '../support/clock.js';
import { DYNAMO_TEST_CREDENTIALS, dynamoEngines, freshDynamoStore } from '../support/dynamo-test-store.js';
import { rejectionOf } from '../support/rejection.js';

const USER = 'decided@example.com';
const NOW = 1_800_000_000_000;

function serviceError(name: string, status: number, message = name): DynamoDBServiceException {
  return new DynamoDBServiceException({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
    message,
  });
}

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

const dynalite = dynamoEngines()[0]!;

describe('expiry (ttl) against dynalite', () => {
  const ttl = { attribute: 'expires_at', afterSeconds: 60 };

  it('an item past its expiry is absent to "only if absent" without being deleted first; a live one conflicts', async () => {
    const clock = new FakeClock(NOW);
    const { client, table } = await freshDynamoStore(dynalite.endpoint);
    const store = new DynamoCredentialStore({ client, table, clock, ttl });
    await store.put(USER, sampleCredentials(USER));
    clock.advance(59_000);
    const live = await rejectionOf(store.put(USER, sampleCredentials(USER), { ifVersion: null }));
    expect(live).toBeInstanceOf(ConflictError);
    expect((live as ConflictError).userId).toBe(USER);
    clock.advance(1_000); // exactly at the expiry second
    const version = await store.put(USER, sampleCredentials(USER), { ifVersion: null });
    expect((await store.get(USER))?.version).toBe(version);
  });

  it('lists a live item in whole seconds, and reads an item written before ttl was configured as live', async () => {
    const clock = new FakeClock(NOW);
    const { client, table } = await freshDynamoStore(dynalite.endpoint);
    const plain = new DynamoCredentialStore({ client, table, clock });
    await plain.put('before@example.com', sampleCredentials('before@example.com'));
    const store = new DynamoCredentialStore({ client, table, clock, ttl });
    await store.put(USER, sampleCredentials(USER));
    clock.advance(59_999);
    expect((await collect(store.list())).sort()).toEqual(['before@example.com', USER]);
    expect((await store.get('before@example.com'))?.credentials.userId).toBe('before@example.com');
    expect(await store.delete('before@example.com')).toBe(true);
  });
});

describe('requests and answers (aws-sdk-client-mock)', () => {
  const client = new DynamoDBClient({ region: 'us-east-1', credentials: DYNAMO_TEST_CREDENTIALS });
  const dynamo = mockClient(client);
  beforeEach(() => dynamo.reset());
  const record = JSON.stringify(sampleCredentials(USER));

  it('an item with a record but no version is corrupt: a versionless read would make the next write unconditional', async () => {
    dynamo.on(GetItemCommand).resolves({ Item: { user_id: { S: USER }, record: { S: record } } });
    const store = new DynamoCredentialStore({ client, table: 'creds' });
    const error = await rejectionOf(store.get(USER));
    expect(error).toBeInstanceOf(CorruptCredentialsError);
    expect((error as CorruptCredentialsError).userId).toBe(USER);
  });

  it('says which condition failed for a put, reads unparsable JSON as corrupt, and lists a page without items as none', async () => {
    const store = new DynamoCredentialStore({ client, table: 'creds' });
    dynamo.on(PutItemCommand).rejects(serviceError('ConditionalCheckFailedException', 400));
    const exists = await rejectionOf(store.put(USER, sampleCredentials(USER), { ifVersion: null }));
    expect((exists as Error).message).toBe(`credentials for ${USER} already exist`);
    const stale = await rejectionOf(store.put(USER, sampleCredentials(USER), { ifVersion: 'v1' }));
    expect((stale as Error).message).toBe(`credentials for ${USER} changed since version was read`);
    dynamo
      .on(GetItemCommand)
      .resolves({ Item: { user_id: { S: USER }, version: { S: 'v' }, record: { S: '{' } } });
    expect((await rejectionOf(store.get(USER))).message).toBe(
      `stored credentials for ${USER} are not valid JSON`,
    );
    dynamo.on(ScanCommand).resolves({});
    expect(await collect(store.list())).toEqual([]);
  });

  it('lists with a consistent scan, filtered by the prefix on the server, and skips what is not its own', async () => {
    dynamo.on(ScanCommand).resolves({
      Items: [
        { user_id: { S: `p/${USER}` } },
        { version: { S: 'v' } }, // no key at all
        { user_id: { S: 'q/other@example.com' } }, // another prefix, had the filter not held
        { user_id: { S: 'p/expired@example.com' }, expires_at: { N: String(NOW / 1000) } },
        { user_id: { S: 'p/live@example.com' }, expires_at: { N: String(NOW / 1000 + 1) } },
      ],
    });
    const store = new DynamoCredentialStore({
      client,
      table: 'creds',
      prefix: 'p/',
      clock: new FakeClock(NOW),
      ttl: { attribute: 'expires_at', afterSeconds: 60 },
    });
    expect(await collect(store.list())).toEqual([USER, 'live@example.com']);
    const scan = dynamo.commandCalls(ScanCommand)[0]!.args[0].input;
    expect(scan).toMatchObject({
      ConsistentRead: true,
      FilterExpression: 'begins_with(#key, :prefix)',
      ExpressionAttributeValues: { ':prefix': { S: 'p/' } },
    });
    const bare = new DynamoCredentialStore({ client, table: 'creds' });
    dynamo.reset();
    dynamo.on(ScanCommand).resolves({ Items: [] });
    await collect(bare.list());
    expect(dynamo.commandCalls(ScanCommand)[0]!.args[0].input.FilterExpression).toBeUndefined();
  });

  it('a failed conditional delete re-reads consistently, and its conflict names the user', async () => {
    dynamo
      .on(DeleteItemCommand)
      .rejects(serviceError('ConditionalCheckFailedException', 400, 'The conditional request failed'));
    dynamo
      .on(GetItemCommand)
      .resolves({ Item: { user_id: { S: USER }, version: { S: 'v2' }, record: { S: record } } });
    const store = new DynamoCredentialStore({ client, table: 'creds' });
    const error = await rejectionOf(store.delete(USER, { ifVersion: 'v1' }));
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).userId).toBe(USER);
    expect(dynamo.commandCalls(GetItemCommand)[0]!.args[0].input.ConsistentRead).toBe(true);
  });

  it('reports each outcome to onOperation: a miss is a miss, a hit ok; a listener that throws is logged, never raised', async () => {
    const events: StoreOperationEvent[] = [];
    const store = new DynamoCredentialStore({
      client,
      table: 'creds',
      onOperation: (event) => events.push(event),
    });
    dynamo
      .on(GetItemCommand)
      .resolvesOnce({})
      .resolves({
        Item: { user_id: { S: USER }, version: { S: 'v' }, record: { S: record } },
      });
    dynamo
      .on(DeleteItemCommand)
      .resolvesOnce({})
      .resolves({ Attributes: { user_id: { S: USER } } });
    await store.get(USER);
    await store.get(USER);
    await store.delete(USER);
    await store.delete(USER);
    expect(events.map((event) => `${event.operation} ${event.outcome}`)).toEqual([
      'get miss',
      'get ok',
      'delete miss',
      'delete ok',
    ]);
    const throwing = new DynamoCredentialStore({
      client,
      table: 'creds',
      onOperation: () => {
        throw new Error('listener bug');
      },
    });
    expect((await throwing.get(USER))?.version).toBe('v');
  });
});

describe('ensureTable (aws-sdk-client-mock)', () => {
  const client = new DynamoDBClient({ region: 'us-east-1', credentials: DYNAMO_TEST_CREDENTIALS });
  const dynamo = mockClient(client);
  beforeEach(() => dynamo.reset());

  it('creates a missing table; another replica creating it first is success; it waits until ACTIVE', async () => {
    dynamo
      .on(DescribeTableCommand)
      .rejectsOnce(serviceError('ResourceNotFoundException', 400))
      .resolvesOnce({}) // no table description yet: still creating
      .resolves({ Table: { TableStatus: 'ACTIVE' } });
    dynamo.on(CreateTableCommand).rejects(serviceError('ResourceInUseException', 400));
    await new DynamoCredentialStore({ client, table: 'creds' }).ensureTable();
    expect(dynamo.commandCalls(CreateTableCommand)).toHaveLength(1);
    expect(dynamo.commandCalls(DescribeTableCommand)).toHaveLength(3);
  });

  it('reports any other creation failure, and a table that never becomes active within timeoutMs', async () => {
    dynamo.on(DescribeTableCommand).rejects(serviceError('ResourceNotFoundException', 400));
    dynamo.on(CreateTableCommand).rejects(serviceError('LimitExceededException', 400));
    expect(
      await rejectionOf(new DynamoCredentialStore({ client, table: 'creds' }).ensureTable()),
    ).toBeInstanceOf(Error);
    dynamo.reset();
    dynamo.on(DescribeTableCommand).resolves({ Table: { TableStatus: 'CREATING' } });
    const error = await rejectionOf(
      new DynamoCredentialStore({ client, table: 'creds' }).ensureTable({ timeoutMs: 0 }),
    );
    expect(error).toBeInstanceOf(StorageUnavailableError);
    expect((error as Error).message).toContain('did not become active in time');
  });

  it('an existing active table needs nothing but DescribeTable (no CreateTable permission)', async () => {
    dynamo.on(DescribeTableCommand).resolves({ Table: { TableStatus: 'ACTIVE' } });
    await new DynamoCredentialStore({ client, table: 'creds' }).ensureTable();
    expect(dynamo.commandCalls(CreateTableCommand)).toHaveLength(0);
  });

  it('reports a refused DescribeTable as it is, never as a table to create', async () => {
    dynamo.on(DescribeTableCommand).rejects(serviceError('AccessDeniedException', 400));
    const error = await rejectionOf(
      new DynamoCredentialStore({ client, table: 'creds' }).ensureTable({ timeoutMs: 0 }),
    );
    expect(error).toBeInstanceOf(StorageForbiddenError);
    expect(dynamo.commandCalls(CreateTableCommand)).toHaveLength(0);
  });

  it('waits 60 s by default, and gives up only once the deadline has passed', async () => {
    dynamo.on(DescribeTableCommand).resolves({ Table: { TableStatus: 'CREATING' } });
    const now = vi.spyOn(performance, 'now');
    now.mockReturnValueOnce(0).mockReturnValueOnce(60_000).mockReturnValue(60_001);
    try {
      const error = await rejectionOf(new DynamoCredentialStore({ client, table: 'creds' }).ensureTable());
      expect((error as Error).message).toContain('did not become active in time');
      // At exactly the deadline it looked once more.
      expect(dynamo.commandCalls(DescribeTableCommand)).toHaveLength(2);
    } finally {
      now.mockRestore();
    }
  });

  it('turns TTL on once: "already enabled" is success, any other refusal is reported', async () => {
    dynamo.on(DescribeTableCommand).resolves({ Table: { TableStatus: 'ACTIVE' } });
    const ttl = { attribute: 'expires_at', afterSeconds: 60 };
    dynamo
      .on(UpdateTimeToLiveCommand)
      .rejectsOnce(serviceError('ValidationException', 400, 'TimeToLive is already enabled'));
    await new DynamoCredentialStore({ client, table: 'creds', ttl }).ensureTable();
    dynamo
      .on(UpdateTimeToLiveCommand)
      .rejects(serviceError('ValidationException', 400, 'TimeToLive is being changed'));
    expect(
      await rejectionOf(new DynamoCredentialStore({ client, table: 'creds', ttl }).ensureTable()),
    ).toBeInstanceOf(Error);
    expect(dynamo.commandCalls(UpdateTimeToLiveCommand)[0]!.args[0].input.TimeToLiveSpecification).toEqual({
      AttributeName: 'expires_at',
      Enabled: true,
    });
  });
});

describe('construction and the client', () => {
  it('refuses missing options, attribute names that are not whole simple names, and a ttl under a minute', () => {
    expect(() => new DynamoCredentialStore(undefined as never)).toThrow(ConfigurationError);
    const client = new DynamoDBClient({ region: 'us-east-1', credentials: DYNAMO_TEST_CREDENTIALS });
    const withTtl =
      (attribute: string, afterSeconds = 60) =>
      () =>
        new DynamoCredentialStore({ client, table: 'creds', ttl: { attribute, afterSeconds } });
    expect(withTtl('1expires')).toThrow(ConfigurationError);
    expect(withTtl('expires-at')).toThrow(ConfigurationError);
    expect(withTtl(`e${'x'.repeat(64)}`)).toThrow(ConfigurationError);
    expect(withTtl(`e${'x'.repeat(63)}`)).not.toThrow();
    expect(withTtl('_expires', 60)).not.toThrow();
    expect(withTtl('expires', 59)).toThrow(ConfigurationError);
  });

  it('destroys only a client it built itself', async () => {
    const injected = new DynamoDBClient({ region: 'us-east-1', credentials: DYNAMO_TEST_CREDENTIALS });
    const destroyInjected = vi.spyOn(injected, 'destroy');
    await new DynamoCredentialStore({ client: injected, table: 'creds' }).close();
    expect(destroyInjected).not.toHaveBeenCalled();
    const destroy = vi.spyOn(DynamoDBClient.prototype, 'destroy');
    try {
      await new DynamoCredentialStore({ table: 'creds', region: 'us-east-1' }).close();
      expect(destroy).toHaveBeenCalledTimes(1);
    } finally {
      destroy.mockRestore();
    }
  });

  it('builds its client with the region, endpoint and credentials given, standard retries and capped timeouts', async () => {
    const built = createDynamoClient({
      region: 'eu-west-1',
      endpoint: 'http://127.0.0.1:8000',
      credentials: DYNAMO_TEST_CREDENTIALS,
      requestTimeoutMs: 8_000,
    });
    expect(await built.config.region()).toBe('eu-west-1');
    expect(await built.config.maxAttempts()).toBe(3);
    expect((await built.config.credentials()).secretAccessKey).toBe(DYNAMO_TEST_CREDENTIALS.secretAccessKey);
    expect((await built.config.endpoint!()).hostname).toBe('127.0.0.1');
    const handler = built.config.requestHandler as unknown as {
      configProvider: Promise<Record<string, unknown>>;
    };
    expect(await handler.configProvider).toMatchObject({
      requestTimeout: 8_000,
      connectionTimeout: 3_000,
      throwOnRequestTimeout: true,
    });
    const quick = createDynamoClient({ region: 'eu-west-1', requestTimeoutMs: 1_000, maxAttempts: 5 });
    expect(await quick.config.maxAttempts()).toBe(5);
    expect(
      await (quick.config.requestHandler as unknown as { configProvider: Promise<Record<string, unknown>> })
        .configProvider,
    ).toMatchObject({ requestTimeout: 1_000, connectionTimeout: 1_000 });
  });
});
