/**
 * Error paths and exact requests of DynamoCredentialStore. aws-sdk-client-mock stands in for
 * DynamoDB where no emulator can produce the answer (AccessDenied, an item returned with a failed
 * condition); throttling, 5xx and timeouts run against small local HTTP servers so the SDK's own
 * retry strategy runs.
 */
import { createServer, type Server } from 'node:http';
import { inspect } from 'node:util';
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  DynamoDBServiceException,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DynamoCredentialStore } from '../../src/dynamodb/index.js';
import {
  ConfigurationError,
  ConflictError,
  CorruptCredentialsError,
  InvalidInputError,
  StorageForbiddenError,
  StorageUnavailableError,
} from '../../src/index.js';
import { sampleCredentials } from '../../src/testing/index.js';
import { DYNAMO_TEST_CREDENTIALS } from '../support/dynamo-test-store.js';

const USER = 'mapped@example.com';

function serviceError(name: string, status: number, message = name): DynamoDBServiceException {
  return new DynamoDBServiceException({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status, requestId: 'REQ123' },
    message,
  });
}

function conditionFailed(item?: Record<string, { S: string }>): ConditionalCheckFailedException {
  return new ConditionalCheckFailedException({
    $metadata: { httpStatusCode: 400 },
    message: 'The conditional request failed',
    ...(item ? { Item: item } : {}),
  });
}

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

describe('DynamoCredentialStore requests (aws-sdk-client-mock)', () => {
  const client = new DynamoDBClient({ region: 'us-east-1', credentials: DYNAMO_TEST_CREDENTIALS });
  const dynamo = mockClient(client);
  beforeEach(() => dynamo.reset());
  const store = () => new DynamoCredentialStore({ client, table: 'creds', prefix: 'p/' });

  it('gets with one consistent GetItem, and puts with the version condition (or attribute_not_exists)', async () => {
    dynamo.on(GetItemCommand).resolves({});
    expect(await store().get(USER)).toBeUndefined();
    expect(dynamo.commandCalls(GetItemCommand)).toHaveLength(1);
    expect(dynamo.commandCalls(GetItemCommand)[0]!.args[0].input).toEqual({
      TableName: 'creds',
      Key: { user_id: { S: `p/${USER}` } },
      ConsistentRead: true,
    });
    dynamo.on(PutItemCommand).resolves({});
    await store().put(USER, sampleCredentials(USER));
    await store().put(USER, sampleCredentials(USER), { ifVersion: 'v1' });
    await store().put(USER, sampleCredentials(USER), { ifVersion: null });
    const [plain, swap, absent] = dynamo.commandCalls(PutItemCommand).map((call) => call.args[0].input);
    expect(plain).not.toHaveProperty('ConditionExpression');
    expect(swap).toMatchObject({
      ConditionExpression: '#version = :version',
      ExpressionAttributeValues: { ':version': { S: 'v1' } },
    });
    expect(absent).toMatchObject({
      ConditionExpression: 'attribute_not_exists(#key)',
      ExpressionAttributeNames: { '#key': 'user_id' },
    });
  });

  it('maps ConditionalCheckFailedException on put to ConflictError', async () => {
    dynamo.on(PutItemCommand).rejects(conditionFailed());
    await expect(store().put(USER, sampleCredentials(USER), { ifVersion: 'v1' })).rejects.toBeInstanceOf(
      ConflictError,
    );
  });

  it('tells a changed record from a missing one on a failed conditional delete, asking only when needed', async () => {
    dynamo
      .on(DeleteItemCommand)
      .rejects(conditionFailed({ user_id: { S: `p/${USER}` }, version: { S: 'v2' } }));
    await expect(store().delete(USER, { ifVersion: 'v1' })).rejects.toBeInstanceOf(ConflictError);
    expect(dynamo.commandCalls(GetItemCommand)).toHaveLength(0);
    dynamo.reset();
    dynamo.on(DeleteItemCommand).rejects(conditionFailed());
    dynamo.on(GetItemCommand).resolves({});
    expect(await store().delete(USER, { ifVersion: 'v1' })).toBe(false);
    expect(dynamo.commandCalls(GetItemCommand)).toHaveLength(1);
  });

  it.each([
    ['get', (s: DynamoCredentialStore) => s.get(USER), GetItemCommand, 'dynamodb:GetItem'],
    [
      'put',
      (s: DynamoCredentialStore) => s.put(USER, sampleCredentials(USER)),
      PutItemCommand,
      'dynamodb:PutItem',
    ],
    ['delete', (s: DynamoCredentialStore) => s.delete(USER), DeleteItemCommand, 'dynamodb:DeleteItem'],
    ['list', (s: DynamoCredentialStore) => collect(s.list()), ScanCommand, 'dynamodb:Scan'],
  ] as const)(
    'reports AccessDeniedException on %s as StorageForbiddenError naming %s',
    async (_name, call, command, action) => {
      dynamo
        .on(command as typeof GetItemCommand)
        .rejects(serviceError('AccessDeniedException', 400, 'User is not authorized'));
      const error = await call(store()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StorageForbiddenError);
      expect((error as StorageForbiddenError).hint).toContain(action);
    },
  );

  it('maps a missing table, a wrong key schema and an oversized item to their own errors', async () => {
    dynamo
      .on(GetItemCommand)
      .rejects(serviceError('ResourceNotFoundException', 400, 'Requested resource not found'));
    await expect(store().get(USER)).rejects.toBeInstanceOf(ConfigurationError);
    dynamo
      .on(GetItemCommand)
      .rejects(
        serviceError('ValidationException', 400, 'The provided key element does not match the schema'),
      );
    const schema = await store()
      .get(USER)
      .catch((e: unknown) => e);
    expect(schema).toBeInstanceOf(ConfigurationError);
    expect((schema as ConfigurationError).hint).toContain('user_id');
    dynamo
      .on(PutItemCommand)
      .rejects(serviceError('ValidationException', 400, 'Item size has exceeded the maximum allowed size'));
    await expect(store().put(USER, sampleCredentials(USER))).rejects.toBeInstanceOf(InvalidInputError);
  });

  it('reports an item without record or version, or with unparsable JSON, as CorruptCredentialsError', async () => {
    dynamo.on(GetItemCommand).resolves({ Item: { user_id: { S: `p/${USER}` }, version: { S: 'v' } } });
    await expect(store().get(USER)).rejects.toBeInstanceOf(CorruptCredentialsError);
    dynamo.on(GetItemCommand).resolves({
      Item: { user_id: { S: `p/${USER}` }, version: { S: 'v' }, record: { S: '{not json' } },
    });
    await expect(store().get(USER)).rejects.toBeInstanceOf(CorruptCredentialsError);
  });

  it('keeps no signed request, secret key or token in the error, even with inspect({ showHidden: true })', async () => {
    const record = sampleCredentials(USER);
    const signed = Object.assign(
      serviceError('ProvisionedThroughputExceededException', 400, 'Rate exceeded'),
      {
        $response: {
          statusCode: 400,
          headers: {
            authorization:
              'AWS4-HMAC-SHA256 Credential=AKIDLEAKEDKEY123/20261127/us-east-1/dynamodb/aws4_request, Signature=deadbeefcafebabe0123',
          },
        },
        request: { body: JSON.stringify({ Item: { record: { S: JSON.stringify(record) } } }) },
      },
    );
    dynamo.on(PutItemCommand).rejects(signed);
    const error = await store()
      .put(USER, record)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageUnavailableError);
    const dump = `${(error as Error).message} ${JSON.stringify(error)} ${inspect(error, { showHidden: true, depth: 10 })}`;
    for (const secret of [
      'AKIDLEAKEDKEY123',
      'deadbeefcafebabe',
      record.accessToken,
      record.refreshToken!,
      DYNAMO_TEST_CREDENTIALS.secretAccessKey,
    ]) {
      expect(dump).not.toContain(secret);
    }
  });

  it('reports a missing region as ConfigurationError with the fix, not as an outage', async () => {
    const saved = { region: process.env.AWS_REGION, fallback: process.env.AWS_DEFAULT_REGION };
    delete process.env.AWS_REGION;
    delete process.env.AWS_DEFAULT_REGION;
    try {
      const unconfigured = new DynamoCredentialStore({
        table: 'creds',
        credentials: DYNAMO_TEST_CREDENTIALS,
      });
      const error = await unconfigured.get(USER).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as ConfigurationError).hint).toContain('AWS_REGION');
    } finally {
      if (saved.region !== undefined) process.env.AWS_REGION = saved.region;
      if (saved.fallback !== undefined) process.env.AWS_DEFAULT_REGION = saved.fallback;
    }
  });
});

describe('DynamoCredentialStore retries (the SDK retry strategy, against local HTTP servers)', () => {
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
      request.resume();
      handler!(request, response);
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  }

  function storeAt(endpoint: string, extra: { requestTimeoutMs?: number } = {}) {
    return new DynamoCredentialStore({
      table: 'creds',
      endpoint,
      region: 'us-east-1',
      credentials: DYNAMO_TEST_CREDENTIALS,
      maxAttempts: 3,
      ...extra,
    });
  }

  function answer(response: import('node:http').ServerResponse, status: number, body: unknown): void {
    response.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
    response.end(JSON.stringify(body));
  }

  it('retries throttling maxAttempts times, then StorageUnavailableError naming it', async () => {
    const endpoint = await serve((_request, response) =>
      answer(response, 400, {
        __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
        message: 'The level of configured provisioned throughput for the table was exceeded.',
      }),
    );
    const error = await storeAt(endpoint)
      .get(USER)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageUnavailableError);
    expect((error as Error).message).toContain('ProvisionedThroughputExceededException');
    expect(requests).toBe(3);
  });

  it('recovers when a 500 is followed by success', async () => {
    const record = sampleCredentials(USER);
    const endpoint = await serve((_request, response) => {
      if (requests === 1) {
        answer(response, 500, {
          __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
          message: 'x',
        });
        return;
      }
      answer(response, 200, {
        Item: { user_id: { S: USER }, version: { S: 'v9' }, record: { S: JSON.stringify(record) } },
      });
    });
    expect(await storeAt(endpoint).get(USER)).toEqual({ credentials: record, version: 'v9' });
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
