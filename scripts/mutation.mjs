#!/usr/bin/env node
// `npm run mutation [-- file,file]`: StrykerJS over the security and storage core, then
// reports/MUTATION.md. Stryker needs Node >= 22: this uses the current Node if it is one, else the
// one in .tmp/peer-node22 (installed from the npm registry on first use, as .ci/run does).
// Incremental: reports/stryker-incremental.json is reused, so a re-run after a change re-tests only
// the mutants whose code or covering tests changed.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const major = Number(process.versions.node.split('.')[0]);
let node = process.execPath;
if (major < 22) {
  const local = join(root, '.tmp/peer-node22/node_modules/node/bin/node');
  if (!existsSync(local)) {
    console.log('[mutation] Stryker needs Node >= 22: installing node@22 into .tmp/peer-node22');
    const installed = spawnSync(
      'npm',
      ['install', '--no-audit', '--no-fund', '--prefix', '.tmp/peer-node22', 'node@22'],
      {
        cwd: root,
        stdio: 'inherit',
      },
    );
    if (installed.status !== 0) process.exit(installed.status ?? 1);
  }
  node = local;
}

const files = process.argv[2];
const started = Date.now();
const run = spawnSync(
  node,
  [join(root, 'node_modules/@stryker-mutator/core/bin/stryker.js'), 'run', 'stryker.config.mjs'],
  {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, ...(files ? { MUTATE_FILES: files } : {}) },
  },
);
const seconds = Math.round((Date.now() - started) / 1000);
if (run.status !== 0) {
  console.error(
    `[mutation] Stryker exited ${run.status} after ${seconds} s; reports/MUTATION.md not updated`,
  );
  process.exit(run.status ?? 1);
}
const report = spawnSync(process.execPath, [join(root, 'scripts/mutation-report.mjs'), String(seconds)], {
  cwd: root,
  stdio: 'inherit',
  // Stryker's report also carries the files it kept from earlier runs (incremental mode): only the
  // files mutated now replace their rows.
  env: { ...process.env, ...(files ? { MUTATE_FILES: files } : {}) },
});
process.exit(report.status ?? 1);
