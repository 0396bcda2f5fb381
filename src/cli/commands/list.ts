/**
 * `list` and `show`: what is stored for each user, never a token.
 *
 * @module
 */

import type { StoredCredentials } from '../../credentials.js';
import { NotFoundError } from '../../errors.js';
import { normaliseUserId } from '../../user-id.js';
import { EXIT } from '../args.js';
import { inBatches, sortedIds } from '../batch.js';
import type { Context } from '../context.js';
import { type ErrorReport, errorReport, isFatal } from '../report.js';

/** A user's status: usable as is, usable after a refresh, not refreshable, unreadable. */
export type UserStatus = 'ok' | 'expired' | 'no-refresh-token' | 'corrupt' | 'error';

const STATUSES: readonly UserStatus[] = ['ok', 'expired', 'no-refresh-token', 'corrupt', 'error'];

/** One user as `list` and `show` print it. */
export interface UserRow {
  user: string;
  status: UserStatus;
  expiresAt: string | null;
  hasRefreshToken: boolean | null;
  scopes: string[];
  error?: ErrorReport;
}

/** The row of a record: `no-refresh-token` wins (it cannot be refreshed), then `expired`, else `ok`. */
export function rowOf(userId: string, credentials: StoredCredentials, now = Date.now()): UserRow {
  const expired = credentials.expiresAt !== undefined && credentials.expiresAt <= now;
  return {
    user: userId,
    status: credentials.refreshToken === undefined ? 'no-refresh-token' : expired ? 'expired' : 'ok',
    expiresAt: credentials.expiresAt === undefined ? null : new Date(credentials.expiresAt).toISOString(),
    hasRefreshToken: credentials.refreshToken !== undefined,
    scopes: [...credentials.scopes],
  };
}

function errorRow(userId: string, error: Error): UserRow {
  const report = errorReport(error);
  return {
    user: userId,
    status: report.code === 'CORRUPT' ? 'corrupt' : 'error',
    expiresAt: null,
    hasRefreshToken: null,
    scopes: [],
    error: report,
  };
}

/** A table; an error goes on its own line under its row, not into a column. */
function printTable(context: Context, rows: UserRow[]): void {
  const cells = rows.map((r) => [
    r.user,
    r.status,
    r.expiresAt ?? '-',
    r.hasRefreshToken === null ? '-' : r.hasRefreshToken ? 'yes' : 'no',
    r.scopes.join(' '),
  ]);
  const header = ['USER', 'STATUS', 'EXPIRES', 'REFRESH', 'SCOPES'];
  const widths = header.map((title, i) => Math.max(title.length, ...cells.map((line) => line[i]!.length)));
  const format = (line: string[]) =>
    line
      .map((cell, i) => (i === line.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  context.print(format(header));
  rows.forEach((r, i) => {
    context.print(format(cells[i]!));
    if (r.error)
      context.print(
        `    ! ${r.error.code}: ${r.error.message}${r.error.hint ? ` (hint: ${r.error.hint})` : ''}`,
      );
  });
}

export async function list(context: Context): Promise<number> {
  const store = await context.open(context.options.store);
  const users = await sortedIds(store.list());
  const rows: UserRow[] = [];
  await inBatches(
    users,
    { concurrency: context.options.concurrency, progress: context.progress('reading', users.length) },
    async (userId) => (await store.get(userId))?.credentials,
    (userId, outcome) => {
      if (outcome.error && isFatal(outcome.error)) throw outcome.error;
      if (outcome.error) rows.push(errorRow(userId, outcome.error));
      else if (outcome.result) rows.push(rowOf(userId, outcome.result));
      // gone while listing: not shown
    },
  );
  const counts = Object.fromEntries(
    STATUSES.map((status) => [status, rows.filter((r) => r.status === status).length]),
  );
  if (context.options.json) context.emitJson({ total: rows.length, counts, users: rows });
  else {
    printTable(context, rows);
    context.print(
      `\n${rows.length} users: ${STATUSES.map((status) => `${counts[status]} ${status}`).join(', ')}`,
    );
  }
  return rows.some((r) => r.status === 'corrupt' || r.status === 'error') ? EXIT.partial : EXIT.ok;
}

export async function show(context: Context, rawUserId: string): Promise<number> {
  const userId = normaliseUserId(rawUserId);
  const store = await context.open(context.options.store);
  let row: UserRow;
  try {
    const entry = await store.get(userId);
    if (!entry) throw new NotFoundError(`no credentials stored for ${userId}`, { userId });
    row = rowOf(userId, entry.credentials);
  } catch (error) {
    if (isFatal(error) || error instanceof NotFoundError) throw error;
    row = errorRow(userId, error as Error);
  }
  if (context.options.json) context.emitJson(row);
  else printTable(context, [row]);
  return row.error ? EXIT.partial : EXIT.ok;
}

export async function remove(context: Context, rawUserId: string): Promise<number> {
  const userId = normaliseUserId(rawUserId);
  const store = await context.open(context.options.store);
  if (!(await store.delete(userId)))
    throw new NotFoundError(`no credentials stored for ${userId}`, { userId });
  if (context.options.json) context.emitJson({ user: userId, deleted: true });
  else context.print(`deleted ${userId}`);
  return EXIT.ok;
}
