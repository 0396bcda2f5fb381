import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { supportPath } from './support/spawn-worker.js';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Module URLs a fresh Node process resolves when it imports `entry` (TypeScript through tsx). */
function modulesLoadedBy(entry: string): string[] {
  const output = execFileSync(process.execPath, ['--import', 'tsx', supportPath('import-probe.mjs'), entry], {
    cwd: root,
    encoding: 'utf8',
  });
  return JSON.parse(output) as string[];
}

const HEAVY = [
  '/node_modules/@aws-sdk/',
  '/node_modules/@smithy/',
  '/node_modules/ioredis/',
  '/node_modules/express/',
];

describe('package boundaries', () => {
  it('importing the package root loads no AWS SDK, Redis client or Express', () => {
    const loaded = modulesLoadedBy('src/index.ts');
    expect(loaded.some((url) => url.includes('/src/index.ts'))).toBe(true);
    for (const heavy of HEAVY)
      expect(
        loaded.filter((url) => url.includes(heavy)),
        heavy,
      ).toEqual([]);
  });

  it('the probe does see the AWS SDK when the s3 subpath is imported (so the check above can fail)', () => {
    const loaded = modulesLoadedBy('src/s3/index.ts');
    expect(loaded.some((url) => url.includes('/node_modules/@aws-sdk/client-s3/'))).toBe(true);
  });
});
