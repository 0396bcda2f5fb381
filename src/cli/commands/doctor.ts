/**
 * `doctor`: checks a store end to end and prints a verdict per check. The compare-and-swap checks
 * matter most: a store (an S3 endpoint or emulator) that ignores `If-Match` / `If-None-Match`
 * accepts every write, and replicas then overwrite each other's refreshed tokens without a word.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import type { StoredCredentials } from '../../credentials.js';
import { isCredentialError } from '../../errors.js';
import { EncryptedCredentialStore } from '../../stores/encrypted.js';
import { FileCredentialStore } from '../../stores/file.js';
import type { CredentialStore } from '../../stores/types.js';
import { EXIT } from '../args.js';
import { type Context, displaySpec } from '../context.js';
import { errorReport } from '../report.js';

/** One check's verdict. */
export interface CheckResult {
  check: string;
  status: 'pass' | 'fail' | 'skip';
  detail: string;
}

function probeRecord(userId: string, n: number): StoredCredentials {
  return {
    userId,
    accessToken: `doctor-probe-${n}`,
    refreshToken: `doctor-probe-refresh-${n}`,
    expiresAt: Date.now() + 3_600_000,
    scopes: ['openid'],
    tokenType: 'Bearer',
  };
}

async function refused(work: () => Promise<unknown>): Promise<boolean> {
  try {
    await work();
    return false;
  } catch (error) {
    if (isCredentialError(error, 'CONFLICT')) return true;
    throw error;
  }
}

/** Runs the checks in order; a failed prerequisite skips what depends on it. */
async function runChecks(context: Context, checks: CheckResult[]): Promise<void> {
  const record = (check: string, status: CheckResult['status'], detail: string) => {
    checks.push({ check, status, detail });
  };
  const fail = (check: string, error: unknown) => {
    const report = errorReport(error);
    record(check, 'fail', `${report.code}: ${report.message}${report.hint ? ` (hint: ${report.hint})` : ''}`);
  };

  let store: CredentialStore;
  try {
    store = await context.open(context.options.store);
    record('open', 'pass', `${displaySpec(context.options.store)} (${store.constructor.name})`);
  } catch (error) {
    fail('open', error);
    return;
  }

  const inner = store instanceof EncryptedCredentialStore ? store.inner : store;
  if (inner instanceof FileCredentialStore) {
    try {
      const info = await stat(inner.directory);
      const mode = (info.mode & 0o777).toString(8).padStart(3, '0');
      const ownedByUs = process.getuid === undefined || info.uid === process.getuid();
      const openToOthers = (info.mode & 0o022) !== 0;
      record(
        'directory',
        ownedByUs && !openToOthers ? 'pass' : 'fail',
        `${inner.directory}: mode ${mode}, ${ownedByUs ? 'owned by this user' : `owned by uid ${info.uid}`}${openToOthers ? ', writable by others' : ''}`,
      );
    } catch (error) {
      fail('directory', error);
    }
  }

  let firstUser: string | undefined;
  let users = 0;
  try {
    for await (const userId of store.list()) {
      firstUser ??= userId;
      users += 1;
    }
    record('list', 'pass', users === 1 ? '1 user' : `${users} users`);
  } catch (error) {
    fail('list', error);
    return;
  }

  const probe = `doctor-${randomBytes(6).toString('hex')}@mcp-oauth-credentials.invalid`;
  let written = false;
  try {
    const v1 = await store.put(probe, probeRecord(probe, 1), { ifVersion: null });
    written = true;
    const read = await store.get(probe);
    if (read?.credentials.accessToken !== 'doctor-probe-1' || read.version !== v1) {
      record('round trip', 'fail', 'the record read back differs from the one written');
    } else {
      record('round trip', 'pass', 'write (only if absent), read back the same record and version');
    }
    const absentRefused = await refused(() => store.put(probe, probeRecord(probe, 2), { ifVersion: null }));
    record(
      'only-if-absent',
      absentRefused ? 'pass' : 'fail',
      absentRefused
        ? 'a second "only if absent" write was refused'
        : 'a write that must find no record overwrote one: the store ignores If-None-Match; replicas would lose refresh tokens',
    );
    const v2 = await store.put(probe, probeRecord(probe, 3), {
      ifVersion: (await store.get(probe))!.version,
    });
    const staleRefused = await refused(() => store.put(probe, probeRecord(probe, 4), { ifVersion: v1 }));
    record(
      'compare-and-swap',
      staleRefused ? 'pass' : 'fail',
      staleRefused
        ? 'a write at a stale version was refused'
        : 'a write at a stale version succeeded: the store ignores If-Match; refreshes would not be single-flight across replicas',
    );
    void v2;
    const staleDeleteRefused = await refused(() => store.delete(probe, { ifVersion: v1 }));
    record(
      'conditional delete',
      staleDeleteRefused ? 'pass' : 'fail',
      staleDeleteRefused
        ? 'a delete at a stale version was refused'
        : 'a delete at a stale version succeeded',
    );
  } catch (error) {
    fail(written ? 'compare-and-swap' : 'round trip', error);
  } finally {
    if (written) {
      try {
        await store.delete(probe);
        const gone = (await store.get(probe)) === undefined;
        record(
          'delete',
          gone ? 'pass' : 'fail',
          gone ? 'the probe record was removed' : 'the probe record is still there',
        );
      } catch (error) {
        fail('delete', error);
      }
    }
  }

  if (store instanceof EncryptedCredentialStore) {
    if (firstUser === undefined) record('keys', 'skip', 'no record to open with the keyring');
    else {
      try {
        await store.get(firstUser);
        record('keys', 'pass', `the keyring opens ${firstUser}'s record`);
      } catch (error) {
        fail('keys', error);
      }
    }
  }
}

export async function doctor(context: Context): Promise<number> {
  const checks: CheckResult[] = [];
  await runChecks(context, checks);
  const ok = checks.every((check) => check.status !== 'fail');
  if (context.options.json) context.emitJson({ store: displaySpec(context.options.store), ok, checks });
  else {
    for (const check of checks)
      context.print(`${check.status.toUpperCase().padEnd(5)} ${check.check.padEnd(20)} ${check.detail}`);
    context.print(ok ? '\nall checks passed' : '\nsome checks failed: this store is not safe to use as is');
  }
  return ok ? EXIT.ok : EXIT.checksFailed;
}
