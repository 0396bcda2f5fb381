/**
 * The database engines the benchmark runs against, started on 127.0.0.1 by the benchmark itself:
 * the distribution's PostgreSQL where installed (else PGlite, which runs one query at a time), and
 * dynalite for DynamoDB.
 */
import { startDynalite } from '../test/support/aws-emulators.js';
import { startPglite, startSystemPostgres } from '../test/support/postgres-server.js';

export async function startBenchPostgres(): Promise<{ name: string; url: string; stop(): Promise<void> }> {
  const system = await startSystemPostgres();
  if ('url' in system) return { name: 'Debian PostgreSQL server', ...system };
  const pglite = await startPglite();
  return { name: `PGlite (${system.skipped})`, ...pglite };
}

export { startDynalite };
