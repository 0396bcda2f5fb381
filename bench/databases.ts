/**
 * 5b. Database stores: PostgreSQL and DynamoDB get / put against the raw driver call they wrap.
 */
import { randomBytes } from 'node:crypto';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { StoredCredentials } from 'mcp-oauth-credentials';
import { DynamoCredentialStore } from 'mcp-oauth-credentials/dynamodb';
import { PostgresCredentialStore } from 'mcp-oauth-credentials/postgres';
import pg from 'pg';
import { startBenchPostgres, startDynalite } from './engines.js';
import { comparePair, fmt } from './lib.js';

function record(userId: string, n: number): StoredCredentials {
  return {
    userId,
    accessToken: `ya29.bench-access-token-${n}-${'a'.repeat(120)}`,
    refreshToken: `1//bench-refresh-token-${n}-${'r'.repeat(60)}`,
    expiresAt: Date.now() + 3_600_000 + n,
    scopes: ['openid', 'email', 'https://www.googleapis.com/auth/drive.readonly'],
    tokenType: 'Bearer',
    clientId: '123456789012-abc.apps.googleusercontent.com',
    tokenUri: 'https://oauth2.googleapis.com/token',
  };
}

type Row = [
  string,
  string,
  string,
  { wrapped: { median: number; p99: number }; raw: { median: number; p99: number }; ratio: number },
];

export async function databaseBenchmarks(log: (line: string) => void): Promise<string> {
  const user = 'bench@example.com';
  let n = 0;
  const rows: Row[] = [];

  const postgres = await startBenchPostgres();
  const pool = new pg.Pool({ connectionString: postgres.url, max: 4 });
  try {
    const store = new PostgresCredentialStore({ pool, table: 'bench_credentials' });
    await store.ensureSchema();
    await store.put(user, record(user, 0));
    await pool.query(
      'CREATE TABLE IF NOT EXISTS bench_raw (user_id text PRIMARY KEY, record jsonb NOT NULL, version text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())',
    );
    await pool.query('INSERT INTO bench_raw VALUES ($1, $2::jsonb, $3) ON CONFLICT (user_id) DO NOTHING', [
      user,
      JSON.stringify(record(user, 0)),
      'v0',
    ]);
    // The raw statements: what a hand-written store would send for the same work.
    const rawGet = async () => {
      const result = await pool.query('SELECT record, version FROM bench_raw WHERE user_id = $1', [user]);
      return result.rows[0];
    };
    const rawPut = () =>
      pool.query(
        `INSERT INTO bench_raw (user_id, record, version) VALUES ($1, $2::jsonb, $3)
         ON CONFLICT (user_id) DO UPDATE SET record = EXCLUDED.record, version = EXCLUDED.version, updated_at = now()`,
        [user, JSON.stringify(record(user, ++n)), randomBytes(12).toString('hex')],
      );
    log(`  databases: PostgreSQL (${postgres.name}) get/put against the raw statements`);
    rows.push([
      'postgres',
      'get',
      'pg SELECT by primary key',
      await comparePair(() => store.get(user), rawGet, { warmup: 500, rounds: 80 }),
    ]);
    rows.push([
      'postgres',
      'put',
      'pg INSERT … ON CONFLICT DO UPDATE',
      await comparePair(() => store.put(user, record(user, ++n)), rawPut, { warmup: 500, rounds: 80 }),
    ]);
  } finally {
    await pool.end();
    await postgres.stop();
  }

  const dynalite = await startDynalite();
  const client = new DynamoDBClient({
    endpoint: dynalite.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  try {
    const store = new DynamoCredentialStore({ client, table: 'bench-credentials' });
    await store.ensureTable();
    await store.put(user, record(user, 0));
    const rawKey = { user_id: { S: 'raw/bench@example.com' } };
    const rawPut = () =>
      client.send(
        new PutItemCommand({
          TableName: 'bench-credentials',
          Item: {
            ...rawKey,
            record: { S: JSON.stringify(record(user, ++n)) },
            version: { S: randomBytes(12).toString('hex') },
            updated_at: { N: String(Math.floor(Date.now() / 1000)) },
          },
        }),
      );
    await rawPut();
    const rawGet = async () => {
      const { Item } = await client.send(
        new GetItemCommand({ TableName: 'bench-credentials', Key: rawKey, ConsistentRead: true }),
      );
      return JSON.parse(Item!.record!.S!);
    };
    log('  databases: DynamoDB (dynalite) get/put against the raw SDK calls');
    rows.push([
      'dynamodb',
      'get',
      'SDK GetItem (consistent) + JSON.parse',
      await comparePair(() => store.get(user), rawGet, { warmup: 500, rounds: 80 }),
    ]);
    rows.push([
      'dynamodb',
      'put',
      'SDK PutItem',
      await comparePair(() => store.put(user, record(user, ++n)), rawPut, { warmup: 500, rounds: 80 }),
    ]);
  } finally {
    client.destroy();
    await dynalite.stop();
  }

  for (const [store, op, , result] of rows) {
    log(
      `  databases: ${store} ${op}: ${fmt.ms(result.wrapped.median)} vs ${fmt.ms(result.raw.median)} (${fmt.ratio(result.ratio)})`,
    );
  }
  return [
    '## 5b. Database stores: get / put against the raw driver call they wrap',
    '',
    `PostgreSQL: ${postgres.name}, on loopback, through \`pg\` (a pool of 4). DynamoDB: dynalite in process. Each store`,
    'operation is timed against the raw call a hand-written store would make for the same work, interleaved as in',
    'section 5. The store adds input validation (zod), the record codec and its error mapping.',
    '',
    '| store | op | median | p99 | raw call: median / p99 | ratio | target |',
    '| --- | --- | ---: | ---: | --- | ---: | --- |',
    ...rows.map(
      ([store, op, rawName, result]) =>
        `| ${store} | ${op} | ${fmt.ms(result.wrapped.median)} | ${fmt.ms(result.wrapped.p99)} | ${rawName}: ${fmt.ms(result.raw.median)} / ${fmt.ms(result.raw.p99)} | ${fmt.ratio(result.ratio)} | ≤ 1.1×: ${fmt.ok(result.ratio <= 1.1)} |`,
    ),
    '',
  ].join('\n');
}
