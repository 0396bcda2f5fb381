// Runs the built CLI in this process (argv after this script's name) and reports its peak resident
// memory on stderr as the last line: {"maxRssKiB": n, "exitCode": n}.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

process.on('exit', (code) => {
  process.stderr.write(
    `\n${JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS, exitCode: code })}\n`,
  );
});
await import(pathToFileURL(resolve('dist/cli.js')).href);
