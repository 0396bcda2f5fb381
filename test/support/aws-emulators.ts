/**
 * DynamoDB (and S3) emulators for tests, on 127.0.0.1:
 *
 * - dynalite (npm, in process): DynamoDB's API on LevelDB in memory, with condition expressions;
 *   no TTL, no transactions, no `ReturnValuesOnConditionCheckFailure`.
 * - moto's server (Python), when the machine has it: an independent implementation of DynamoDB
 *   (with TTL) and of S3 (with `If-Match`/`If-None-Match` on writes).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

export interface EmulatorServer {
  endpoint: string;
  stop(): Promise<void>;
}

export async function startDynalite(): Promise<EmulatorServer> {
  const { default: dynalite } = await import('dynalite');
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts `python3 -m moto.server`; resolves the reason instead when moto is not installed. */
export async function startMoto(): Promise<EmulatorServer | { skipped: string }> {
  const probe = spawnSync('python3', ['-c', 'import moto.server, flask; print(moto.__version__)'], {
    encoding: 'utf8',
  });
  if (probe.status !== 0) return { skipped: 'moto is not installed (pip install "moto[server]")' };
  const port = await freePort();
  const child: ChildProcess = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
    stdio: 'ignore',
  });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const endpoint = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200 && !exited; i++) {
    try {
      const response = await fetch(`${endpoint}/moto-api/`);
      if (response.status < 500) {
        return {
          endpoint,
          stop: async () => {
            if (exited) return;
            const done = new Promise((resolve) => child.once('exit', resolve));
            child.kill('SIGTERM');
            await done;
          },
        };
      }
    } catch {
      // not listening yet
    }
    await delay(50);
  }
  child.kill('SIGKILL');
  return { skipped: `moto ${probe.stdout.trim()} did not start within 10 s` };
}
