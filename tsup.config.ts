import { defineConfig, type Options } from 'tsup';

const shared: Options = {
  target: 'node20',
  platform: 'node',
  sourcemap: true,
  treeshake: true,
  // Peers and the package's own subpaths stay imports: never bundled into dist.
  external: [
    /^vitest/,
    /^@aws-sdk\//,
    /^@smithy\//,
    'ioredis',
    'express',
    /^@modelcontextprotocol\/sdk/,
    /^google-auth-library/,
    /^mcp-oauth-credentials/,
  ],
};

export default defineConfig([
  {
    ...shared,
    entry: {
      index: 'src/index.ts',
      s3: 'src/s3/index.ts',
      http: 'src/http/index.ts',
      redis: 'src/redis/index.ts',
      express: 'src/express/index.ts',
      testing: 'src/testing/index.ts',
    },
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    splitting: true,
  },
  {
    // The command line tool: ESM only (top-level await), no types.
    ...shared,
    entry: { cli: 'src/cli/index.ts' },
    format: ['esm'],
    dts: false,
    clean: false,
    splitting: false,
  },
]);
