/**
 * The schema helper's race handling, with a scripted query runner: the 42710 ordering of two
 * replicas creating one table (the other's commit lands between PostgreSQL's relation check and
 * its row-type check) cannot be forced on a real server; test/stores/postgres.test.ts covers the
 * real race that can be (23505 while the other transaction is open).
 */
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/errors.js';
import { createTableIfMissing, type PgResult } from '../../src/stores/postgres-client.js';

function pgError(code: string): Error {
  return Object.assign(new Error(`simulated ${code}`), { code });
}

/** A runner whose table appears after the CREATE when `tableAfterDdl` says so; `ddlError` is what the CREATE throws. */
function scriptedRunner(ddlError: Error | undefined, tableAfterDdl: boolean) {
  let tableThere = false;
  const statements: string[] = [];
  const run = async <Row>(text: string): Promise<PgResult<Row>> => {
    statements.push(text.startsWith('SELECT') ? 'check' : 'create');
    if (text.startsWith('SELECT'))
      return { rows: [{ found: tableThere ? 'creds' : null } as Row], rowCount: 1 };
    tableThere = tableAfterDdl;
    if (ddlError) throw ddlError;
    return { rows: [], rowCount: 0 };
  };
  return { run, statements };
}

describe('createTableIfMissing', () => {
  const ddl = 'CREATE TABLE IF NOT EXISTS "creds" ()';

  it.each(['23505', '42P07', '42710'])(
    'treats a lost creation race (%s) as success once the table is there',
    async (code) => {
      const { run, statements } = scriptedRunner(pgError(code), true);
      await expect(createTableIfMissing(run, '"creds"', ddl)).resolves.toBeUndefined();
      expect(statements).toEqual(['check', 'create', 'check']);
    },
  );

  it.each(['23505', '42P07', '42710'])(
    'reports a duplicate (%s) with no table after it as a ConfigurationError',
    async (code) => {
      const { run } = scriptedRunner(pgError(code), false);
      const error = await createTableIfMissing(run, '"creds"', ddl).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as ConfigurationError).message).toBe('PostgreSQL "creds" exists but is not a table');
    },
  );

  it('reports a CREATE that IF NOT EXISTS skipped (another kind of object has the name) the same way', async () => {
    const { run, statements } = scriptedRunner(undefined, false);
    await expect(createTableIfMissing(run, '"creds"', ddl)).rejects.toBeInstanceOf(ConfigurationError);
    expect(statements).toEqual(['check', 'create', 'check']);
  });

  it('rethrows any other failure without a second look', async () => {
    const error = pgError('42501');
    const { run, statements } = scriptedRunner(error, true);
    await expect(createTableIfMissing(run, '"creds"', ddl)).rejects.toBe(error);
    expect(statements).toEqual(['check', 'create']);
  });

  it('creates once, then skips the CREATE while the table exists', async () => {
    const { run, statements } = scriptedRunner(undefined, true);
    await createTableIfMissing(run, '"creds"', ddl);
    await createTableIfMissing(run, '"creds"', ddl);
    expect(statements).toEqual(['check', 'create', 'check', 'check']);
  });
});
