#!/usr/bin/env node
// `npm run mutation [-- file,file]`: StrykerJS over the security and storage core, then
// reports/MUTATION.md. Stryker needs Node >= 22: this uses the current Node if it is one, else the
// one in .tmp/peer-node22 (installed from the npm registry on first use, as .ci/run does).
// Incremental: reports/stryker-incremental.json is reused, so a re-run after a change re-tests only
// the mutants whose code or covering tests changed.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
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

// `-- --survivors`: re-test, forced, only the lines where reports/mutation-results.json lists a
// surviving or uncovered mutant (Stryker's `file:line-line` ranges); every other mutant keeps its
// recorded result. This is how a stale survivor (see docs/mutation-testing.md) is checked in minutes.
// `-- --survivors a.ts,b.ts` limits it to those files. The recorded lines must match the code: run
// it before editing a file again, or after an ordinary run of the files edited.
let files = process.argv[2];
const forced = {};
if (files === '--survivors') {
  const results = JSON.parse(readFileSync(join(root, 'reports/mutation-results.json'), 'utf8'));
  const ranges = new Set();
  const only = process.argv[3]?.split(',');
  for (const [file, { survivors }] of Object.entries(results.files)) {
    if (only !== undefined && !only.includes(file)) continue;
    for (const { line } of survivors) ranges.add(`${file}:${line}-${line}`);
  }
  if (ranges.size === 0) {
    console.log('[mutation] no surviving mutant recorded: nothing to re-test');
    process.exit(0);
  }
  files = [...ranges].join(',');
  forced.MUTATION_FORCE = '1';
  console.log(`[mutation] re-testing every mutant on ${ranges.size} lines with a recorded survivor`);
}
const started = Date.now();
const run = spawnSync(
  node,
  [join(root, 'node_modules/@stryker-mutator/core/bin/stryker.js'), 'run', 'stryker.config.mjs'],
  {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, ...forced, ...(files ? { MUTATE_FILES: files } : {}) },
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
