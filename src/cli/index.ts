#!/usr/bin/env node
/**
 * The `mcp-oauth-credentials` command. See `mcp-oauth-credentials --help`.
 *
 * @module
 */

// The AWS SDK warns on every run under Node 20 about its future Node 22 requirement; this is the
// switch it documents for turning that off. The supported Node versions are stated in --help.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

try {
  const { runCli } = await import('./run.js');
  process.exitCode = await runCli(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
  });
} catch (error) {
  // Never 1 ("some users failed") for a crash.
  process.stderr.write(
    `internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 70;
}
