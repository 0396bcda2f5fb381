// The package as users install it: `npm pack`, then install the tarball into two scratch projects,
// (a) with only the required peers and (b) with every peer, and check from outside the repository:
// the CLI (help, a directory, an s3:// spec: a clear hint without the AWS SDK), ESM and CommonJS
// imports of every subpath, one error identity across module systems, the declarations under
// `tsc --skipLibCheck false` with node16, bundler and node10 resolution, publint and attw, and the
// root's import cost next to google-auth-library's.
//
// Usage: node scripts/smoke-packed.mjs [--keep]     (run `npm run build` first)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(new URL('..', import.meta.url).pathname);
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
// Outside the repository: Node would otherwise resolve missing peers from the repository's own
// node_modules, and the test would see what users without those peers never have.
const work = mkdtempSync(join(tmpdir(), 'mcp-oauth-credentials-smoke-'));
const failures = [];
const results = [];

function ok(message) {
  results.push(`ok   ${message}`);
  console.log(`ok   ${message}`);
}
function fail(message) {
  failures.push(message);
  console.log(`FAIL ${message}`);
}
function run(command, args, options = {}) {
  return spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
}
/** A peer as users get it: the newest version in the declared peer range. */
function peer(name) {
  return `${name}@${pkg.peerDependencies[name]}`;
}
/** A tool's version as locked in the repository. */
function locked(name) {
  const version = lock.packages?.[`node_modules/${name}`]?.version;
  if (!version) throw new Error(`${name} is not in package-lock.json`);
  return `${name}@${version}`;
}

const packed = JSON.parse(
  execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: root, encoding: 'utf8' }),
);
const tarball = join(work, packed[0].filename);
ok(
  `packed ${packed[0].filename} (${packed[0].files.length} files, ${Math.round(packed[0].size / 1024)} KiB)`,
);

const required = Object.keys(pkg.peerDependencies).filter(
  (name) => !pkg.peerDependenciesMeta?.[name]?.optional,
);
const optional = Object.keys(pkg.peerDependencies).filter(
  (name) => pkg.peerDependenciesMeta?.[name]?.optional,
);
const tools = ['typescript', '@types/node'];
// What TypeScript users of the optional peers install too (the MCP SDK v1's declarations import
// Express's types).
const optionalTools = ['@types/express'];
const subpaths = Object.keys(pkg.exports)
  .filter((key) => key !== './package.json')
  .map((key) => (key === '.' ? pkg.name : `${pkg.name}/${key.slice(2)}`));
/** Subpaths that load an optional peer at import (without it they fail, naming it). */
const needs = {
  [`${pkg.name}/s3`]: ['@aws-sdk/client-s3'],
  [`${pkg.name}/dynamodb`]: ['@aws-sdk/client-dynamodb'],
  [`${pkg.name}/otel`]: ['@opentelemetry/api'],
  [`${pkg.name}/sdk-v1`]: ['@modelcontextprotocol/sdk'],
  [`${pkg.name}/sdk-v2`]: ['@modelcontextprotocol/server'],
  [`${pkg.name}/testing`]: ['vitest', 'oauth2-mock-server'],
};

function scenario(name, peers, extraTools = []) {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `smoke-${name}`, private: true }, null, 2));
  const install = run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      tarball,
      ...peers.map(peer),
      ...[...tools, ...extraTools].map(locked),
    ],
    { cwd: dir },
  );
  if (install.status !== 0) {
    fail(`${name}: npm install failed: ${install.stderr.slice(-2000)}`);
    return undefined;
  }
  ok(`${name}: installed the tarball with ${peers.length ? peers.join(', ') : 'no peers'}`);
  return dir;
}

function available(dir, subpath) {
  const peersNeeded = needs[subpath] ?? [];
  return peersNeeded.every((peer) => existsSync(join(dir, 'node_modules', peer)));
}

function checkImports(dir, name) {
  for (const subpath of subpaths) {
    const expectLoad = available(dir, subpath);
    const esm = run(
      process.execPath,
      ['--input-type=module', '-e', `await import(${JSON.stringify(subpath)})`],
      { cwd: dir },
    );
    const cjsAllowed = !subpath.endsWith('/testing');
    const cjs = cjsAllowed
      ? run(process.execPath, ['-e', `require(${JSON.stringify(subpath)})`], { cwd: dir })
      : undefined;
    for (const [kind, result] of [
      ['ESM', esm],
      ['CJS', cjs],
    ]) {
      if (result === undefined) continue;
      if (expectLoad) {
        if (result.status === 0) ok(`${name}: ${kind} ${subpath}`);
        else
          fail(
            `${name}: ${kind} ${subpath} does not load: ${result.stderr.split('\n').find((line) => /Error/.test(line)) ?? result.stderr.slice(0, 300)}`,
          );
      } else {
        const missing = (needs[subpath] ?? []).find((peer) => result.stderr.includes(peer));
        if (result.status !== 0 && missing)
          ok(`${name}: ${kind} ${subpath} refuses to load without ${missing}, naming it`);
        else
          fail(
            `${name}: ${kind} ${subpath} without its peer: exit ${result.status}, ${result.stderr.slice(0, 200)}`,
          );
      }
    }
  }
  if (!subpaths.includes(`${pkg.name}/testing`)) return;
  const testingCjs = run(
    process.execPath,
    ['-e', `require.resolve(${JSON.stringify(`${pkg.name}/testing`)})`],
    { cwd: dir },
  );
  if (testingCjs.status !== 0) ok(`${name}: /testing has no CommonJS entry (vitest is ESM-only)`);
  else fail(`${name}: /testing offers a CommonJS entry`);
}

function checkCli(dir, name, hasS3) {
  const bin = join(dir, 'node_modules', '.bin', 'mcp-oauth-credentials');
  const help = run(bin, ['--help'], { cwd: dir });
  if (help.status === 0 && /Usage: mcp-oauth-credentials/.test(help.stdout)) ok(`${name}: CLI --help`);
  else fail(`${name}: CLI --help exited ${help.status}: ${help.stderr.slice(0, 300)}`);
  const store = join(dir, 'creds');
  mkdirSync(store, { recursive: true, mode: 0o700 });
  writeFileSync(
    join(store, 'alice@example.com.json'),
    JSON.stringify({
      token: 'ya29.x',
      refresh_token: '1//r',
      token_uri: 'https://oauth2.googleapis.com/token',
      client_id: 'c',
      client_secret: null,
      scopes: ['openid'],
      expiry: '2030-01-01T00:00:00',
    }),
    { mode: 0o600 },
  );
  const list = run(bin, ['list', '--store', store, '--json'], { cwd: dir });
  if (list.status === 0 && list.stdout.includes('alice@example.com')) ok(`${name}: CLI list of a directory`);
  else fail(`${name}: CLI list exited ${list.status}: ${list.stderr.slice(0, 300)}`);
  if (!hasS3) {
    const s3 = run(bin, ['list', '--store', 's3://some-bucket/prefix/'], { cwd: dir });
    if (s3.status === 3 && s3.stderr.includes('@aws-sdk/client-s3'))
      ok(`${name}: CLI list s3:// says to install @aws-sdk/client-s3 (exit 3)`);
    else fail(`${name}: CLI list s3:// without the AWS SDK exited ${s3.status}: ${s3.stderr.slice(0, 300)}`);
    for (const [spec, peerName] of [
      ['dynamodb://some-table', '@aws-sdk/client-dynamodb'],
      ['postgres://user@127.0.0.1:9/db', 'pg'],
    ]) {
      const result = run(bin, ['list', '--store', spec], { cwd: dir });
      if (result.status === 3 && result.stderr.includes(`npm install ${peerName}`))
        ok(`${name}: CLI list ${spec.split(':')[0]}:// says to install ${peerName} (exit 3)`);
      else
        fail(
          `${name}: CLI list ${spec} without ${peerName} exited ${result.status}: ${result.stderr.slice(0, 300)}`,
        );
    }
  } else {
    // With pg installed: an unreachable server is exit 3, promptly (the pool is ended, nothing hangs).
    const started = Date.now();
    const result = run(bin, ['list', '--store', 'postgres://user@127.0.0.1:9/db'], {
      cwd: dir,
      timeout: 20_000,
    });
    if (result.status === 3 && /PostgreSQL/.test(result.stderr))
      ok(`${name}: CLI list postgres:// of an unreachable server exits 3 in ${Date.now() - started} ms`);
    else
      fail(
        `${name}: CLI list postgres:// unreachable exited ${result.status}: ${result.stderr.slice(0, 300)}`,
      );
  }
}

function checkErrorIdentity(dir, name) {
  const script = `
    const { createCredentialStore, isCredentialError, CredentialError, ConfigurationError } = require(${JSON.stringify(pkg.name)});
    (async () => {
      const store = await createCredentialStore('s3://smoke-bucket/prefix/', { s3: { region: 'us-east-1', endpoint: 'http://127.0.0.1:9', forcePathStyle: true, maxAttempts: 1, requestTimeoutMs: 500, credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } } });
      try { await store.get('alice@example.com'); console.log('no error'); process.exit(1); }
      catch (error) {
        const ok = isCredentialError(error) && error instanceof CredentialError && !(error instanceof ConfigurationError);
        console.log(JSON.stringify({ ok, name: error.name, code: error.code }));
        process.exit(ok ? 0 : 1);
      }
    })();`;
  const result = run(process.execPath, ['-e', script], { cwd: dir });
  if (result.status === 0)
    ok(
      `${name}: an S3 store made by createCredentialStore from CommonJS throws a recognised CredentialError (${result.stdout.trim()})`,
    );
  else fail(`${name}: error identity across ESM/CJS: ${result.stdout.trim()} ${result.stderr.slice(0, 300)}`);
}

function checkTypes(dir, name) {
  const typed = subpaths.filter((subpath) => available(dir, subpath));
  const lines = typed.map(
    (subpath, i) =>
      `import * as m${i} from ${JSON.stringify(subpath)};\nexport const k${i}: string[] = Object.keys(m${i});`,
  );
  writeFileSync(join(dir, 'consumer.mts'), `${lines.join('\n')}\n`);
  writeFileSync(join(dir, 'consumer.ts'), `${lines.join('\n')}\n`);
  const configs = {
    node16: { module: 'node16', moduleResolution: 'node16', file: 'consumer.mts' },
    bundler: { module: 'esnext', moduleResolution: 'bundler', file: 'consumer.ts' },
    node10: { module: 'commonjs', moduleResolution: 'node10', file: 'consumer.ts' },
  };
  for (const [resolution, config] of Object.entries(configs)) {
    const files = resolution === 'node10' ? typed.filter((subpath) => !subpath.endsWith('/testing')) : typed;
    const source = files
      .map(
        (subpath, i) =>
          `import * as m${i} from ${JSON.stringify(subpath)};\nexport const k${i}: string[] = Object.keys(m${i});`,
      )
      .join('\n');
    writeFileSync(join(dir, config.file), `${source}\n`);
    const tsc = run(
      join(dir, 'node_modules', '.bin', 'tsc'),
      [
        '--noEmit',
        '--strict',
        '--skipLibCheck',
        'false',
        '--esModuleInterop',
        '--target',
        'es2022',
        '--module',
        config.module,
        '--moduleResolution',
        config.moduleResolution,
        '--types',
        'node',
        config.file,
      ],
      { cwd: dir },
    );
    if (tsc.status === 0)
      ok(`${name}: tsc --skipLibCheck false (${resolution}) over ${files.length} entry points`);
    else fail(`${name}: tsc (${resolution}): ${tsc.stdout.split('\n').slice(0, 6).join(' | ')}`);
  }
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function importCost(dir) {
  const timeOf = (code) => {
    const samples = [];
    for (let i = 0; i < 9; i++) {
      const result = run(
        process.execPath,
        ['-e', `const t=process.hrtime.bigint();${code};console.log(Number(process.hrtime.bigint()-t)/1e6)`],
        { cwd: dir },
      );
      samples.push(Number(result.stdout.trim()));
    }
    return median(samples);
  };
  const rootCjs = timeOf(`require(${JSON.stringify(pkg.name)})`);
  const gal = timeOf(`require('google-auth-library')`);
  const modules = run(
    process.execPath,
    ['-e', `require(${JSON.stringify(pkg.name)});console.log(Object.keys(require.cache).length)`],
    { cwd: dir },
  ).stdout.trim();
  ok(
    `import cost (CommonJS, median of 9): root ${rootCjs.toFixed(1)} ms (${modules} modules), google-auth-library alone ${gal.toFixed(1)} ms, ratio ${(rootCjs / gal).toFixed(2)}`,
  );
  return { rootCjs, gal, modules: Number(modules) };
}

const minimal = scenario('required-peers', required);
if (minimal) {
  checkCli(minimal, 'required-peers', false);
  checkImports(minimal, 'required-peers');
  checkTypes(minimal, 'required-peers');
  importCost(minimal);
}
const full = scenario('all-peers', [...required, ...optional], optionalTools);
if (full) {
  checkCli(full, 'all-peers', true);
  checkImports(full, 'all-peers');
  checkErrorIdentity(full, 'all-peers');
  checkTypes(full, 'all-peers');
}

for (const tool of [
  ['publint', [tarball]],
  ['attw', [tarball, '--profile', 'node16', '--exclude-entrypoints', 'testing']],
]) {
  const result = run(join(root, 'node_modules', '.bin', tool[0]), tool[1], { cwd: root });
  if (result.status === 0) ok(`${tool[0]} on the tarball`);
  else fail(`${tool[0]}: ${(result.stdout + result.stderr).slice(-1500)}`);
}

if (process.argv.includes('--keep')) console.log(`scratch projects kept in ${work}`);
else rmSync(work, { recursive: true, force: true });
console.log(`\n${results.length} checks passed, ${failures.length} failed`);
process.exit(failures.length === 0 ? 0 : 1);
