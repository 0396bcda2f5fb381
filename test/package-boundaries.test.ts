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

const PEERS = {
  'the AWS SDK': ['/node_modules/@aws-sdk/', '/node_modules/@smithy/'],
  ioredis: ['/node_modules/ioredis/'],
  pg: ['/node_modules/pg/', '/node_modules/pg-pool/'],
  OpenTelemetry: ['/node_modules/@opentelemetry/'],
  express: ['/node_modules/express/'],
  'an MCP SDK': ['/node_modules/@modelcontextprotocol/'],
  'google-auth-library': ['/node_modules/google-auth-library/', '/node_modules/gaxios/'],
};

function loadedPeers(entry: string): string[] {
  const loaded = modulesLoadedBy(entry);
  expect(loaded.some((url) => url.includes(`/${entry}`))).toBe(true);
  return Object.entries(PEERS)
    .filter(([, parts]) => loaded.some((url) => parts.some((part) => url.includes(part))))
    .map(([name]) => name);
}

describe('package boundaries: what each entry point loads', () => {
  it('the root loads no peer at all (no AWS SDK, ioredis, pg, express, MCP SDK or google-auth-library)', () => {
    expect(loadedPeers('src/index.ts')).toEqual([]);
  });

  it('the session store, the Redis and PostgreSQL entry points and the HTTP core load no peer', () => {
    expect(loadedPeers('src/session/index.ts')).toEqual([]);
    expect(loadedPeers('src/redis/index.ts')).toEqual([]);
    expect(loadedPeers('src/postgres/index.ts')).toEqual([]);
    expect(loadedPeers('src/http/index.ts')).toEqual([]);
  });

  it('the Express and Hono adapters load no framework and no MCP SDK at import', () => {
    expect(loadedPeers('src/express/index.ts')).toEqual([]);
    expect(loadedPeers('src/hono/index.ts')).toEqual([]);
    expect(loadedPeers('src/local/index.ts')).toEqual([]);
  });

  it('the manager loads google-auth-library, the s3 store the AWS SDK, sdk-v1 the MCP SDK (so the checks above can fail)', () => {
    expect(loadedPeers('src/manager/index.ts')).toEqual(['google-auth-library']);
    expect(loadedPeers('src/s3/index.ts')).toEqual(['the AWS SDK']);
    expect(loadedPeers('src/dynamodb/index.ts')).toEqual(['the AWS SDK']);
    expect(loadedPeers('src/otel/index.ts')).toEqual(['OpenTelemetry']);
    expect(loadedPeers('src/sdk-v1/index.ts')).toEqual(['an MCP SDK']);
    expect(loadedPeers('src/sdk-v2/index.ts')).toEqual(['an MCP SDK']);
  });
});
