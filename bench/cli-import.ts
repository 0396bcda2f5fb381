/**
 * 8. The CLI's `import` of a 100,000-user snapshot: peak resident memory of the CLI process (the
 * target: under 150 MiB, whatever the number of users) and its duration, into PostgreSQL.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { EncryptedCredentialStore, Keyring, MemoryCredentialStore } from 'mcp-oauth-credentials';
import { startBenchPostgres } from './engines.js';
import { fmt } from './lib.js';

const USERS = 100_000;
const root = fileURLToPath(new URL('..', import.meta.url));

/** Writes a version 2 snapshot of `USERS` users, sealed, with its trailer. */
export async function writeSnapshotForTest(path: string, keyring: Keyring): Promise<void> {
  const sealer = new EncryptedCredentialStore(new MemoryCredentialStore(), { keyring });
  const out = createWriteStream(path);
  const digest = createHash('sha256');
  out.write(
    `${JSON.stringify({ format: 'mcp-oauth-credentials-snapshot', version: 2, createdAt: new Date().toISOString(), keyId: 'bench' })}\n`,
  );
  for (let i = 0; i < USERS; i++) {
    const userId = `user${String(i).padStart(6, '0')}@example.com`;
    const record = await sealer.seal(userId, {
      userId,
      accessToken: `ya29.${randomBytes(60).toString('base64url')}`,
      refreshToken: `1//${randomBytes(40).toString('base64url')}`,
      expiresAt: Date.now() + 3_600_000,
      scopes: ['openid', 'email', 'https://www.googleapis.com/auth/drive.readonly'],
      tokenType: 'Bearer',
    });
    const line = JSON.stringify({ user: userId, record });
    digest.update(`${line}\n`);
    if (!out.write(`${line}\n`)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  out.end(`${JSON.stringify({ trailer: true, count: USERS, digest: `sha256:${digest.digest('hex')}` })}\n`);
  await finished(out);
}

export async function cliImportBenchmark(log: (line: string) => void): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'mcpoc-bench-cli-'));
  const keyring = new Keyring([{ id: 'bench', key: randomBytes(32) }]);
  const keys = `bench:${Buffer.from(keyring.primaryKey().key).toString('base64')}`;
  const snapshot = join(directory, 'snapshot.jsonl');
  const postgres = await startBenchPostgres();
  try {
    log(`  cli: writing a snapshot of ${fmt.int(USERS)} users`);
    await writeSnapshotForTest(snapshot, keyring);
    log(`  cli: import into PostgreSQL (${postgres.name})`);
    const started = Date.now();
    const { stderr } = await new Promise<{ stderr: string }>((resolve, reject) =>
      execFile(
        process.execPath,
        [
          join(root, 'bench', 'cli-rss.mjs'),
          'import',
          '--from',
          snapshot,
          '--store',
          postgres.url,
          '--json',
          '--concurrency',
          '16',
        ],
        {
          cwd: root,
          env: { ...process.env, MCP_OAUTH_CREDENTIALS_KEYS: keys },
          maxBuffer: 256 * 1024 * 1024,
        },
        (error, _stdout, stderrText) =>
          error && !stderrText.includes('maxRssKiB') ? reject(error) : resolve({ stderr: stderrText }),
      ),
    );
    const seconds = (Date.now() - started) / 1000;
    const report = JSON.parse(stderr.trim().split('\n').pop()!) as { maxRssKiB: number; exitCode: number };
    const mib = report.maxRssKiB / 1024;
    log(`  cli: import exit ${report.exitCode}, peak RSS ${mib.toFixed(0)} MiB, ${seconds.toFixed(1)} s`);
    return [
      '## 8. The CLI: importing a 100,000-user snapshot',
      '',
      `\`mcp-oauth-credentials import\` (the built CLI, in its own process) of a sealed snapshot of ${fmt.int(USERS)} users into`,
      `PostgreSQL (${postgres.name}), \`--concurrency 16\`: the snapshot is checked against its trailer in a first pass, then`,
      'imported in batches of 100, so what the process holds does not grow with the number of users.',
      '',
      '| measure | value | target | |',
      '| --- | ---: | --- | --- |',
      `| exit code | ${report.exitCode} | 0 | ${fmt.ok(report.exitCode === 0)} |`,
      `| peak resident memory of the CLI process | ${mib.toFixed(0)} MiB | < 150 MiB | ${fmt.ok(mib < 150)} |`,
      `| duration (both passes) | ${seconds.toFixed(1)} s | | |`,
      `| users per second | ${fmt.int(USERS / seconds)} | | |`,
      '',
    ].join('\n');
  } finally {
    await postgres.stop();
    await rm(directory, { recursive: true, force: true });
  }
}
