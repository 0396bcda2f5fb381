/**
 * `npm run demo` in MCP authorization mode, with each store: the official MCP SDK client logs in by
 * itself through the example server (consent page included) and the Google-like provider. The
 * attacks and edge cases are in `test/mcp-auth/`.
 */
import { describe, expect, it } from 'vitest';
import { runDemo } from './demo.js';

describe('npm run demo, MCP authorization mode', () => {
  for (const store of ['file', 's3'] as const) {
    it(`passes every step with the ${store} store`, async () => {
      const steps = await runDemo({ store, mode: 'oauth', report: () => {} });
      expect(steps.filter((step) => !step.ok)).toEqual([]);
      expect(steps).toHaveLength(7);
    }, 60_000);
  }
});
