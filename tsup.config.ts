import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    s3: 'src/s3/index.ts',
    redis: 'src/redis/index.ts',
    express: 'src/express/index.ts',
    testing: 'src/testing/index.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  splitting: true,
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
});
