/**
 * DynamoDB engines for tests (dynalite always; moto where installed) and stores on fresh tables.
 */
import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { inject } from 'vitest';
import { DynamoCredentialStore, type DynamoCredentialStoreOptions } from '../../src/dynamodb/index.js';

/** Credentials the emulators accept; a test checks they never reach an error. */
export const DYNAMO_TEST_CREDENTIALS = {
  accessKeyId: 'testing',
  secretAccessKey: 'dynamo-secret-DO-NOT-LEAK',
};

export interface DynamoEngine {
  name: string;
  /** '' when the engine is absent. */
  endpoint: string;
  skipReason: string;
}

export function dynamoEngines(): DynamoEngine[] {
  return [
    { name: 'dynalite', endpoint: inject('dynaliteEndpoint'), skipReason: '' },
    { name: 'moto', endpoint: inject('motoEndpoint'), skipReason: inject('motoSkipReason') || 'no moto' },
  ];
}

export function testDynamoClient(endpoint: string, maxAttempts = 2): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: DYNAMO_TEST_CREDENTIALS,
    maxAttempts,
  });
}

/** A store on a new table of its own (created through the store's `ensureTable`). */
export async function freshDynamoStore(
  endpoint: string,
  options: Partial<DynamoCredentialStoreOptions> = {},
): Promise<{ store: DynamoCredentialStore; client: DynamoDBClient; table: string }> {
  const client = testDynamoClient(endpoint);
  const table = options.table ?? `creds-${randomBytes(6).toString('hex')}`;
  const store = new DynamoCredentialStore({ client, ...options, table });
  await store.ensureTable();
  return { store, client, table };
}
