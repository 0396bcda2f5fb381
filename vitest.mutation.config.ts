// The test configuration StrykerJS runs (`npm run mutation`, on Node >= 22). It leaves out the tests
// that cannot see instrumented code (the CLI runs from a build, in its own process) and the SQLite
// example, whose native module is built for the Node that installed it.
import { configDefaults, defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.js';

export default mergeConfig(
  base,
  defineConfig({
    test: { exclude: [...configDefaults.exclude, 'test/cli/**', 'examples/custom-store/**'] },
  }),
);
