/**
 * `migrate` and `rotate-key`: every user of one store into another, and every record of an
 * encrypted store re-sealed under the primary key.
 *
 * @module
 */
import { EncryptedCredentialStore, type RotationOutcome } from '../../stores/encrypted.js';
import { UsageError } from '../args.js';
import { inBatches, sortedIds } from '../batch.js';
import { type Context, displaySpec } from '../context.js';
import { isFatal, summarise, type UserResult } from '../report.js';
import { COPY_OUTCOMES, copyInto, onSide } from './copy.js';

export async function migrate(context: Context): Promise<number> {
  const { from, to, dryRun } = context.options;
  if (!from || !to) throw new UsageError('migrate needs --from <spec> and --to <spec>', 'migrate');
  const sourceSide = `source (${displaySpec(from)})`;
  const targetSide = `destination (${displaySpec(to)})`;
  const source = await context.open(from);
  const target = await context.open(to, !dryRun);
  let users: string[];
  try {
    users = await sortedIds(source.list());
  } catch (error) {
    throw onSide(error, sourceSide);
  }
  const results: UserResult[] = [];
  await inBatches(
    users,
    {
      concurrency: context.options.concurrency,
      progress: context.progress(dryRun ? 'checking' : 'migrating', users.length),
    },
    async (userId) => {
      let entry: Awaited<ReturnType<typeof source.get>>;
      try {
        entry = await source.get(userId);
      } catch (error) {
        throw onSide(error, sourceSide);
      }
      if (!entry) return { outcome: 'unchanged' as const, note: 'removed from the source while migrating' };
      return copyInto(target, userId, entry.credentials, { dryRun, side: targetSide });
    },
    (userId, outcome) => {
      results.push(outcome.error ? { userId, error: outcome.error } : { userId, ...outcome.result });
    },
  );
  const fatal = results.find((result) => isFatal(result.error));
  if (fatal?.error && results.every((result) => result.error)) throw fatal.error;
  return summarise(context, dryRun ? 'migrate (dry run)' : 'migrate', COPY_OUTCOMES, results, {
    dryRun,
    from: displaySpec(from),
    to: displaySpec(to),
  });
}

const ROTATION_OUTCOMES: readonly RotationOutcome[] = ['rotated', 'current', 'missing'];

export async function rotateKey(context: Context): Promise<number> {
  const store = await context.open(context.options.store);
  if (!(store instanceof EncryptedCredentialStore)) {
    throw new UsageError('rotate-key needs an encrypted+ store (--store encrypted+<spec>)', 'rotate-key');
  }
  const users = await sortedIds(store.list());
  const results: UserResult[] = [];
  await inBatches(
    users,
    { concurrency: context.options.concurrency, progress: context.progress('rotating', users.length) },
    (userId) => store.rotateRecord(userId),
    (userId, outcome) => {
      if (outcome.error && isFatal(outcome.error) && results.length === 0) throw outcome.error;
      results.push(outcome.error ? { userId, error: outcome.error } : { userId, outcome: outcome.result });
    },
  );
  return summarise(context, 'rotate-key', ROTATION_OUTCOMES, results, {
    primaryKeyId: context.requireKeyring('rotate-key').primaryKey().id,
  });
}
