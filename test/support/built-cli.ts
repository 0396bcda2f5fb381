/**
 * The CLI as users run it: built from the sources with the package's bundler (once per test file,
 * into the repository's `.tmp/`, so its peers resolve from node_modules), and spawned as a process.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'tsup';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Builds `src/cli/index.ts` as tsup.config.ts does (ESM, code splitting, peers external). */
export async function buildCli(): Promise<{ bin: string; dispose(): Promise<void> }> {
  const outDir = join(root, '.tmp', `cli-${randomBytes(4).toString('hex')}`);
  await build({
    entry: { cli: 'src/cli/index.ts' },
    outDir,
    format: ['esm'],
    target: 'node20',
    platform: 'node',
    splitting: true,
    sourcemap: false,
    dts: false,
    silent: true,
    config: false,
    external: [/^@aws-sdk\//, /^@smithy\//, 'pg', 'ioredis', /^google-auth-library/, /^@opentelemetry\//],
  });
  return { bin: join(outDir, 'cli.js'), dispose: () => rm(outDir, { recursive: true, force: true }) };
}

/** Runs the built CLI; resolves its exit code and output. */
export function runCli(
  bin: string,
  args: string[],
  env: Record<string, string | undefined> = {},
  input?: string,
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: root,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}
