/**
 * Copying a record into a store without losing anything: what `migrate` and `import` decide per
 * user. A record that can be refreshed beats one that cannot, then the newer wins; an identical one
 * is left alone. Writes are compare-and-swap (only-if-absent for new users).
 *
 * @module
 */
import { isDeepStrictEqual } from 'node:util';
import type { StoredCredentials } from '../../credentials.js';
import { CredentialError, isCredentialError } from '../../errors.js';
import { compareAndSwap } from '../../internal/retry.js';
import type { CredentialStore } from '../../stores/types.js';

/** What happened to one user. */
export type CopyOutcome = 'migrated' | 'updated' | 'unchanged' | 'kept-newer' | 'kept-refreshable';

/** Every outcome, for summaries that print each count. */
export const COPY_OUTCOMES: readonly CopyOutcome[] = [
  'migrated',
  'updated',
  'unchanged',
  'kept-newer',
  'kept-refreshable',
];

/** A decision and, when a refresh token decided it, why. */
export interface CopyDecision {
  outcome: CopyOutcome;
  note?: string;
}

/** Decides between the incoming record and the one at the destination. */
export function decide(incoming: StoredCredentials, existing: StoredCredentials | undefined): CopyDecision {
  if (existing === undefined) return { outcome: 'migrated' };
  if (isDeepStrictEqual(existing, incoming)) return { outcome: 'unchanged' };
  const incomingRefreshable = incoming.refreshToken !== undefined;
  const existingRefreshable = existing.refreshToken !== undefined;
  if (incomingRefreshable && !existingRefreshable) {
    return { outcome: 'updated', note: 'the destination had no refresh token' };
  }
  if (existingRefreshable && !incomingRefreshable) {
    return {
      outcome: 'kept-refreshable',
      note: 'the source has no refresh token; the destination’s was kept',
    };
  }
  return (incoming.expiresAt ?? 0) > (existing.expiresAt ?? 0)
    ? { outcome: 'updated' }
    : { outcome: 'kept-newer' };
}

/** Which side an error came from, and where that is: "destination (s3://bucket/...)". */
export function onSide(error: unknown, side: string): Error {
  if (isCredentialError(error)) {
    return new CredentialError(error.code, `${side}: ${error.message}`, {
      cause: error,
      ...(error.userId === undefined ? {} : { userId: error.userId }),
      ...(error.hint === undefined ? {} : { hint: error.hint }),
    });
  }
  return error instanceof Error
    ? new Error(`${side}: ${error.message}`)
    : new Error(`${side}: ${String(error)}`);
}

/** Writes `record` to `target` as {@link decide} says; retries a lost compare-and-swap twice. */
export async function copyInto(
  target: CredentialStore,
  userId: string,
  record: StoredCredentials,
  options: { dryRun: boolean; side: string },
): Promise<CopyDecision> {
  try {
    // isCredentialError, not instanceof: the target may be a store built against another copy of the package.
    return await compareAndSwap(
      { retries: 2, isConflict: (error) => isCredentialError(error, 'CONFLICT') },
      async () => {
        const existing = await target.get(userId);
        const decision = decide(record, existing?.credentials);
        if (options.dryRun || (decision.outcome !== 'migrated' && decision.outcome !== 'updated'))
          return decision;
        await target.put(userId, record, { ifVersion: existing ? existing.version : null });
        return decision;
      },
    );
  } catch (error) {
    throw onSide(error, options.side);
  }
}
