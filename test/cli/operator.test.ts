/**
 * The operator CLI as built and spawned: one test per promise it makes. Migration never loses a
 * refresh token and names its decisions; summaries name users and print every count; errors say which
 * side and where; snapshots refuse to be overwritten or half-imported; list says expired and
 * no-refresh-token; messages name the CLI's flags and variables; short usage errors, per-command
 * help, --version; no AWS SDK warning; doctor catches a store that ignores conditional writes; every
 * exit code.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { buildApp } from 'fauxqs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { S3_TEST_CREDENTIALS, testS3Client } from '../../dev/s3-endpoint.js';
import { EXIT, runCli as runInProcess } from '../../src/cli/run.js';
import { FileCredentialStore, type StoredCredentials } from '../../src/index.js';
import { buildCli, type CliRun, runCli } from '../support/built-cli.js';
import { makeTempDir } from '../support/temp-dir.js';

const KEY = `k1:${randomBytes(32).toString('base64')}`;
let cli: { bin: string; dispose(): Promise<void> };
let dir: { path: string; dispose(): Promise<void> };
beforeAll(async () => {
  [cli, dir] = await Promise.all([buildCli(), makeTempDir()]);
}, 120_000);
afterAll(async () => {
  await cli.dispose();
  await dir.dispose();
});

const run = (args: string[], env: Record<string, string> = {}): Promise<CliRun> => runCli(cli.bin, args, env);

function record(userId: string, overrides: Partial<StoredCredentials> = {}): StoredCredentials {
  return {
    userId,
    accessToken: `ya29.${randomBytes(8).toString('hex')}`,
    refreshToken: `1//${randomBytes(8).toString('hex')}`,
    expiresAt: Date.now() + 3_600_000,
    scopes: ['openid', 'email'],
    tokenType: 'Bearer',
    ...overrides,
  };
}

async function store(name: string, records: StoredCredentials[]): Promise<string> {
  const directory = join(dir.path, name);
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const files = new FileCredentialStore({ directory, fsync: false });
  for (const item of records) await files.put(item.userId, item);
  return directory;
}

describe('migrate', () => {
  it('prefers the record that can be refreshed, then the newer, and names each decision', async () => {
    const later = Date.now() + 7_200_000;
    const source = await store('m-src', [
      record('refreshable@example.com', { expiresAt: Date.now() + 60_000 }),
      record('stale-dest@example.com', { refreshToken: undefined, expiresAt: Date.now() + 60_000 }),
      record('newer-dest@example.com'),
    ]);
    const target = await store('m-dst', [
      record('refreshable@example.com', { refreshToken: undefined, expiresAt: later }),
      record('stale-dest@example.com', { expiresAt: Date.now() - 1 }),
      record('newer-dest@example.com', { expiresAt: later }),
    ]);
    const result = await run(['migrate', '--from', source, '--to', target]);
    expect(result.code, result.stderr).toBe(EXIT.ok);
    expect(result.stdout).toContain(
      'migrate: 3 users: 0 migrated, 1 updated, 0 unchanged, 1 kept-newer, 1 kept-refreshable, 0 failed',
    );
    expect(result.stdout).toMatch(
      /updated\s+refreshable@example\.com {2}\(the destination had no refresh token\)/,
    );
    expect(result.stdout).toMatch(
      /kept-refreshable\s+stale-dest@example\.com {2}\(the source has no refresh token/,
    );
    expect(result.stdout).toMatch(/kept-newer\s+newer-dest@example\.com/);
    const files = new FileCredentialStore({ directory: target });
    expect((await files.get('refreshable@example.com'))!.credentials.refreshToken).toBeDefined();
    expect((await files.get('stale-dest@example.com'))!.credentials.refreshToken).toBeDefined();
  });

  it('--json lists every user per outcome and every count (zeros too); a terminal shows ten then "and K more"', async () => {
    const source = await store(
      'many-src',
      Array.from({ length: 14 }, (_, i) => record(`u${String(i).padStart(2, '0')}@example.com`)),
    );
    const target = await store('many-dst', []); // a dry run reads the destination: it must exist
    const json = JSON.parse(
      (await run(['migrate', '--from', source, '--to', target, '--dry-run', '--json'])).stdout,
    );
    expect(json.counts).toEqual({
      migrated: 14,
      updated: 0,
      unchanged: 0,
      'kept-newer': 0,
      'kept-refreshable': 0,
      failed: 0,
    });
    expect(json.users.migrated).toHaveLength(14);
    const human = (await run(['migrate', '--from', source, '--to', target, '--dry-run'])).stdout;
    expect(human.match(/^ {2}migrated {9}u\d\d@example\.com$/gm)).toHaveLength(10);
    expect(human).toMatch(/migrated\s+and 4 more/);
  });

  it('says which side a corrupt record is on, and where', async () => {
    const source = await store('side-src', [record('broken@example.com')]);
    const target = await store('side-dst', []);
    await writeFile(join(target, 'broken@example.com.json'), '{"token": "ya29.TRUNC', { mode: 0o600 });
    const result = await run(['migrate', '--from', source, '--to', target, '--json']);
    expect(result.code).toBe(EXIT.partial);
    const failure = JSON.parse(result.stdout).failed[0];
    expect(failure).toMatchObject({ user: 'broken@example.com', code: 'CORRUPT' });
    expect(failure.message).toContain(`destination (${target})`);
    expect(result.stdout).not.toContain('TRUNC');
  });
});

describe('show, list and errors', () => {
  it('show --json of an unknown user prints a JSON error object (exit 4)', async () => {
    const directory = await store('show', [record('known@example.com')]);
    const result = await run(['show', 'nobody@example.com', '--store', directory, '--json']);
    expect(result.code).toBe(EXIT.notFound);
    expect(JSON.parse(result.stdout)).toEqual({
      error: { code: 'NOT_FOUND', message: 'no credentials stored for nobody@example.com' },
    });
  });

  it('list has a status column (expired, no-refresh-token, corrupt) and errors on their own line', async () => {
    const directory = await store('status', [
      record('fresh@example.com'),
      record('expired@example.com', { expiresAt: Date.now() - 1 }),
      record('no-refresh@example.com', { refreshToken: undefined }),
    ]);
    await writeFile(join(directory, 'corrupt@example.com.json'), '{"token": 7}', { mode: 0o600 });
    const result = await run(['list', '--store', directory]);
    expect(result.code).toBe(EXIT.partial);
    const lines = result.stdout.split('\n');
    const lineOf = (user: string) => lines.find((line) => line.startsWith(user))!;
    expect(lineOf('fresh@example.com')).toMatch(/\sok\s/);
    expect(lineOf('expired@example.com')).toMatch(/\sexpired\s/);
    expect(lineOf('no-refresh@example.com')).toMatch(/\sno-refresh-token\s/);
    const corrupt = lines.indexOf(lineOf('corrupt@example.com'));
    expect(lines[corrupt]).toMatch(/\scorrupt\s/);
    expect(lines[corrupt]).not.toMatch(/CORRUPT:/);
    expect(lines[corrupt + 1]).toMatch(/^ {4}! CORRUPT: /);
    expect(result.stdout).toContain('4 users: 1 ok, 1 expired, 1 no-refresh-token, 1 corrupt, 0 error');
  });

  it('words problems with the CLI’s flags and variables, and reads keys only when needed', async () => {
    const plain = await store('plain', [record('plain@example.com')]);
    const plaintext = await run(['list', '--store', `encrypted+${plain}`], {
      MCP_OAUTH_CREDENTIALS_KEYS: KEY,
    });
    expect(plaintext.stdout).toContain('hint: pass --accept-plaintext');
    expect(plaintext.stdout).not.toContain('acceptPlaintext');
    const named = await run(['list', '--store', `encrypted+${plain}`, '--keys-env', 'OPS_KEYS']);
    expect(named.code).toBe(EXIT.unavailable);
    expect(named.stderr).toContain('OPS_KEYS is not set');
    expect(named.stderr).not.toContain('MCP_OAUTH_CREDENTIALS_KEYS');
    // A malformed key variable does not block a plain directory.
    const unaffected = await run(['list', '--store', plain], { MCP_OAUTH_CREDENTIALS_KEYS: 'garbage' });
    expect(unaffected.code).toBe(EXIT.ok);
    const doubled = await run(['list', '--store', `encrypted+encrypted+${plain}`], {
      MCP_OAUTH_CREDENTIALS_KEYS: KEY,
    });
    expect(doubled.code).toBe(EXIT.usage);
    expect(doubled.stderr).toContain('encrypted+encrypted+ is not a store spec');
  });
});

describe('snapshots', () => {
  it('export refuses to overwrite without --force; import refuses a truncated or extended snapshot unless --allow-partial', async () => {
    const source = await store('snap-src', [
      record('a@example.com'),
      record('b@example.com'),
      record('c@example.com'),
    ]);
    const file = join(dir.path, 'snapshot.jsonl');
    const env = { MCP_OAUTH_CREDENTIALS_KEYS: KEY };
    expect((await run(['export', '--store', source, '--to', file], env)).code).toBe(EXIT.ok);
    const lines = (await readFile(file, 'utf8')).trim().split('\n');
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({
      trailer: true,
      count: 3,
      digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
    });
    const again = await run(['export', '--store', source, '--to', file], env);
    expect(again.code).toBe(EXIT.usage);
    expect(again.stderr).toContain('pass --force');
    expect((await run(['export', '--store', source, '--to', file, '--force'], env)).code).toBe(EXIT.ok);

    const fresh = async () => join(dir.path, `snap-dst-${randomBytes(3).toString('hex')}`);
    const truncated = join(dir.path, 'truncated.jsonl');
    await writeFile(truncated, `${lines.slice(0, 3).join('\n')}\n`); // header, a, b: no c, no trailer
    const refused = await run(['import', '--from', truncated, '--store', await fresh()], env);
    expect(refused.code).toBe(EXIT.unavailable);
    expect(refused.stderr).toMatch(/trailer is missing[\s\S]*--allow-partial/);
    const extended = join(dir.path, 'extended.jsonl');
    await writeFile(extended, `${[...lines.slice(0, -1), lines[1]!, lines.at(-1)!].join('\n')}\n`);
    expect((await run(['import', '--from', extended, '--store', await fresh()], env)).stderr).toContain(
      'trailer says 3 users, it holds 4',
    );
    const partial = await run(
      ['import', '--from', truncated, '--store', await fresh(), '--allow-partial', '--json'],
      env,
    );
    expect(partial.code).toBe(EXIT.ok);
    expect(JSON.parse(partial.stdout)).toMatchObject({ complete: false, counts: { migrated: 2 } });
    const whole = await run(['import', '--from', file, '--store', await fresh(), '--json'], env);
    expect(JSON.parse(whole.stdout)).toMatchObject({ complete: true, counts: { migrated: 3 } });
  });
});

describe('usage, help and version', () => {
  it('prints one line and a pointer for a usage error, per-command help, and the version', async () => {
    const unknown = await run(['list', '--frob']);
    expect(unknown.code).toBe(EXIT.usage);
    expect(unknown.stderr).toBe(
      "error: unknown option --frob\nRun 'mcp-oauth-credentials list --help' for usage.\n",
    );
    const noCommand = await run(['frobnicate']);
    expect(noCommand.stderr.split('\n').filter(Boolean)).toHaveLength(2);
    const help = await run(['export', '--help']);
    expect(help.code).toBe(EXIT.ok);
    expect(help.stdout).toContain('--force');
    expect(help.stdout).toContain('Example:');
    expect(help.stdout).not.toContain('--allow-partial');
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8'));
    expect((await run(['--version'])).stdout.trim()).toBe(pkg.version);
    expect((await run(['--help'])).stdout).toContain(`Runs on Node.js ${pkg.engines.node}`);
  });
});

describe('S3: no SDK warning, and doctor', () => {
  const s3 = (endpoint: string) => ['--s3-endpoint', endpoint, '--s3-path-style', '--s3-region', 'us-east-1'];
  const awsEnv = {
    AWS_ACCESS_KEY_ID: S3_TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: S3_TEST_CREDENTIALS.secretAccessKey,
  };

  it('prints no AWS SDK Node-version warning, and doctor passes a store with real conditional writes', async () => {
    await testS3Client(inject('s3Endpoint'))
      .send(new CreateBucketCommand({ Bucket: 'doctor-ok' }))
      .catch(() => {});
    const result = await run(['doctor', '--store', 's3://doctor-ok/p/', ...s3(inject('s3Endpoint'))], awsEnv);
    expect(result.stderr).not.toContain('NodeVersionSupportWarning');
    expect(result.code, result.stdout).toBe(EXIT.ok);
    for (const check of [
      'open',
      'list',
      'round trip',
      'only-if-absent',
      'compare-and-swap',
      'conditional delete',
      'delete',
    ]) {
      expect(result.stdout).toMatch(new RegExp(`^PASS\\s+${check}`, 'm'));
    }
  });

  it('doctor fails (exit 5) on an S3 endpoint that ignores If-Match / If-None-Match', async () => {
    // fauxqs as it is, without the project's conditional-write shim: every write succeeds.
    const app = await buildApp({ logger: false });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const endpoint = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    try {
      await testS3Client(endpoint).send(new CreateBucketCommand({ Bucket: 'doctor-bad' }));
      const result = await run(
        ['doctor', '--store', 's3://doctor-bad/p/', ...s3(endpoint), '--json'],
        awsEnv,
      );
      expect(result.code).toBe(EXIT.checksFailed);
      const report = JSON.parse(result.stdout) as {
        ok: boolean;
        checks: Array<{ check: string; status: string; detail: string }>;
      };
      expect(report.ok).toBe(false);
      expect(report.checks.find((check) => check.check === 'compare-and-swap')).toMatchObject({
        status: 'fail',
        detail: expect.stringContaining('ignores If-Match'),
      });
    } finally {
      await app.close();
    }
  });

  it('doctor checks a directory’s owner and mode, and the keys of an encrypted store', async () => {
    const directory = await store('doctor-dir', [record('owner@example.com')]);
    const plain = await run(['doctor', '--store', directory]);
    expect(plain.code, plain.stdout).toBe(EXIT.ok);
    expect(plain.stdout).toMatch(/^PASS\s+directory\s+.*mode 700, owned by this user/m);
    const sealed = join(dir.path, 'doctor-sealed');
    await mkdir(sealed, { mode: 0o700 });
    const env = { MCP_OAUTH_CREDENTIALS_KEYS: KEY };
    await run(['migrate', '--from', directory, '--to', `encrypted+${sealed}`], env);
    const encrypted = await run(['doctor', '--store', `encrypted+${sealed}`], env);
    expect(encrypted.stdout).toMatch(/^PASS\s+keys\s+the keyring opens owner@example\.com's record/m);
    const wrongKey = await run(['doctor', '--store', `encrypted+${sealed}`], {
      MCP_OAUTH_CREDENTIALS_KEYS: `k2:${randomBytes(32).toString('base64')}`,
    });
    expect(wrongKey.code).toBe(EXIT.checksFailed);
    expect(wrongKey.stdout).toMatch(/^FAIL\s+keys/m);
  });
});

describe('exit codes', () => {
  it('0, 1, 2, 3 and 4 as documented; a crash is 70, never 1', async () => {
    const directory = await store('codes', [record('one@example.com')]);
    expect((await run(['list', '--store', directory])).code).toBe(EXIT.ok);
    await writeFile(join(directory, 'bad@example.com.json'), '{', { mode: 0o600 });
    expect((await run(['list', '--store', directory])).code).toBe(EXIT.partial);
    expect((await run(['list', '--concurrency', 'many'])).code).toBe(EXIT.usage);
    expect((await run(['list', '--store', join(dir.path, 'no-such-dir')])).code).toBe(EXIT.unavailable);
    expect(
      (
        await run(['import', '--from', join(dir.path, 'no-such-file.jsonl'), '--store', directory], {
          MCP_OAUTH_CREDENTIALS_KEYS: KEY,
        })
      ).code,
    ).toBe(EXIT.unavailable);
    expect((await run(['delete', 'nobody@example.com', '--store', directory])).code).toBe(EXIT.notFound);
    // A failure nothing anticipates (here the output stream breaks) is an internal error.
    let stderr = '';
    const crashed = await runInProcess(['list', '--store', directory], {
      stdout: {
        write: () => {
          throw new TypeError('stdout is broken');
        },
      },
      stderr: { write: (text: string) => (stderr += text) },
      env: {},
    });
    expect(crashed).toBe(EXIT.internal);
    expect(stderr).toContain('internal error: stdout is broken');
  });
});
