/**
 * The shape of the source tree: tests mirror `src/`, no module cycles at run time, and the examples
 * stand alone (they never import the test suite).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

function filesUnder(directory: string, suffix: string): string[] {
  const found: string[] = [];
  const walk = (path: string) => {
    for (const name of readdirSync(path)) {
      const child = join(path, name);
      if (statSync(child).isDirectory()) walk(child);
      else if (child.endsWith(suffix)) found.push(relative(root, child));
    }
  };
  walk(join(root, directory));
  return found.sort();
}

/**
 * Source files without a `test/<same path>.test.ts`, and the suites that test them instead (through
 * their entry point, or as part of a larger flow). A new source file needs its own test file or an
 * entry here.
 */
const COVERED_BY: Record<string, string[]> = {
  'src/auth-info.ts': ['test/sdk-v1/bearer-verifier.test.ts', 'test/http/mcp-session-guard.test.ts'],
  'src/clock.ts': ['test/refresh/service-cache.test.ts'],
  'src/cli/args.ts': ['test/cli/cli.test.ts'],
  'src/cli/batch.ts': ['test/cli/operator.test.ts'],
  'src/cli/commands/copy.ts': ['test/cli/operator.test.ts'],
  'src/cli/commands/doctor.ts': ['test/cli/operator.test.ts'],
  'src/cli/commands/list.ts': ['test/cli/cli.test.ts'],
  'src/cli/commands/migrate.ts': ['test/cli/operator.test.ts'],
  'src/cli/commands/snapshot-commands.ts': ['test/cli/operator.test.ts'],
  'src/cli/context.ts': ['test/cli/cli.test.ts'],
  'src/cli/progress.ts': ['test/cli/operator.test.ts'],
  'src/cli/report.ts': ['test/cli/cli.test.ts', 'test/cli/operator.test.ts'],
  'src/cli/run.ts': ['test/cli/cli.test.ts'],
  'src/cli/snapshot.ts': ['test/cli/operator.test.ts'],
  'src/encryption/keyring.ts': ['test/stores/encrypted.test.ts'],
  'src/express/auth-handlers.ts': ['test/http/sign-in.test.ts', 'examples/stacks.test.ts'],
  'src/express/health.ts': ['test/http/health.test.ts'],
  'src/express/mcp.ts': ['test/mcp-auth/authorization-server.test.ts', 'examples/stacks.test.ts'],
  'src/express/oauth-proxy-provider.ts': ['test/mcp-auth/authorization-server.test.ts'],
  'src/express/types.ts': ['examples/stacks.test.ts'],
  'src/express/web.ts': ['examples/stacks.test.ts'],
  'src/http/elicitation.ts': ['examples/elicitation.test.ts'],
  'src/http/responses.ts': ['test/http/sign-in.test.ts', 'test/http/storage-errors.test.ts'],
  'src/internal/failure-log.ts': ['test/http/failure-logs.test.ts'],
  'src/internal/freeze.ts': ['test/refresh/credentials-cache.test.ts'],
  'src/internal/optional-peer.ts': ['test/package-boundaries.test.ts'],
  'src/internal/sanitise.ts': ['test/errors.test.ts'],
  'src/local/local-sign-in.ts': ['examples/stdio/stdio.test.ts'],
  'src/local/local-tool-auth.ts': ['examples/stdio/stdio.test.ts'],
  'src/mcp-auth/endpoints.ts': ['test/mcp-auth/authorization-server.test.ts'],
  'src/mcp-auth/oauth-error.ts': ['test/mcp-auth/authorization-server.test.ts'],
  'src/mcp-auth/options.ts': ['test/mcp-auth/authorization-server.test.ts'],

  'src/refresh/discovery.ts': ['test/http/oidc-sign-in.test.ts'],
  'src/refresh/semaphore.ts': ['test/refresh/manager.test.ts'],
  'src/session/backend.ts': ['test/session/backend-claim.test.ts'],
  'src/session/records.ts': ['test/session/session-store.test.ts'],
  'src/stores/dynamodb-settings.ts': ['test/stores/dynamodb.test.ts', 'test/stores/create.test.ts'],
  'src/stores/file-errors.ts': ['test/stores/file-reads.test.ts', 'test/stores/file-io.test.ts'],
  'src/stores/file-legacy-names.ts': ['test/stores/file-reads.test.ts', 'test/stores/file.test.ts'],
  'src/stores/file-names.ts': ['test/stores/file.test.ts', 'test/stores/python-interop.test.ts'],
  'src/stores/input.ts': ['test/stores/memory.test.ts'],
  'src/stores/load-store-module.ts': ['test/stores/create.test.ts'],
  'src/stores/s3-settings.ts': ['test/stores/s3.test.ts', 'test/stores/create.test.ts'],
  'src/stores/types.ts': ['test/stores/memory.test.ts'],
  'src/stored-credentials.ts': ['test/credentials.test.ts'],
  'src/testing/browser.ts': ['test/http/sign-in.test.ts'],
  'src/testing/contract.ts': [
    'test/stores/memory.test.ts',
    'test/stores/file.test.ts',
    'test/stores/s3.test.ts',
  ],
  'src/testing/counting-backend.ts': ['examples/round-trips.test.ts'],
  'src/testing/google-provider-types.ts': ['examples/testing/local-google.test.ts'],
  'src/testing/google-provider.ts': ['test/refresh/manager.test.ts', 'examples/testing/local-google.test.ts'],
  'src/testing/tls-server.ts': ['test/mcp-auth/client-metadata.test.ts'],
};

/** The relative module specifiers `text` imports or re-exports from, type-only ones included. */
function relativeImports(text: string): string[] {
  return [...text.matchAll(/^(?:import|export)\s+[^;]*?from\s+'(\.[^']+)'/gms)].map(
    ([, target = '']) => target,
  );
}

describe('source layout', () => {
  const sources = filesUnder('src', '.ts').filter((path) => !path.endsWith('/index.ts'));

  it('every source file has test/<same path>.test.ts, or names the suites that test it', () => {
    const missing = sources.filter(
      (path) =>
        !existsSync(join(root, path.replace(/^src\//, 'test/').replace(/\.ts$/, '.test.ts'))) &&
        !COVERED_BY[path],
    );
    expect(missing).toEqual([]);
  });

  it('the named suites exist, and no entry is stale (a file that now has its own test, or is gone)', () => {
    const problems: string[] = [];
    for (const [source, suites] of Object.entries(COVERED_BY)) {
      if (!sources.includes(source)) problems.push(`${source} is gone`);
      if (existsSync(join(root, source.replace(/^src\//, 'test/').replace(/\.ts$/, '.test.ts')))) {
        problems.push(`${source} has its own test now`);
      }
      for (const suite of suites)
        if (!existsSync(join(root, suite))) problems.push(`${suite} does not exist`);
    }
    expect(problems).toEqual([]);
  });

  it('src has no import cycle, type-only imports included (what `madge --circular` checks)', () => {
    const graph = new Map<string, string[]>();
    for (const path of filesUnder('src', '.ts')) {
      const text = readFileSync(join(root, path), 'utf8');
      const imports: string[] = [];
      for (const target of relativeImports(text)) {
        imports.push(relative(root, resolve(dirname(join(root, path)), target.replace(/\.js$/, '.ts'))));
      }
      graph.set(path, imports);
    }
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (node: string) => {
      state.set(node, 'open');
      stack.push(node);
      for (const next of graph.get(node) ?? []) {
        if (!graph.has(next)) continue;
        if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next].join(' -> '));
        else if (state.get(next) === undefined) visit(next);
      }
      stack.pop();
      state.set(node, 'done');
    };
    for (const node of graph.keys()) if (state.get(node) === undefined) visit(node);
    expect(cycles).toEqual([]);
  });

  it('imports go down the layers only: core -> stores -> session and refresh -> HTTP, adapters, CLI', () => {
    // Layer 0: the record, errors, ids, clock, logger, secrets and internal helpers; 1: stores and
    // encryption; 2: sessions and refresh; 3: the rest (HTTP core, MCP authorization, adapters, CLI,
    // telemetry, testing, entry points). `internal/seal.ts` seals HTTP cookies with a server secret
    // or the encrypted store's keyring, so it sits above the keyring. Type-only imports count too.
    const core = new Set([
      'credentials.ts',
      'stored-credentials.ts',
      'errors.ts',
      'clock.ts',
      'logger.ts',
      'user-id.ts',
      'secrets.ts',
      'auth-info.ts',
    ]);
    const layerOf = (path: string): number => {
      const inSrc = path.replace(/^src\//, '');
      const top = inSrc.split('/')[0] ?? '';
      if (!inSrc.includes('/')) return core.has(inSrc) ? 0 : 3;
      if (inSrc === 'internal/seal.ts') return 2;
      if (top === 'internal') return 0;
      if (top === 'stores' || top === 'encryption') return 1;
      if (top === 'session' || top === 'refresh') return 2;
      return 3;
    };
    const upward: string[] = [];
    for (const path of filesUnder('src', '.ts')) {
      for (const target of relativeImports(readFileSync(join(root, path), 'utf8'))) {
        const imported = relative(root, resolve(dirname(join(root, path)), target.replace(/\.js$/, '.ts')));
        if (layerOf(imported) > layerOf(path)) upward.push(`${path} -> ${imported}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('nothing in examples/ imports the test suite', () => {
    const offenders = filesUnder('examples', '.ts').filter((path) =>
      /from '(\.\.\/)+test\//.test(readFileSync(join(root, path), 'utf8')),
    );
    expect(offenders).toEqual([]);
  });
});
