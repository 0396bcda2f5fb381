import { cp, lstat, lutimes, mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CorruptCredentialsError,
  FileCredentialStore,
  InvalidInputError,
  StorageUnavailableError,
  type StoredCredentials,
} from '../../src/index.js';
import { describeCredentialStoreContract, sampleCredentials } from '../../src/testing/index.js';
import { consistentRecord, generationOf } from '../support/consistent-record.js';
import { spawnTsWorker } from '../support/spawn-worker.js';
import { makeTempDir } from '../support/temp-dir.js';

const disposers = new Map<object, () => Promise<void>>();
describeCredentialStoreContract('FileCredentialStore', {
  createStore: async () => {
    const dir = await makeTempDir();
    const store = new FileCredentialStore({
      directory: join(dir.path, 'credentials'),
      createDirectory: true,
    });
    disposers.set(store, dir.dispose);
    return store;
  },
  disposeStore: async (store) => disposers.get(store)?.(),
  corruptRecord: async (store, userId) => {
    await writeFile(
      join((store as FileCredentialStore).directory, `${userId}.json`),
      '{"token": "ya29.half',
      {
        mode: 0o600,
      },
    );
  },
});

const FIXTURES = new URL('../fixtures/google_workspace_mcp/', import.meta.url);

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const item of iterable) out.push(item);
  return out.sort();
}

describe('FileCredentialStore', () => {
  let dir: { path: string; dispose: () => Promise<void> };
  let directory: string;
  beforeEach(async () => {
    dir = await makeTempDir();
    directory = join(dir.path, 'credentials');
  });
  afterEach(() => dir.dispose());

  describe('google_workspace_mcp compatibility', () => {
    beforeEach(async () => {
      await cp(FIXTURES, directory, { recursive: true, filter: (source) => !source.endsWith('README.md') });
    });

    it('loads every fixture written by the Python server unchanged', async () => {
      const store = new FileCredentialStore({ directory });
      expect(await collect(store.list())).toEqual([
        'alice@example.com',
        'bob+work@example.com',
        'carol@example.com',
        'dave@example.com',
        'erin@example.com',
      ]);
      const alice = await store.get('alice@example.com');
      expect(alice?.credentials).toEqual({
        userId: 'alice@example.com',
        accessToken: 'ya29.a0AfB_byC-fixture-alice-access',
        refreshToken: '1//0gFixtureAliceRefreshToken',
        tokenUri: 'https://oauth2.googleapis.com/token',
        clientId: '123456789012-abc.apps.googleusercontent.com',
        scopes: [
          'https://www.googleapis.com/auth/userinfo.email',
          'openid',
          'https://www.googleapis.com/auth/gmail.readonly',
        ],
        expiresAt: Date.UTC(2026, 4, 12, 19, 34, 27, 123),
        tokenType: 'Bearer',
        extra: { client_secret: 'GOCSPX-fixture-secret', expiry: '2026-05-12T19:34:27.123456' },
      } satisfies StoredCredentials);
      const bob = await store.get('bob+work@example.com');
      expect(bob?.credentials.expiresAt).toBe(Date.UTC(2026, 4, 12, 19, 34, 27));
      const carol = await store.get('carol@example.com');
      expect(carol?.credentials.refreshToken).toBeUndefined();
      expect(carol?.credentials.expiresAt).toBeUndefined();
      const dave = await store.get('dave@example.com');
      expect(dave?.credentials.expiresAt).toBe(Date.UTC(2026, 4, 12, 19, 34, 27, 654));
      expect(dave?.credentials.extra).toMatchObject({ universe_domain: 'googleapis.com', account: '' });
      const erin = await store.get('erin@example.com');
      expect(erin?.credentials.idToken).toBe('eyJhbGciOiJSUzI1NiJ9.fixture.signature');
    });

    it('writes a loaded record back with every original key and value kept', async () => {
      const store = new FileCredentialStore({ directory });
      for await (const userId of store.list()) {
        const fileName = (await readdir(directory)).find(
          (name) => decodeURIComponent(name) === `${userId}.json`,
        )!;
        const original = JSON.parse(await readFile(join(directory, fileName), 'utf8')) as Record<
          string,
          unknown
        >;
        const read = await store.get(userId);
        await store.put(userId, read!.credentials, { ifVersion: read!.version });
        const rewritten = JSON.parse(await readFile(join(directory, fileName), 'utf8')) as Record<
          string,
          unknown
        >;
        for (const [key, value] of Object.entries(original)) {
          expect(rewritten[key], `${userId}: ${key}`).toEqual(value);
        }
        expect(rewritten.user_email).toBe(userId);
        expect((await store.get(userId))?.credentials).toEqual(read!.credentials);
      }
    });
  });

  it('names files like the Python server and creates them 0600 in a 0700 directory', async () => {
    const store = new FileCredentialStore({ directory });
    await store.put('Plus+Tag@Example.com', sampleCredentials('plus+tag@example.com'));
    expect(await readdir(directory)).toEqual(['plus%2Btag@example.com.json']);
    expect((await stat(directory)).mode & 0o777).toBe(0o700);
    expect((await stat(join(directory, 'plus%2Btag@example.com.json'))).mode & 0o777).toBe(0o600);
  });

  it('leaves no temporary or lock files behind after writes and deletes', async () => {
    const store = new FileCredentialStore({ directory });
    await Promise.all(
      Array.from({ length: 10 }, () =>
        store.put('same@example.com', sampleCredentials('same@example.com'), {}),
      ),
    );
    await store.put('other@example.com', sampleCredentials('other@example.com'));
    await store.delete('other@example.com');
    expect(await readdir(directory)).toEqual(['same@example.com.json']);
  });

  it('reports a corrupt file as CorruptCredentialsError naming the user, never the content, and keeps others readable', async () => {
    const store = new FileCredentialStore({ directory });
    await store.put('good@example.com', sampleCredentials('good@example.com'));
    await writeFile(join(directory, 'broken@example.com.json'), '{"token": "ya29.SECRET-PARTIAL', {
      mode: 0o600,
    });
    await writeFile(
      join(directory, 'invalid@example.com.json'),
      JSON.stringify({ token: 'ya29.SECRET-SCHEMA', scopes: 'not-a-list' }),
      { mode: 0o600 },
    );
    await writeFile(
      join(directory, 'copied@example.com.json'),
      JSON.stringify({ token: 'ya29.SECRET-COPY', scopes: [], user_email: 'someone-else@example.com' }),
      { mode: 0o600 },
    );
    for (const userId of ['broken@example.com', 'invalid@example.com', 'copied@example.com']) {
      const error = await store.get(userId).catch((caught: unknown) => caught);
      expect(error, userId).toBeInstanceOf(CorruptCredentialsError);
      expect((error as CorruptCredentialsError).userId).toBe(userId);
      expect((error as Error).message).toContain(userId);
      expect((error as Error).message).not.toContain('SECRET');
    }
    expect((await store.get('good@example.com'))?.credentials.userId).toBe('good@example.com');
    expect(await collect(store.list())).toEqual([
      'broken@example.com',
      'copied@example.com',
      'good@example.com',
      'invalid@example.com',
    ]);
  });

  it('skips files that are not credentials when listing, and reports the .json ones that name no user', async () => {
    await mkdir(directory, { recursive: true, mode: 0o700 });
    for (const name of ['oauth_states.json', '.oauth_states.json', 'notes.txt', 'no-at-sign.json']) {
      await writeFile(join(directory, name), '{}');
    }
    await mkdir(join(directory, 'subdir@example.com.json.d'));
    const store = new FileCredentialStore({ directory });
    await store.put('real@example.com', sampleCredentials('real@example.com'));
    expect(await collect(store.list())).toEqual(['real@example.com']);
    expect(await store.unmappedFiles()).toEqual(['no-at-sign.json', 'oauth_states.json']);
  });

  it('refuses a symlink in place of a credentials file, for reads and writes', async () => {
    await mkdir(directory, { recursive: true, mode: 0o700 });
    const outside = join(dir.path, 'outside.json');
    await writeFile(outside, JSON.stringify({ token: 'ya29.outside', scopes: [] }));
    await symlink(outside, join(directory, 'victim@example.com.json'));
    const store = new FileCredentialStore({ directory });
    await expect(store.get('victim@example.com')).rejects.toBeInstanceOf(InvalidInputError);
    await expect(
      store.put('victim@example.com', sampleCredentials('victim@example.com')),
    ).rejects.toBeInstanceOf(InvalidInputError);
    await expect(store.delete('victim@example.com')).rejects.toBeInstanceOf(InvalidInputError);
    expect(JSON.parse(await readFile(outside, 'utf8'))).toEqual({ token: 'ya29.outside', scopes: [] });
    expect((await lstat(join(directory, 'victim@example.com.json'))).isSymbolicLink()).toBe(true);
  });

  it('takes over a lock left by a killed process at once', async () => {
    const store = new FileCredentialStore({ directory, lockTimeoutMs: 2_000 });
    await store.put('locked@example.com', sampleCredentials('locked@example.com'));
    const lockPath = join(directory, '.locked@example.com.json.lock');
    const holder = spawnTsWorker('file-store-worker.ts', ['hold-lock', lockPath]);
    expect(await holder.nextLine()).toBe('ready');
    holder.child.kill('SIGKILL');
    await holder.exited;
    const startedAt = Date.now();
    await store.put('locked@example.com', sampleCredentials('locked@example.com'));
    expect(Date.now() - startedAt).toBeLessThan(1_500);
    expect(await readdir(directory)).toEqual(['locked@example.com.json']);
  });

  it('waits for a live writer and fails with StorageUnavailableError when it never lets go', async () => {
    const store = new FileCredentialStore({ directory, lockTimeoutMs: 300 });
    await store.put('busy@example.com', sampleCredentials('busy@example.com'));
    const lockPath = join(directory, '.busy@example.com.json.lock');
    const holder = spawnTsWorker('file-store-worker.ts', ['hold-lock', lockPath]);
    try {
      expect(await holder.nextLine()).toBe('ready');
      const error = await store
        .put('busy@example.com', sampleCredentials('busy@example.com'))
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StorageUnavailableError);
      // A lock older than lockStaleMs is taken over even though its owner is alive (hung writer).
      const old = new Date(Date.now() - 60_000);
      await lutimes(lockPath, old, old);
      const patient = new FileCredentialStore({ directory, lockTimeoutMs: 300, lockStaleMs: 30_000 });
      await patient.put('busy@example.com', sampleCredentials('busy@example.com'));
    } finally {
      holder.child.kill('SIGKILL');
      await holder.exited;
    }
  });

  it('makes ifVersion a compare-and-swap across processes: exactly one of 8 processes wins', async () => {
    const store = new FileCredentialStore({ directory });
    const userId = 'shared@example.com';
    const base = await store.put(userId, consistentRecord(userId, 0));
    const workers = Array.from({ length: 8 }, (_, i) =>
      spawnTsWorker('file-store-worker.ts', ['cas', directory, userId, base, String(i + 1)]),
    );
    try {
      for (const worker of workers) expect(await worker.nextLine()).toBe('ready');
      for (const worker of workers) worker.child.stdin!.write('go\n');
      const outcomes = await Promise.all(workers.map((worker) => worker.nextLine()));
      expect(outcomes.filter((outcome) => outcome === 'won')).toHaveLength(1);
      expect(outcomes.filter((outcome) => outcome === 'lost')).toHaveLength(7);
      const winner = outcomes.indexOf('won') + 1;
      expect(generationOf((await store.get(userId))!.credentials)).toBe(winner);
    } finally {
      await Promise.all(workers.map((worker) => worker.exited));
    }
  });

  it('survives SIGKILL mid-write: every file parses and holds one whole record written (20 kills)', async () => {
    const users = ['crash-a@example.com', 'crash-b@example.com', 'crash-c@example.com'];
    for (let round = 0; round < 20; round++) {
      const writer = spawnTsWorker('file-store-worker.ts', ['loop', directory, users.join(',')]);
      expect(await writer.nextLine()).toBe('ready');
      await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 80));
      writer.child.kill('SIGKILL');
      await writer.exited;
      const store = new FileCredentialStore({ directory });
      for await (const userId of store.list()) {
        const read = await store.get(userId);
        expect(generationOf(read!.credentials), `round ${round}, ${userId}`).toBeGreaterThan(0);
      }
      // The next writer reclaims the dead writer's locks at once.
      await store.put(users[0]!, consistentRecord(users[0]!, 1));
    }
    const leftovers = (await readdir(directory)).filter((name) => name.startsWith('.'));
    // A killed writer may leave its own temporary file (0600, ignored by list), its lock, or (killed
    // while taking over a dead writer's lock) that lock renamed aside; none holds a mix, none is read.
    for (const name of leftovers) {
      expect(name).toMatch(
        /^\.crash-[abc]@example\.com\.json\.([0-9a-f]{12}\.tmp|lock|lock\.[0-9a-f]{12}\.stale)$/,
      );
    }
  }, 120_000);
});
