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
