/**
 * Real PostgreSQL servers for tests, on 127.0.0.1:
 *
 * - PGlite (PostgreSQL compiled to WebAssembly, an npm dependency) behind its socket server, so
 *   `npm test` runs the PostgreSQL tests on any machine. It runs one query at a time.
 * - The distribution's PostgreSQL (Debian's `postgresql` package), when installed: a throwaway
 *   cluster with password authentication, started as the `postgres` user when the tests run as root
 *   (PostgreSQL refuses to run as root). Real concurrent transactions are proven here.
 *   `MCPOC_POSTGRES_URL` points the tests at a server someone else runs instead.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PostgresTestServer {
  url: string;
  stop(): Promise<void>;
}

/** Connections the PGlite socket server accepts; test pools stay well below it. */
export const PGLITE_MAX_CONNECTIONS = 256;

export async function startPglite(): Promise<PostgresTestServer> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  const db = await PGlite.create();
  const server = new PGLiteSocketServer({
    db,
    host: '127.0.0.1',
    port: 0,
    maxConnections: PGLITE_MAX_CONNECTIONS,
  });
  await server.start();
  const port = server.getServerConn().split(':').pop();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop: async () => {
      await server.stop();
      await db.close();
    },
  };
}

/** The directory of the distribution's PostgreSQL binaries, or undefined when it is not installed. */
export function postgresBinDir(): string | undefined {
  const fromConfig = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  if (fromConfig.status === 0 && existsSync(join(fromConfig.stdout.trim(), 'initdb'))) {
    return fromConfig.stdout.trim();
  }
  const debian = '/usr/lib/postgresql';
  if (!existsSync(debian)) return undefined;
  const versions = readdirSync(debian)
    .filter((name) => existsSync(join(debian, name, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(debian, versions[0], 'bin');
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Starts a throwaway cluster of the distribution's PostgreSQL. Resolves undefined (with the reason)
 * when it is not installed or cannot run here.
 */
export async function startSystemPostgres(): Promise<PostgresTestServer | { skipped: string }> {
  const bin = postgresBinDir();
  if (!bin) return { skipped: 'PostgreSQL is not installed (apt-get install postgresql)' };
  const asRoot = process.getuid?.() === 0;
  let owner: { uid: number; gid: number } | undefined;
  if (asRoot) {
    const id = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    if (id.status !== 0)
      return { skipped: 'running as root and there is no postgres user to run PostgreSQL as' };
    owner = { uid: Number(id.stdout.trim()), gid: Number(gid.stdout.trim()) };
  }
  const run = (program: string, args: string[]) =>
    execFileSync(
      asRoot ? 'runuser' : join(bin, program),
      asRoot ? ['-u', 'postgres', '--', join(bin, program), ...args] : args,
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        encoding: 'utf8',
      },
    );
  const base = await mkdtemp(join(tmpdir(), 'mcpoc-pg-'));
  const data = join(base, 'data');
  const password = randomBytes(18).toString('base64url');
  const passwordFile = join(base, 'pw');
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  if (owner) {
    await chown(base, owner.uid, owner.gid);
    await chown(passwordFile, owner.uid, owner.gid);
  }
  await chmod(base, 0o700);
  try {
    run('initdb', [
      '-D',
      data,
      '-U',
      'postgres',
      '--auth=scram-sha-256',
      `--pwfile=${passwordFile}`,
      '-E',
      'UTF8',
      '--no-sync',
    ]);
  } catch (error) {
    await rm(base, { recursive: true, force: true });
    return {
      skipped: `initdb failed: ${String((error as { stderr?: string }).stderr ?? error)
        .trim()
        .slice(0, 200)}`,
    };
  }
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    try {
      run('pg_ctl', [
        '-D',
        data,
        '-l',
        join(base, 'log'),
        '-o',
        `-h 127.0.0.1 -p ${port} -k ${base} -F -c max_connections=200`,
        '-w',
        '-t',
        '30',
        'start',
      ]);
    } catch {
      continue;
    }
    return {
      url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
      stop: async () => {
        try {
          run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
        } finally {
          await rm(base, { recursive: true, force: true });
        }
      },
    };
  }
  await rm(base, { recursive: true, force: true });
  return { skipped: 'PostgreSQL did not start on a free port after 5 attempts' };
}
