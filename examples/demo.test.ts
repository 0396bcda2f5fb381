/**
 * `npm run demo` as a test: every stack (SDK v1 + Express, SDK v2 + Express, SDK v2 + Hono), each
 * driven by its matching official MCP client, in both modes, with each store.
 */
import { describe, expect, it } from 'vitest';
import { runDemo, STACKS, type Stack } from './demo.js';

for (const stack of Object.keys(STACKS) as Stack[]) {
  describe(`npm run demo: ${STACKS[stack].label}`, () => {
    for (const store of ['file', 's3'] as const) {
      it(`bearer mode passes every step with the ${store} store`, async () => {
        const steps = await runDemo({ store, mode: 'bearer', stack, report: () => {} });
        expect(steps.filter((step) => !step.ok)).toEqual([]);
        expect(steps).toHaveLength(8);
      }, 60_000);
      it(`MCP authorization passes every step with the ${store} store`, async () => {
        const steps = await runDemo({ store, mode: 'oauth', stack, report: () => {} });
        expect(steps.filter((step) => !step.ok)).toEqual([]);
        expect(steps).toHaveLength(7);
      }, 60_000);
    }
  });
}

describe('npm run demo with arguments it does not take', () => {
  it('prints the usage line and exits 2, for a positional argument or an unknown store', async () => {
    const { spawnSync } = await import('node:child_process');
    for (const args of [['s3'], ['--store', 'redis']]) {
      const run = spawnSync(process.execPath, ['--import', 'tsx', 'examples/demo.ts', ...args], {
        encoding: 'utf8',
      });
      expect(run.status).toBe(2);
      expect(run.stderr).toContain('usage: npm run demo [-- --store file|s3]');
      expect(run.stderr).not.toContain('ERR_PARSE_ARGS');
    }
  }, 60_000);
});
