import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url);

describe('README', () => {
  it('shows examples/readme/quickstart.ts verbatim (that file is type-checked), in at most 30 lines', async () => {
    const readme = await readFile(new URL('README.md', root), 'utf8');
    const snippet = await readFile(new URL('examples/readme/quickstart.ts', root), 'utf8');
    const block = /<!-- snippet: examples\/readme\/quickstart\.ts -->\s*```ts\n([\s\S]*?)```/.exec(
      readme,
    )?.[1];
    expect(block).toBe(snippet);
    expect(snippet.trimEnd().split('\n').length).toBeLessThanOrEqual(30);
  });

  it('docs/testing.md shows examples/testing/local-google.test.ts verbatim (that file runs in npm test)', async () => {
    const page = await readFile(new URL('docs/testing.md', root), 'utf8');
    const snippet = await readFile(new URL('examples/testing/local-google.test.ts', root), 'utf8');
    const block = /<!-- snippet: examples\/testing\/local-google\.test\.ts -->\s*```ts\n([\s\S]*?)```/.exec(
      page,
    )?.[1];
    expect(block).toBe(snippet);
  });

  it('gives the set-up commands', async () => {
    const readme = await readFile(new URL('README.md', root), 'utf8');
    expect(readme).toMatch(/```sh\nnpm install\nnpm test\nnpm run demo\n```/);
  });
});
