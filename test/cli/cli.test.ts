/**
 * The operator CLI end to end: a google_workspace_mcp directory of 1,000 users (plus the format
 * fixtures and three corrupt files) listed, migrated into an encrypted S3 prefix (interrupted and
 * resumed), key-rotated, exported to S3 and imported back.
 */
import { randomBytes } from 'node:crypto';
import { cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, HeadObjectCommand, paginateListObjectsV2 } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { S3_TEST_CREDENTIALS, testS3Client } from '../../dev/s3-endpoint.js';
import { EXIT, runCli } from '../../src/cli/run.js';
import {
  createCredentialStore,
  type EncryptedCredentialStore,
  FileCredentialStore,
  formatPythonExpiry,
  isSealed,
} from '../../src/index.js';
import { s3Endpoint } from '../support/s3-test-store.js';
import { spawnTsWorker } from '../support/spawn-worker.js';
import { makeTempDir } from '../support/temp-dir.js';

const USERS = 1_000;
const key = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;
const KEY_A = key('key-a');
const KEY_B = key('key-b');

interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

let env: Record<string, string | undefined>;
async function cli(args: string[], keys?: string): Promise<Captured> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: { ...env, ...(keys ? { MCP_OAUTH_CREDENTIALS_KEYS: keys } : {}) },
  });
  return { code, stdout, stderr };
}

let dir: { path: string; dispose: () => Promise<void> };
let source: string;
const secrets: string[] = [];
const s3Args = () => ['--s3-endpoint', s3Endpoint(), '--s3-path-style', '--s3-region', 'us-east-1'];

/** Writes `count` credential files the way google_workspace_mcp's store_credential does. */
async function writePythonDirectory(directory: string, count: number): Promise<void> {
  await mkdir(directory, { recursive: true });
  const base = Date.UTC(2026, 10, 26, 12, 0, 0);
  for (let i = 0; i < count; i += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, count - i) }, async (_, j) => {
        const n = i + j;
        const token = `ya29.cli-access-${n}-${randomBytes(6).toString('hex')}`;
        const refresh = `1//cli-refresh-${n}-${randomBytes(6).toString('hex')}`;
        secrets.push(token, refresh);
        const document = {
          token,
          refresh_token: refresh,
          token_uri: 'https://oauth2.googleapis.com/token',
          client_id: '123456789012-abc.apps.googleusercontent.com',
          client_secret: 'GOCSPX-cli-secret',
          scopes: ['openid', 'https://www.googleapis.com/auth/userinfo.email'],
          // naive UTC with microseconds, as datetime.isoformat() writes it
          expiry: `${formatPythonExpiry(base + n * 1000)}.${String((n % 1000) * 1000 + 123).padStart(6, '0')}`,
        };
        await writeFile(
          join(directory, `user${String(n).padStart(4, '0')}+cli@example.com`.replace('+', '%2B') + '.json'),
          JSON.stringify(document, null, 2),
          { mode: 0o600 },
        );
      }),
    );
  }
}

beforeAll(async () => {
  dir = await makeTempDir();
  source = join(dir.path, 'google_workspace_mcp');
  env = {
    AWS_ACCESS_KEY_ID: S3_TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: S3_TEST_CREDENTIALS.secretAccessKey,
    AWS_REGION: 'us-east-1',
  };
  // The AWS SDK reads credentials from the process environment, for in-process runs too.
  Object.assign(process.env, env);
  await writePythonDirectory(source, USERS);
  await cp(fileURLToPath(new URL('../fixtures/google_workspace_mcp/', import.meta.url)), source, {
    recursive: true,
    filter: (path) => !path.endsWith('README.md'),
  });
  await writeFile(join(source, 'broken@example.com.json'), '{"token": "ya29.TRUNCATED', { mode: 0o600 });
  await writeFile(join(source, 'invalid@example.com.json'), JSON.stringify({ token: 'ya29.x', scopes: 7 }));
  await writeFile(
    join(source, 'moved@example.com.json'),
    JSON.stringify({ token: 'ya29.y', scopes: [], user_email: 'x@example.com' }),
  );
  await testS3Client(s3Endpoint()).send(new CreateBucketCommand({ Bucket: 'cli-test' }));
}, 120_000);
afterAll(() => dir.dispose());

function expectNoSecrets(result: Captured): void {
  const text = result.stdout + result.stderr;
  for (const secret of [...secrets.slice(0, 50), 'GOCSPX-cli-secret', 'TRUNCATED'])
    expect(text).not.toContain(secret);
}

describe('mcp-oauth-credentials CLI', () => {
  it('lists 1,008 users of a google_workspace_mcp directory, reporting the 3 corrupt ones (exit 1)', async () => {
    const result = await cli(['list', '--store', source, '--json']);
    expect(result.code).toBe(EXIT.partial);
    const listed = JSON.parse(result.stdout) as {
      total: number;
      counts: Record<string, number>;
      users: unknown[];
    };
    expect(listed.total).toBe(USERS + 5 + 3);
    expect(listed.counts.corrupt).toBe(3);
    const rows = listed.users as Array<{
      user: string;
      status: string;
      hasRefreshToken: boolean;
    }>;
    expect(rows).toHaveLength(USERS + 5 + 3);
    expect(rows.filter((row) => row.status === 'corrupt').map((row) => [row.user, row.status])).toEqual([
      ['broken@example.com', 'corrupt'],
      ['invalid@example.com', 'corrupt'],
      ['moved@example.com', 'corrupt'],
    ]);
    // Written with an expiry in the past (the Python server's tokens last an hour): refreshable.
    expect(rows.find((row) => row.user === 'user0007+cli@example.com')).toMatchObject({
      status: 'expired',
      hasRefreshToken: true,
    });
    expectNoSecrets(result);
    const table = await cli(['list', '--store', source]);
    expect(table.stdout).toMatch(/^USER\s+STATUS\s+EXPIRES\s+REFRESH\s+SCOPES/);
    expect(table.stdout).toMatch(/1008 users: \d+ ok, \d+ expired, \d+ no-refresh-token, 3 corrupt, 0 error/);
    expectNoSecrets(table);
  });

  it('shows and deletes one user, with exit 4 for a missing one, and refuses bad input (exit 2)', async () => {
    const scratch = join(dir.path, 'scratch');
    await cp(fileURLToPath(new URL('../fixtures/google_workspace_mcp/', import.meta.url)), scratch, {
      recursive: true,
    });
    const shown = await cli(['show', 'Alice@Example.com', '--store', scratch, '--json']);
    expect(shown.code).toBe(EXIT.ok);
    expect(JSON.parse(shown.stdout)).toMatchObject({
      user: 'alice@example.com',
      status: expect.stringMatching(/^(ok|expired)$/),
      hasRefreshToken: true,
    });
    expect(shown.stdout).not.toContain('ya29');
    expect((await cli(['delete', 'alice@example.com', '--store', scratch])).code).toBe(EXIT.ok);
    expect((await cli(['delete', 'alice@example.com', '--store', scratch])).code).toBe(EXIT.notFound);
    expect((await cli(['show', 'alice@example.com', '--store', scratch])).code).toBe(EXIT.notFound);
    expect((await cli(['show', '../../etc/passwd', '--store', scratch])).code).toBe(EXIT.usage);
    expect((await cli(['frobnicate'])).code).toBe(EXIT.usage);
    expect((await cli(['migrate', '--from', scratch])).code).toBe(EXIT.usage);
    expect((await cli(['list', '--store', 'ftp://nope'])).code).toBe(EXIT.usage);
    expect((await cli(['list', '--store', `encrypted+${scratch}`])).code).toBe(EXIT.unavailable); // no keys
  });

  it('migrates into an encrypted S3 prefix (interrupted, then resumed), idempotently, never over a newer record', async () => {
    const target = 'encrypted+s3://cli-test/migrated/';
    // A newer record already at the destination for one user: migrate must keep it.
    const destination = await createCredentialStore(target, {
      env: { ...env, MCP_OAUTH_CREDENTIALS_KEYS: KEY_A },
      s3: { endpoint: s3Endpoint(), forcePathStyle: true, region: 'us-east-1' },
    });
    const newer = (await new FileCredentialStore({ directory: source }).get('user0001+cli@example.com'))!
      .credentials;
    await destination.put(newer.userId, {
      ...newer,
      accessToken: 'ya29.newer',
      expiresAt: newer.expiresAt! + 3_600_000,
    });

    const dryRun = await cli(
      ['migrate', '--from', source, '--to', target, '--dry-run', '--json', ...s3Args()],
      KEY_A,
    );
    expect(JSON.parse(dryRun.stdout)).toMatchObject({
      dryRun: true,
      counts: { migrated: USERS + 5 - 1, 'kept-newer': 1, updated: 0, failed: 3 },
      users: { 'kept-newer': ['user0001+cli@example.com'] },
    });
    const client = testS3Client(s3Endpoint());
    const countObjects = async () => {
      let count = 0;
      for await (const page of paginateListObjectsV2(
        { client },
        { Bucket: 'cli-test', Prefix: 'migrated/' },
      )) {
        count += page.KeyCount ?? 0;
      }
      return count;
    };
    expect(await countObjects()).toBe(1);

    // A migration in another process, killed once part of it is done.
    const worker = spawnTsWorker(
      '../../src/cli/index.ts',
      ['migrate', '--from', source, '--to', target, '--concurrency', '2', ...s3Args()],
      { env: { ...process.env, ...env, MCP_OAUTH_CREDENTIALS_KEYS: KEY_A } },
    );
    for (let i = 0; i < 1_200 && (await countObjects()) < 150; i++) await delay(25);
    worker.child.kill('SIGKILL');
    await worker.exited;
    const partial = await countObjects();
    expect(partial).toBeGreaterThanOrEqual(150);
    expect(partial).toBeLessThan(USERS + 5);

    const resumed = await cli(['migrate', '--from', source, '--to', target, '--json', ...s3Args()], KEY_A);
    expect(resumed.code).toBe(EXIT.partial); // the three corrupt sources
    const summary = JSON.parse(resumed.stdout);
    expect(summary.failed.map((failure: { user: string }) => failure.user)).toEqual([
      'broken@example.com',
      'invalid@example.com',
      'moved@example.com',
    ]);
    expect(summary.counts.migrated + summary.counts.unchanged).toBe(USERS + 5 - 1);
    expect(summary.counts['kept-newer']).toBe(1);
    expect(await countObjects()).toBe(USERS + 5);

    const again = JSON.parse(
      (await cli(['migrate', '--from', source, '--to', target, '--json', ...s3Args()], KEY_A)).stdout,
    );
    expect(again.counts).toMatchObject({ unchanged: USERS + 5 - 1, 'kept-newer': 1, migrated: 0 });
    expect((await destination.get(newer.userId))!.credentials.accessToken).toBe('ya29.newer');
    const raw = await (destination as EncryptedCredentialStore).inner.get('alice@example.com');
    expect(isSealed(raw!.credentials.refreshToken)).toBe(true);
    expectNoSecrets(resumed);
  }, 120_000);

  it('rotates every record to the new primary key, resumably, then works with the new key alone', async () => {
    const target = 'encrypted+s3://cli-test/rotation/';
    const scratch = join(dir.path, 'rotation-source');
    await cp(fileURLToPath(new URL('../fixtures/google_workspace_mcp/', import.meta.url)), scratch, {
      recursive: true,
      filter: (path) => !path.endsWith('README.md'),
    });
    expect((await cli(['migrate', '--from', scratch, '--to', target, ...s3Args()], KEY_A)).code).toBe(
      EXIT.ok,
    );
    const both = `${KEY_B},${KEY_A}`;
    const first = await cli(['rotate-key', '--store', target, '--json', ...s3Args()], both);
    expect(first.code).toBe(EXIT.ok);
    expect(JSON.parse(first.stdout)).toMatchObject({
      primaryKeyId: 'key-b',
      total: 5,
      counts: { rotated: 5, current: 0 },
    });
    const second = await cli(['rotate-key', '--store', target, '--json', ...s3Args()], both);
    expect(JSON.parse(second.stdout)).toMatchObject({ total: 5, counts: { current: 5, rotated: 0 } });
    const onlyNew = await cli(['list', '--store', target, '--json', ...s3Args()], KEY_B);
    expect(onlyNew.code).toBe(EXIT.ok);
    expect(
      (JSON.parse(onlyNew.stdout) as { users: Array<{ status: string }> }).users.every(
        (row) => row.status !== 'corrupt' && row.status !== 'error',
      ),
    ).toBe(true);
    const onlyOld = await cli(['list', '--store', target, '--json', ...s3Args()], KEY_A);
    expect(onlyOld.code).toBe(EXIT.partial);
    expect((await cli(['rotate-key', '--store', scratch], KEY_A)).code).toBe(EXIT.usage);
  }, 60_000);

  it('exports a large store to S3 as an encrypted multipart snapshot and imports it without overwriting newer records', async () => {
    const big = join(dir.path, 'big');
    await mkdir(big);
    const notes = 'n'.repeat(15_000);
    for (let i = 0; i < 700; i += 100) {
      await Promise.all(
        Array.from({ length: 100 }, (_, j) =>
          writeFile(
            join(big, `big${i + j}@example.com.json`),
            JSON.stringify({
              token: `ya29.big-${i + j}`,
              refresh_token: `1//big-${i + j}`,
              scopes: ['openid'],
              expiry: '2026-12-01T00:00:00',
              notes,
            }),
          ),
        ),
      );
    }
    const exported = await cli(
      ['export', '--store', big, '--to', 's3://cli-test/snapshots/big.jsonl', '--json', ...s3Args()],
      KEY_A,
    );
    expect(exported.code).toBe(EXIT.ok);
    expect(JSON.parse(exported.stdout)).toMatchObject({ exported: 700, keyId: 'key-a' });
    const head = await testS3Client(s3Endpoint()).send(
      new HeadObjectCommand({ Bucket: 'cli-test', Key: 'snapshots/big.jsonl' }),
    );
    expect(head.ETag).toMatch(/-\d+"$/); // a multipart upload
    expect(head.ContentLength).toBeGreaterThan(10_000_000);

    const restoredDir = join(dir.path, 'restored');
    const restored = new FileCredentialStore({ directory: restoredDir });
    const newer = {
      userId: 'big7@example.com',
      accessToken: 'ya29.newer',
      refreshToken: '1//newer',
      expiresAt: Date.UTC(2027, 0, 1),
      scopes: ['openid'],
      tokenType: 'Bearer',
    };
    await restored.put(newer.userId, newer);
    const importArgs = [
      'import',
      '--from',
      's3://cli-test/snapshots/big.jsonl',
      '--store',
      restoredDir,
      '--json',
      ...s3Args(),
    ];
    const imported = await cli(importArgs, KEY_A);
    expect(imported.code).toBe(EXIT.ok);
    expect(JSON.parse(imported.stdout)).toMatchObject({
      total: 700,
      counts: { migrated: 699, 'kept-newer': 1 },
    });
    expect((await restored.get('big7@example.com'))!.credentials.accessToken).toBe('ya29.newer');
    expect((await restored.get('big8@example.com'))!.credentials).toMatchObject({
      accessToken: 'ya29.big-8',
      refreshToken: '1//big-8',
    });
    expect((await restored.get('big8@example.com'))!.credentials.extra?.notes).toBe(notes);
    const again = await cli(importArgs, KEY_A);
    expect(JSON.parse(again.stdout)).toMatchObject({ counts: { unchanged: 699, 'kept-newer': 1 } });
    expect(exported.stdout + imported.stdout).not.toContain('ya29.big');
    const wrongKey = await cli(
      ['import', '--from', 's3://cli-test/snapshots/big.jsonl', '--store', restoredDir, ...s3Args()],
      KEY_B,
    );
    expect(wrongKey.code, wrongKey.stderr).toBe(EXIT.partial);
  }, 120_000);

  it('round-trips a snapshot through a file, and reports tampered lines without stopping', async () => {
    const file = join(dir.path, 'snapshot.jsonl');
    const scratch = join(dir.path, 'fixtures-copy');
    await cp(fileURLToPath(new URL('../fixtures/google_workspace_mcp/', import.meta.url)), scratch, {
      recursive: true,
      filter: (path) => !path.endsWith('README.md'),
    });
    expect((await cli(['export', '--store', scratch, '--to', file], KEY_A)).code).toBe(EXIT.ok);
    const lines = (await readFile(file, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(7); // header, 5 users, trailer
    expect(lines.join('\n')).not.toContain('ya29.');
    const tampered = JSON.parse(lines[1]!);
    tampered.record.expiresAt += 1;
    lines[1] = JSON.stringify(tampered);
    lines.splice(lines.length - 1, 0, '{not json');
    await writeFile(file, `${lines.join('\n')}\n`);
    const target = join(dir.path, 'from-snapshot');
    // The trailer no longer matches: refused (exit 3), nothing written...
    const refused = await cli(['import', '--from', file, '--store', target, '--json'], KEY_A);
    expect(refused.code).toBe(EXIT.unavailable);
    expect(JSON.parse(refused.stdout).error.hint).toContain('--allow-partial');
    // ...unless the operator accepts it: then each bad line is reported and the rest imported.
    const result = await cli(
      ['import', '--from', file, '--store', target, '--json', '--allow-partial'],
      KEY_A,
    );
    expect(result.code).toBe(EXIT.partial);
    const summary = JSON.parse(result.stdout);
    expect(summary.counts.migrated).toBe(4);
    expect(summary.failed).toHaveLength(2);
    expect((await readdir(target)).filter((name) => name.endsWith('.json'))).toHaveLength(4);
  });

  it('migrates into PostgreSQL and DynamoDB (tables created), then lists and shows from there', async () => {
    const small = join(dir.path, 'small');
    await cp(fileURLToPath(new URL('../fixtures/google_workspace_mcp/', import.meta.url)), small, {
      recursive: true,
      filter: (path) => !path.endsWith('README.md'),
    });
    const expected = (
      JSON.parse((await cli(['list', '--store', small, '--json'])).stdout) as {
        users: Array<{ user: string }>;
      }
    ).users;
    expect(expected).toHaveLength(5);
    // The AWS SDK takes the DynamoDB endpoint from the environment, as it would in production.
    process.env.AWS_ENDPOINT_URL_DYNAMODB = inject('dynaliteEndpoint');
    const targets = [
      `encrypted+${inject('pgliteUrl')}`,
      `dynamodb://cli-migrate-${randomBytes(4).toString('hex')}/team-a/`,
    ];
    try {
      for (const to of targets) {
        const migrated = await cli(['migrate', '--from', small, '--to', to, '--json'], KEY_A);
        expect(migrated.code, `${to}: ${migrated.stderr}`).toBe(EXIT.ok);
        const listed = await cli(['list', '--store', to, '--json'], KEY_A);
        expect(listed.code, to).toBe(EXIT.ok);
        expect(
          (JSON.parse(listed.stdout) as { users: Array<{ user: string }> }).users.map((row) => row.user),
        ).toEqual(expected.map((row) => row.user));
        const shown = await cli(['show', 'alice@example.com', '--store', to, '--json'], KEY_A);
        expect(shown.code, to).toBe(EXIT.ok);
        expectNoSecrets(shown);
      }
    } finally {
      delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
    }
  });

  it('exits 3 for a directory that does not exist (a typo is not an empty store), writing no backup', async () => {
    const typo = join(dir.path, 'credentailsz');
    const snapshot = join(dir.path, 'empty-backup.jsonl');
    for (const args of [
      ['list', '--store', typo],
      ['show', 'alice@example.com', '--store', typo],
      ['migrate', '--from', typo, '--to', join(dir.path, 'elsewhere')],
      ['rotate-key', '--store', `encrypted+${typo}`],
      ['export', '--store', typo, '--to', snapshot],
    ]) {
      const result = await cli(args, KEY_A);
      expect(result.code, args.join(' ')).toBe(EXIT.unavailable);
      expect(result.stderr, args.join(' ')).toContain('does not exist');
    }
    await expect(readFile(snapshot)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('exits 3 when the store cannot be reached, and 2 for a snapshot that is not one', async () => {
    const unreachable = await cli([
      'list',
      '--store',
      's3://cli-test/x/',
      '--s3-endpoint',
      'http://127.0.0.1:1',
      '--s3-path-style',
    ]);
    expect(unreachable.code).toBe(EXIT.unavailable);
    expect(unreachable.stderr).toMatch(/error: /);
    const notSnapshot = join(dir.path, 'not-a-snapshot.jsonl');
    await writeFile(notSnapshot, '{"hello": "world"}\n');
    expect((await cli(['import', '--from', notSnapshot, '--store', 'memory:'], KEY_A)).code).toBe(
      EXIT.unavailable,
    );
  });
});
