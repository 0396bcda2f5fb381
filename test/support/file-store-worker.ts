/**
 * A separate process that uses FileCredentialStore, for the cross-process tests:
 *   cas <dir> <user> <ifVersion> <label>   one compare-and-swap put; prints "won" or "lost"
 *   loop <dir> <users,...>                 writes records in a loop until killed; prints "ready"
 *   hold-lock <lockPath>                   takes the store's lock as this process and waits
 */
import { symlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { FileCredentialStore } from '../../src/index.js';
import { consistentRecord } from './consistent-record.js';

const [mode, ...args] = process.argv.slice(2);

if (mode === 'cas') {
  const [directory, userId, ifVersion, label] = args as [string, string, string, string];
  const store = new FileCredentialStore({ directory, lockTimeoutMs: 30_000 });
  // Start together: the parent releases all workers at once through stdin.
  process.stdin.once('data', async () => {
    try {
      await store.put(userId, consistentRecord(userId, Number(label)), { ifVersion });
      process.stdout.write('won\n');
    } catch (error) {
      process.stdout.write(
        `${(error as { code?: string }).code === 'CONFLICT' ? 'lost' : `error ${String(error)}`}\n`,
      );
    }
    process.exit(0);
  });
  process.stdout.write('ready\n');
} else if (mode === 'loop') {
  const [directory, users] = args as [string, string];
  const store = new FileCredentialStore({ directory });
  const userIds = users.split(',');
  let n = 0;
  process.stdout.write('ready\n');
  for (;;) {
    n += 1;
    await Promise.all(userIds.map((userId) => store.put(userId, consistentRecord(userId, n))));
  }
} else if (mode === 'hold-lock') {
  const [lockPath] = args as [string];
  // The store's lock format: a symbolic link whose target names the owner.
  symlinkSync(`${process.pid}@${encodeURIComponent(hostname())}#abc123`, lockPath);
  process.stdout.write('ready\n');
  setInterval(() => {}, 1_000);
} else {
  throw new Error(`unknown mode ${mode}`);
}
