import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Path of a TypeScript file under test/support. */
export function supportPath(name: string): string {
  return fileURLToPath(new URL(`./${name}`, import.meta.url));
}

export interface Worker {
  child: ChildProcess;
  /** Resolves with the next full line the worker prints. */
  nextLine(): Promise<string>;
  /** Resolves when the worker exits. */
  exited: Promise<number | null>;
}

/** Starts `node --import tsx <script> ...args` and exposes its stdout line by line. */
export function spawnTsWorker(
  script: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv } = {},
): Worker {
  const child = spawn(process.execPath, ['--import', 'tsx', supportPath(script), ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
    ...(options.env ? { env: options.env } : {}),
  });
  const lines: string[] = [];
  const waiters: Array<(line: string) => void> = [];
  let buffer = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    buffer += chunk;
    let index = buffer.indexOf('\n');
    while (index >= 0) {
      const line = buffer.slice(0, index);
      buffer = buffer.slice(index + 1);
      const waiter = waiters.shift();
      if (waiter) waiter(line);
      else lines.push(line);
      index = buffer.indexOf('\n');
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    exited,
    nextLine: () => {
      const line = lines.shift();
      if (line !== undefined) return Promise.resolve(line);
      return new Promise((resolve, reject) => {
        waiters.push(resolve);
        void exited.then((code) => reject(new Error(`worker exited (${code}) before printing a line`)));
      });
    },
  };
}
