// Post-build check of dist/ in this repository (every peer installed): every export loads through
// both its ESM and its CJS condition, and the package root (ESM and CJS) loads no peer. The packed
// package as users install it is checked by scripts/smoke-packed.mjs.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const require = createRequire(import.meta.url);
const failures = [];

for (const [subpath, target] of Object.entries(pkg.exports)) {
  if (typeof target === 'string') continue;
  const specifier = subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`;
  if (subpath === './testing') continue; // needs a running vitest; covered by the test suite
  try {
    const esm = await import(specifier);
    const cjs = require(specifier);
    const missing = Object.keys(esm).filter((name) => !(name in cjs));
    if (missing.length > 0) failures.push(`${specifier}: CJS lacks ${missing.join(', ')}`);
    console.log(`ok   ${specifier} (${Object.keys(esm).length} exports, ESM and CJS)`);
  } catch (error) {
    failures.push(`${specifier}: ${error.message}`);
  }
}

const heavy = [
  '/node_modules/@aws-sdk/',
  '/node_modules/@smithy/',
  '/node_modules/ioredis/',
  '/node_modules/pg/',
  '/node_modules/@opentelemetry/',
  '/node_modules/express/',
  '/node_modules/@modelcontextprotocol/',
  '/node_modules/google-auth-library/',
];
for (const file of ['dist/index.js', 'dist/index.cjs']) {
  const loaded = JSON.parse(
    execFileSync(process.execPath, ['test/support/import-probe.mjs', file], { encoding: 'utf8' }),
  );
  const bad = loaded.filter((url) => heavy.some((part) => url.includes(part)));
  if (bad.length > 0) failures.push(`${file} loads ${bad.slice(0, 3).join(', ')}`);
  else console.log(`ok   ${file} loads no peer (${loaded.length} modules)`);
}

const help = execFileSync(process.execPath, [pkg.bin['mcp-oauth-credentials'], '--help'], {
  encoding: 'utf8',
});
if (help.startsWith('Usage: mcp-oauth-credentials')) console.log('ok   bin mcp-oauth-credentials --help');
else failures.push('bin mcp-oauth-credentials --help printed no usage');

if (failures.length > 0) {
  for (const failure of failures) console.error(`FAIL ${failure}`);
  process.exit(1);
}
