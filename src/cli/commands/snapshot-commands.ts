/**
 * `export` and `import`: whole-store snapshots (see `../snapshot.ts` for the format), both streamed
 * in bounded batches, so memory does not grow with the number of users.
 *
 * @module
 */
import { parseStoredCredentials } from '../../credentials.js';
import { CorruptCredentialsError, InvalidInputError } from '../../errors.js';
import { EncryptedCredentialStore } from '../../stores/encrypted.js';
import { MemoryCredentialStore } from '../../stores/memory.js';
import { normaliseUserId } from '../../user-id.js';
import { UsageError } from '../args.js';
import { inBatches, sortedIds } from '../batch.js';
import { type Context, displaySpec } from '../context.js';
import { isFatal, summarise, type UserResult } from '../report.js';
import {
  openSnapshotWriter,
  parseSnapshotHeader,
  parseSnapshotTrailer,
  readSnapshotLines,
  SNAPSHOT_FORMAT,
  SnapshotDigest,
  snapshotExists,
} from '../snapshot.js';
import { COPY_OUTCOMES, copyInto } from './copy.js';

export async function exportSnapshot(context: Context): Promise<number> {
  const { to } = context.options;
  if (!to) throw new UsageError('export needs --to <file|s3://bucket/key>', 'export');
  const keyring = context.requireKeyring('export');
  if (!context.options.force && (await snapshotExists(to, context.options.s3))) {
    throw new UsageError(`${to} exists: pass --force to overwrite it`, 'export');
  }
  const sealer = new EncryptedCredentialStore(new MemoryCredentialStore(), { keyring });
  const store = await context.open(context.options.store);
  const users = await sortedIds(store.list());
  const writer = await openSnapshotWriter(to, context.options.s3);
  const header = {
    format: SNAPSHOT_FORMAT,
    version: 2,
    createdAt: new Date().toISOString(),
    keyId: keyring.primaryKey().id,
  };
  const digest = new SnapshotDigest();
  const results: UserResult[] = [];
  try {
    await writer.write(JSON.stringify(header));
    await inBatches(
      users,
      { concurrency: context.options.concurrency, progress: context.progress('exporting', users.length) },
      async (userId) => {
        const entry = await store.get(userId);
        return (
          entry && JSON.stringify({ user: userId, record: await sealer.seal(userId, entry.credentials) })
        );
      },
      async (userId, outcome) => {
        if (outcome.error) {
          if (isFatal(outcome.error)) throw outcome.error;
          results.push({ userId, error: outcome.error });
        } else if (outcome.result === undefined) {
          results.push({ userId, outcome: 'gone', note: 'removed while exporting' });
        } else {
          await writer.write(outcome.result);
          digest.add(outcome.result);
          results.push({ userId, outcome: 'exported' });
        }
      },
    );
    await writer.write(JSON.stringify(digest.trailer()));
    await writer.close();
  } catch (error) {
    await writer.abort();
    throw error;
  }
  return summarise(context, 'export', ['exported', 'gone'], results, {
    to,
    keyId: header.keyId,
    exported: digest.count,
    digest: digest.trailer().digest,
  });
}

/** The whole snapshot read once, without writing anything: header, line count, digest, trailer. */
async function verify(context: Context, from: string) {
  const digest = new SnapshotDigest();
  let header: ReturnType<typeof parseSnapshotHeader> | undefined;
  let last: string | undefined;
  for await (const line of readSnapshotLines(from, context.options.s3)) {
    if (header === undefined) {
      header = parseSnapshotHeader(line);
      continue;
    }
    if (last !== undefined) digest.add(last);
    last = line;
  }
  if (header === undefined) parseSnapshotHeader(undefined);
  const trailer = last === undefined ? undefined : parseSnapshotTrailer(last);
  if (trailer === undefined && last !== undefined) digest.add(last);
  const expected = digest.trailer();
  const problem =
    header!.version === 1
      ? 'it predates trailers (version 1): its completeness cannot be checked'
      : trailer === undefined
        ? 'its trailer is missing (the snapshot was cut short)'
        : trailer.count !== expected.count
          ? `its trailer says ${trailer.count} users, it holds ${expected.count} (lines were removed or added)`
          : trailer.digest !== expected.digest
            ? 'its records do not match the trailer’s digest (changed, reordered, removed or added)'
            : undefined;
  return { header: header!, problem, count: expected.count };
}

export async function importSnapshot(context: Context): Promise<number> {
  const { from } = context.options;
  if (!from) throw new UsageError('import needs --from <file|s3://bucket/key>', 'import');
  const keyring = context.requireKeyring('import');
  const checked = await verify(context, from);
  if (checked.problem !== undefined) {
    if (!context.options.allowPartial) {
      throw new CorruptCredentialsError(`refusing to import ${from}: ${checked.problem}`, {
        hint: 'pass --allow-partial to import the users it holds anyway',
      });
    }
    context.warn(`warning: importing ${from} although ${checked.problem} (--allow-partial)`);
  }
  const opener = new EncryptedCredentialStore(new MemoryCredentialStore(), { keyring });
  const store = await context.open(context.options.store, true);
  const side = `destination (${displaySpec(context.options.store)})`;
  const results: UserResult[] = [];
  let lineNumber = 1;
  async function* records() {
    let first = true;
    for await (const line of readSnapshotLines(from!, context.options.s3)) {
      lineNumber += first ? 0 : 1;
      if (first) {
        first = false;
        continue;
      }
      if (parseSnapshotTrailer(line)) continue;
      yield { line, number: lineNumber };
    }
  }
  await inBatches(
    records(),
    {
      concurrency: context.options.concurrency,
      batchSize: 100,
      progress: context.progress('importing', checked.count),
    },
    async ({ line, number }) => {
      let parsed: { user?: unknown; record?: unknown };
      try {
        parsed = JSON.parse(line) as { user?: unknown; record?: unknown };
      } catch {
        throw Object.assign(new InvalidInputError(`line ${number} is not valid JSON`), { line: number });
      }
      const userId = normaliseUserId(parsed.user);
      const record = await opener.open(userId, parseStoredCredentials(parsed.record, userId));
      if (record.userId !== userId)
        throw new InvalidInputError(`the snapshot line for ${userId} names another user`);
      return { userId, decision: await copyInto(store, userId, record, { dryRun: false, side }) };
    },
    ({ number }, outcome) => {
      if (outcome.error) {
        if (isFatal(outcome.error) && results.length === 0) throw outcome.error;
        const userId = /credentials for (\S+)/.exec(outcome.error.message)?.[1] ?? `line ${number}`;
        results.push({ userId, error: outcome.error });
      } else {
        results.push({ userId: outcome.result.userId, ...outcome.result.decision });
      }
    },
  );
  return summarise(context, 'import', COPY_OUTCOMES, results, {
    from,
    keyId: checked.header.keyId,
    complete: checked.problem === undefined,
  });
}
