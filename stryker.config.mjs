// StrykerJS over the security and storage core (`npm run mutation`, see docs/mutation-testing.md).
// Runs on Node >= 22 (Stryker's own requirement); `scripts/mutation.mjs` finds or installs one.
/** The files whose mutation score is tracked in reports/MUTATION.md. */
export const CORE = [
  'src/credentials.ts',
  'src/stores/file.ts',
  'src/stores/file-lock.ts',
  'src/stores/file-io.ts',
  'src/stores/file-trust.ts',
  'src/stores/file-errors.ts',
  'src/stores/file-legacy-names.ts',
  'src/stores/s3.ts',
  'src/stores/aws-errors.ts',
  'src/stores/observe.ts',
  'src/stores/encrypted.ts',
  'src/stores/postgres.ts',
  'src/stores/dynamodb.ts',
  'src/internal/seal.ts',
  'src/internal/record-shape.ts',
  'src/session/session-store.ts',
  'src/session/oauth-state.ts',
  'src/session/input.ts',
  'src/session/verified-tokens.ts',
  'src/session/memory-backend.ts',
  'src/session/redis-backend.ts',
  'src/session/request-reads.ts',
  'src/session/views.ts',
  'src/refresh/manager.ts',
  'src/refresh/authorization.ts',
  'src/refresh/provider-client.ts',
  'src/refresh/provider-errors.ts',
  'src/refresh/options.ts',
  'src/refresh/credentials-cache.ts',
  'src/refresh/service-cache.ts',
  'src/refresh/id-token.ts',
  'src/internal/retry.ts',
  'src/mcp-auth/authorization-server.ts',
  'src/mcp-auth/token-families.ts',
  'src/mcp-auth/clients.ts',
  'src/mcp-auth/consent.ts',
  'src/mcp-auth/consent-step.ts',
  'src/mcp-auth/client-metadata.ts',
  'src/http/sign-in-handlers.ts',
  'src/http/google-sign-in.ts',
  'src/http/mcp-session-guard.ts',
  'src/http/tool-auth.ts',
  'src/http/cookies.ts',
];

const only = process.env.MUTATE_FILES?.split(',').filter(Boolean);

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: { configFile: 'vitest.mutation.config.ts' },
  coverageAnalysis: 'perTest',
  mutate: only ?? CORE,
  // String literals are messages and log text: their mutants say nothing about a guard.
  mutator: { excludedMutations: ['StringLiteral'] },
  ignoreStatic: true,
  incremental: true,
  // MUTATION_FORCE=1: re-test every mutant of the files mutated (a test tightened in place is not seen
  // as a change by the incremental differ; see docs/mutation-testing.md).
  force: process.env.MUTATION_FORCE === '1',
  incrementalFile: 'reports/stryker-incremental.json',
  reporters: ['json', 'progress'],
  jsonReporter: { fileName: 'reports/mutation.json' },
  concurrency: Number(process.env.MUTATION_CONCURRENCY ?? 2),
  timeoutMS: 10_000,
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
