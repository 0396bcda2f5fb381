import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(`./src/${path}`, import.meta.url));

// `.ci/run` points this at another google-auth-library major (11, on Node 22) to test the peer range's
// other end.
const googleAuthLibrary = process.env.MCPOC_GOOGLE_AUTH_LIBRARY_DIR;
// Likewise for the MCP SDK: `.ci/run` tests the session store at the low end of its peer range.
const mcpSdk = process.env.MCPOC_MCP_SDK_DIR;

export default defineConfig({
  resolve: {
    // Tests, examples and the package's own lazy imports use the public entry points; point them at
    // the sources so tests never run stale builds.
    alias: [
      { find: /^mcp-oauth-credentials\/testing$/, replacement: src('testing/index.ts') },
      { find: /^mcp-oauth-credentials\/s3$/, replacement: src('s3/index.ts') },
      { find: /^mcp-oauth-credentials\/http$/, replacement: src('http/index.ts') },
      { find: /^mcp-oauth-credentials\/manager$/, replacement: src('manager/index.ts') },
      { find: /^mcp-oauth-credentials\/session$/, replacement: src('session/index.ts') },
      { find: /^mcp-oauth-credentials\/sdk-v1$/, replacement: src('sdk-v1/index.ts') },
      { find: /^mcp-oauth-credentials\/sdk-v2$/, replacement: src('sdk-v2/index.ts') },
      { find: /^mcp-oauth-credentials\/hono$/, replacement: src('hono/index.ts') },
      { find: /^mcp-oauth-credentials\/redis$/, replacement: src('redis/index.ts') },
      { find: /^mcp-oauth-credentials\/postgres$/, replacement: src('postgres/index.ts') },
      { find: /^mcp-oauth-credentials\/dynamodb$/, replacement: src('dynamodb/index.ts') },
      { find: /^mcp-oauth-credentials\/otel$/, replacement: src('otel/index.ts') },
      { find: /^mcp-oauth-credentials\/local$/, replacement: src('local/index.ts') },
      { find: /^mcp-oauth-credentials\/express$/, replacement: src('express/index.ts') },
      { find: /^mcp-oauth-credentials$/, replacement: src('index.ts') },
      ...(googleAuthLibrary ? [{ find: /^google-auth-library$/, replacement: googleAuthLibrary }] : []),
      ...(mcpSdk
        ? [{ find: /^@modelcontextprotocol\/sdk\/(.*)$/, replacement: `${mcpSdk}/dist/esm/$1` }]
        : []),
    ],
  },
  test: {
    include: ['test/**/*.test.ts', 'examples/**/*.test.ts'],
    // Type tests (`*.test-d.ts`) are checked by tsc as part of the run; they fail like any test.
    typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: 'tsconfig.json' },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    globalSetup: ['test/support/global-setup.ts'],
  },
});
