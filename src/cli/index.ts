#!/usr/bin/env node
/**
 * The `mcp-oauth-credentials` command. See `mcp-oauth-credentials --help`.
 *
 * @module
 */
import { runCli } from './run.js';

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});
