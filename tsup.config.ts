import { defineConfig, type Options } from 'tsup';

// Every entry point of the library. `cli` and `testing` are ESM only: the CLI uses top-level await,
// and the contract suite needs vitest, which is ESM only.
const library = {
  index: 'src/index.ts',
  manager: 'src/manager/index.ts',
  session: 'src/session/index.ts',
  http: 'src/http/index.ts',
  s3: 'src/s3/index.ts',
  redis: 'src/redis/index.ts',
  postgres: 'src/postgres/index.ts',
  dynamodb: 'src/dynamodb/index.ts',
  otel: 'src/otel/index.ts',
  local: 'src/local/index.ts',
  express: 'src/express/index.ts',
  'sdk-v1': 'src/sdk-v1/index.ts',
  'sdk-v2': 'src/sdk-v2/index.ts',
  hono: 'src/hono/index.ts',
};

const shared: Options = {
  target: 'node20',
  platform: 'node',
  // Source maps point into src/, which is not shipped: none rather than maps to missing files.
  sourcemap: false,
  treeshake: true,
  // One build per format with code splitting: every class exists once per format (the CLI shares
  // the library's chunks), and lazily loaded modules (the S3 store) are chunks of their own.
  splitting: true,
  // Peers stay imports, never bundled into dist.
  external: [
    /^vitest/,
    'oauth2-mock-server',
    /^@aws-sdk\//,
    /^@smithy\//,
    'ioredis',
    'pg',
    /^@opentelemetry\//,
    'open',
    'express',
    /^@modelcontextprotocol\//,
    /^google-auth-library/,
  ],
};

export default defineConfig([
  {
    ...shared,
    entry: { ...library, testing: 'src/testing/index.ts', cli: 'src/cli/index.ts' },
    format: ['esm'],
    dts: { entry: { ...library, testing: 'src/testing/index.ts' } },
    clean: true,
  },
  {
    ...shared,
    entry: library,
    format: ['cjs'],
    dts: { entry: library },
    clean: false,
  },
]);
