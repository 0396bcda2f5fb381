/**
 * 5. Store operations: get / put median and p99 for memory, file (with fsync) and S3 (the emulator in
 * its own process), each against the raw operation it wraps; and `list()` of 10,000 users.
 */

import { fork } from 'node:child_process';
import { constants } from 'node:fs';
import { mkdtemp, open, readFile, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  FileCredentialStore,
  MemoryCredentialStore,
  type StoredCredentials,
  toPythonDocument,
} from 'mcp-oauth-credentials';
import { S3CredentialStore } from 'mcp-oauth-credentials/s3';
import { testS3Client } from '../dev/s3-endpoint.js';
import { comparePair, fmt, tinybench } from './lib.js';

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

async function fsyncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, constants.O_RDONLY);
  await handle.sync();
  await handle.close();
}

/** The S3 emulator in a child process (`s3-process.ts`): its CPU stays out of both sides of the S3 ratios. */
async function startS3EndpointProcess(): Promise<{ endpoint: string; close(): Promise<void> }> {
  const child = fork(fileURLToPath(new URL('./s3-process.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const endpoint = await new Promise<string>((resolve, reject) => {
    child.once('message', (message: { endpoint: string }) => resolve(message.endpoint));
    child.once('exit', (code) => reject(new Error(`the S3 emulator process exited (${code})`)));
  });
  return {
    endpoint,
    close: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send('close');
      await exited;
    },
  };
}

export async function storeBenchmarks(log: (line: string) => void): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'mcpoc-bench-'));
  const endpoint = await startS3EndpointProcess();
  const client = testS3Client(endpoint.endpoint);
  await client.send(new CreateBucketCommand({ Bucket: 'bench' }));
  try {
    const user = 'bench@example.com';
    let n = 0;
    const memory = new MemoryCredentialStore();
    const file = new FileCredentialStore({ directory: join(directory, 'store') });
    const s3 = new S3CredentialStore({ client, location: 's3://bench/store/' });
    for (const store of [memory, file, s3]) await store.put(user, record(user, 0));

    // The raw operations the stores wrap, doing the same durable work on the same bytes.
    const rawDirectory = join(directory, 'raw');
    await rm(rawDirectory, { recursive: true, force: true });
    await (await import('node:fs/promises')).mkdir(rawDirectory, { recursive: true });
    const rawPath = join(rawDirectory, `${user}.json`);
    const body = (k: number) => `${JSON.stringify(toPythonDocument(record(user, k)), null, 2)}\n`;
    await writeFile(rawPath, body(0));
    const rawFilePut = async () => {
      const temporary = `${rawPath}.tmp`;
      const handle = await open(temporary, 'w', 0o600);
      await handle.writeFile(body(++n));
      await handle.sync();
      await handle.close();
      await rename(temporary, rawPath);
      await fsyncDirectory(rawDirectory);
    };
    const rawFileGet = async () => JSON.parse(await readFile(rawPath, 'utf8'));
    await client.send(new PutObjectCommand({ Bucket: 'bench', Key: 'raw/object.json', Body: body(0) }));
    const rawS3Put = () =>
      client.send(
        new PutObjectCommand({
          Bucket: 'bench',
          Key: 'raw/object.json',
          Body: body(++n),
          ContentType: 'application/json',
          ServerSideEncryption: 'AES256',
        }),
      );
    const rawS3Get = async () => {
      const response = await client.send(new GetObjectCommand({ Bucket: 'bench', Key: 'raw/object.json' }));
      return JSON.parse(await response.Body!.transformToString());
    };

    log('  stores: memory get/put (tinybench), file and S3 against their raw operations (interleaved)');
    const memoryResults = await tinybench({
      'memory get': () => memory.get(user),
      'memory put': () => memory.put(user, record(user, ++n)),
    });
    const pairs: Array<
      [string, string, string, () => Promise<unknown>, () => Promise<unknown>, number | undefined]
    > = [
      ['file', 'get', 'fs read + JSON.parse', () => file.get(user), rawFileGet, undefined],
      [
        'file',
        'put (fsync)',
        'fs write + fsync + rename + fsync dir',
        () => file.put(user, record(user, ++n)),
        rawFilePut,
        1.3,
      ],
      ['s3', 'get', 'SDK GetObject + JSON.parse', () => s3.get(user), rawS3Get, undefined],
      ['s3', 'put', 'SDK PutObject', () => s3.put(user, record(user, ++n)), rawS3Put, 1.1],
    ];
    // The file store's extra cost is its cross-process lock: two directory entries (a symlink made and
    // removed) per write. Timing the raw write plus exactly those two operations shows what is left.
    const lockPath = join(rawDirectory, '.lock');
    const rawFilePutWithLock = async () => {
      await symlink(`${process.pid}@bench#00`, lockPath);
      await rawFilePut();
      await unlink(lockPath);
    };
    pairs.push([
      'file',
      'put (fsync)',
      'the same + a symlink made and removed (the lock)',
      () => file.put(user, record(user, ++n)),
      rawFilePutWithLock,
      undefined,
    ]);
    const rows: string[] = [];
    for (const name of ['memory get', 'memory put']) {
      const task = memoryResults.get(name)!;
      rows.push(
        `| memory | ${name.split(' ')[1]} | ${fmt.ms(task.median)} | ${fmt.ms(task.p99)} | - | - | |`,
      );
    }
    for (const [store, op, rawName, wrapped, raw, target] of pairs) {
      const result = await comparePair(wrapped, raw);
      log(
        `  stores: ${store} ${op}: ${fmt.ms(result.wrapped.median)} vs ${fmt.ms(result.raw.median)} (${fmt.ratio(result.ratio)})`,
      );
      rows.push(
        `| ${store} | ${op} | ${fmt.ms(result.wrapped.median)} | ${fmt.ms(result.wrapped.p99)} | ${rawName}: ${fmt.ms(result.raw.median)} / ${fmt.ms(result.raw.p99)} | ${fmt.ratio(result.ratio)} | ${target === undefined ? '' : `≤ ${target}×: ${fmt.ok(result.ratio <= target)}`} |`,
      );
    }

    log('  stores: list() of 10,000 users');
    const listed = 10_000;
    const listDirectory = join(directory, 'list');
    await (await import('node:fs/promises')).mkdir(listDirectory, { recursive: true });
    const listMemory = new MemoryCredentialStore();
    for (let i = 0; i < listed; i += 500) {
      await Promise.all(
        Array.from({ length: 500 }, async (_, j) => {
          // Zero-padded: fauxqs pages ListObjectsV2 inconsistently when '@' meets digits (real S3 does not).
          const id = `list${String(i + j).padStart(5, '0')}@example.com`;
          const document = body(i + j);
          await listMemory.put(id, record(id, i + j));
          await writeFile(join(listDirectory, `${id}.json`), document);
          await client.send(
            new PutObjectCommand({ Bucket: 'bench', Key: `list/${id}.json`, Body: document }),
          );
        }),
      );
    }
    const listFile = new FileCredentialStore({ directory: listDirectory });
    const listS3 = new S3CredentialStore({ client, location: 's3://bench/list/' });
    const count = async (iterable: AsyncIterable<string>) => {
      let total = 0;
      for await (const _ of iterable) total += 1;
      if (total !== listed) throw new Error(`list returned ${total}`);
      return total;
    };
    const lists = await tinybench(
      {
        'memory list': () => count(listMemory.list()),
        'file list': () => count(listFile.list()),
        's3 list': () => count(listS3.list()),
      },
      { timeMs: 3_000 },
    );
    const l = (name: string) => lists.get(name)!;
    return [
      '## 5. Stores: get / put against the raw operation they wrap',
      '',
      'One ~700-byte record. Memory: tinybench (about 2 s per task). File and S3: each store operation is timed',
      'against the raw operation it wraps, interleaved (40 rounds of 25 of each, order alternating), so the',
      'ratio (the median of per-round ratios) is not skewed by noise that drifts over the run. The file store',
      'and its baseline fsync the file and the directory; the file store also takes and releases its per-user',
      'lock (the cross-process compare-and-swap) and checks for a symlink. S3 is fauxqs in its own process on loopback;',
      'its baseline is a bare SDK call with the same body, content type and encryption header.',
      '',
      '| store | op | median | p99 | raw operation: median / p99 | ratio | target |',
      '| --- | --- | ---: | ---: | --- | ---: | --- |',
      ...rows,
      '',
      '`list()` of 10,000 users (median / p99 over about 3 s):',
      '',
      '| store | median | p99 |',
      '| --- | ---: | ---: |',
      `| memory | ${fmt.ms(l('memory list').median)} | ${fmt.ms(l('memory list').p99)} |`,
      `| file (readdir of 10,000 files) | ${fmt.ms(l('file list').median)} | ${fmt.ms(l('file list').p99)} |`,
      `| s3 (ListObjectsV2, 10 pages) | ${fmt.ms(l('s3 list').median)} | ${fmt.ms(l('s3 list').p99)} |`,
      '',
    ].join('\n');
  } finally {
    await endpoint.close();
    await rm(directory, { recursive: true, force: true });
  }
}
