#!/usr/bin/env node
// Folds Stryker's JSON report (reports/mutation.json) into reports/mutation-results.json (one entry
// per file, replaced by each run that mutates it) and renders reports/MUTATION.md from it.
// Score = (killed + timeout) / (killed + timeout + survived + no coverage); ignored mutants (a
// `// Stryker disable` comment with its reason: an equivalent mutant) are listed apart.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const seconds = Number(process.argv[2] ?? 0);
const report = JSON.parse(readFileSync(`${root}reports/mutation.json`, 'utf8'));
const resultsPath = `${root}reports/mutation-results.json`;
const results = existsSync(resultsPath)
  ? JSON.parse(readFileSync(resultsPath, 'utf8'))
  : { files: {}, runs: [] };

const ranAt = new Date().toISOString();
// Ignored by configuration (string literals, static mutants), not accepted one by one with a reason.
const isExcluded = (m) => m.status === 'Ignored' && /excluded mutation|static/i.test(m.statusReason ?? '');
// A run over some files (MUTATE_FILES, comma-separated) folds only those: the report also holds the
// other files' results as the incremental file last saw them, which may predate their current code.
// A line range (`file:12-12`, from `--survivors`) folds its whole file: Stryker's report holds the
// file's other mutants as recorded.
const mutatedNow = process.env.MUTATE_FILES
  ? [...new Set(process.env.MUTATE_FILES.split(',').map((file) => file.trim().replace(/:\d[\d:-]*$/, '')))]
  : undefined;
for (const [file, { mutants }] of Object.entries(report.files)) {
  if (mutatedNow !== undefined && !mutatedNow.includes(file)) continue;
  const count = (status) => mutants.filter((m) => m.status === status).length;
  const line = (m) => m.location.start.line;
  results.files[file] = {
    ranAt,
    killed: count('Killed'),
    timeout: count('Timeout'),
    survived: count('Survived'),
    noCoverage: count('NoCoverage'),
    ignored: mutants.filter((m) => m.status === 'Ignored' && !isExcluded(m)).length,
    excluded: mutants.filter(isExcluded).length,
    errors: count('CompileError') + count('RuntimeError'),
    survivors: mutants
      .filter((m) => m.status === 'Survived' || m.status === 'NoCoverage')
      .sort((a, b) => line(a) - line(b))
      .map((m) => ({
        line: line(m),
        mutator: m.mutatorName,
        replacement: m.replacement ?? '',
        status: m.status,
      })),
    accepted: mutants
      .filter((m) => m.status === 'Ignored' && !isExcluded(m))
      .sort((a, b) => line(a) - line(b))
      .map((m) => ({ line: line(m), mutator: m.mutatorName, reason: m.statusReason ?? '' })),
  };
}
results.runs.push({
  ranAt,
  seconds,
  files: mutatedNow?.length ?? Object.keys(report.files).length,
  cpus: cpus().length,
});
writeFileSync(resultsPath, `${JSON.stringify(results, null, 1)}\n`);

const score = (f) => {
  const detected = f.killed + f.timeout;
  const valid = detected + f.survived + f.noCoverage;
  return valid === 0 ? 100 : (100 * detected) / valid;
};
const entries = Object.entries(results.files).sort(([a], [b]) => a.localeCompare(b));
const totals = entries.reduce(
  (sum, [, f]) => ({
    killed: sum.killed + f.killed + f.timeout,
    valid: sum.valid + f.killed + f.timeout + f.survived + f.noCoverage,
  }),
  { killed: 0, valid: 0 },
);
const clip = (text) => text.replace(/\s+/g, ' ').replace(/\|/g, '\\|').slice(0, 70);
const lines = [
  '# Mutation testing',
  '',
  'Written by `npm run mutation` (StrykerJS with the vitest runner, string-literal mutants excluded, timeouts',
  'counted as killed). See docs/mutation-testing.md for how to run it and how to accept an equivalent mutant.',
  '',
  `- Last run: ${ranAt}, ${seconds} s on ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
  `- Overall: ${totals.killed} of ${totals.valid} mutants detected (${((100 * totals.killed) / Math.max(1, totals.valid)).toFixed(1)}%)`,
  '',
  '| file | score | killed | timeout | survived | no coverage | accepted | excluded | run |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ...entries.map(
    ([file, f]) =>
      `| ${file} | ${score(f).toFixed(1)}% | ${f.killed} | ${f.timeout} | ${f.survived} | ${f.noCoverage} | ${f.ignored} | ${f.excluded ?? 0} | ${f.ranAt.slice(0, 10)} |`,
  ),
  '',
  '## Surviving mutants',
  '',
];
for (const [file, f] of entries) {
  if (f.survivors.length === 0) continue;
  lines.push(`### ${file}`, '', '| line | mutator | replacement | status |', '| ---: | --- | --- | --- |');
  for (const s of f.survivors)
    lines.push(`| ${s.line} | ${s.mutator} | \`${clip(s.replacement)}\` | ${s.status} |`);
  lines.push('');
}
lines.push('## Accepted as equivalent', '');
const accepted = entries.flatMap(([file, f]) =>
  f.accepted.map((a) => `- ${file}:${a.line} ${a.mutator}: ${a.reason}`),
);
lines.push(...(accepted.length > 0 ? accepted : ['None.']), '');
writeFileSync(`${root}reports/MUTATION.md`, lines.join('\n'));
console.log(`[mutation] wrote reports/MUTATION.md (${entries.length} files)`);
