// Loads one module and prints, as JSON, every module URL the load resolved. Used to prove that the
// package root does not load the AWS SDK, Redis, Express or the MCP SDK's server stack.
//   node [--import tsx] test/support/import-probe.mjs <path to module>
import { createRequire, register } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MessageChannel } from 'node:worker_threads';

const target = resolve(process.argv[2]);
const seen = new Set();
if (target.endsWith('.cjs')) {
  const require = createRequire(import.meta.url);
  require(target);
  for (const key of Object.keys(require.cache)) seen.add(pathToFileURL(key).href);
} else {
  const { port1, port2 } = new MessageChannel();
  port1.on('message', (url) => seen.add(url));
  register('./import-probe-hook.mjs', import.meta.url, { data: { port: port2 }, transferList: [port2] });
  await import(pathToFileURL(target).href);
  // Let the hook thread's last messages arrive.
  await new Promise((done) => setTimeout(done, 100));
  port1.close();
}
process.stdout.write(JSON.stringify([...seen].sort()));
