/**
 * Whom the file store trusts, decision by decision, on made-up `stat` results (the hardening tests
 * play the same attacks with real files and a second account): each permission bit and ownership
 * rule on its own, so a weakened check fails here whatever the account running the tests.
 */
import type { Stats } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/index.js';
import { checkDirectoryTrust, checkFileTrust } from '../../src/stores/file-trust.js';
import { rejectionOf } from '../support/rejection.js';

const uid = process.getuid?.() ?? 0;
const gid = process.getgid?.() ?? 0;
const OTHER_UID = uid + 4242;
const OTHER_GID = 987_654; // a group this process is not in
const directoryStats = (mode: number, owner = uid, group = gid) =>
  ({ mode: 0o040000 | mode, uid: owner, gid: group }) as Stats;
const refusal = (check: () => unknown) => rejectionOf((async () => check())()) as Promise<ConfigurationError>;

const posix = typeof process.getuid === 'function';
if (!posix)
  console.info('[skip] file ownership checks: this platform has no uid/gid (the checks do nothing there)');

describe.runIf(posix)('checkDirectoryTrust', () => {
  it('accepts a directory of ours that only we can write (700, 750, 755)', () => {
    for (const mode of [0o700, 0o750, 0o755, 0o711]) {
      expect(() => checkDirectoryTrust('/creds', directoryStats(mode), false)).not.toThrow();
    }
  });

  it('refuses a world-writable directory, even ours and even with sharedGroup, naming the mode and the fix', async () => {
    for (const mode of [0o777, 0o702, 0o703, 0o706, 0o1777]) {
      for (const sharedGroup of [false, true]) {
        const error = await refusal(() => checkDirectoryTrust('/creds', directoryStats(mode), sharedGroup));
        expect(error).toBeInstanceOf(ConfigurationError);
        expect(error.message).toBe(
          `credentials directory /creds is writable by everyone (mode ${(mode & 0o777).toString(8)})`,
        );
        expect(error.hint).toBe('chmod 700 /creds (or 770 with sharedGroup)');
      }
    }
  });

  it('writes the mode with three digits', async () => {
    const error = await refusal(() => checkDirectoryTrust('/creds', directoryStats(0o022), false));
    expect(error.message).toBe('credentials directory /creds is writable by everyone (mode 022)');
  });

  it("refuses another account's directory, naming both uids", async () => {
    const error = await refusal(() => checkDirectoryTrust('/creds', directoryStats(0o700, OTHER_UID), false));
    expect(error.message).toBe(
      `credentials directory /creds is owned by uid ${OTHER_UID}, not by this process (uid ${uid})`,
    );
    expect(error.hint).toBe(
      `chown ${uid} /creds && chmod 700 /creds, or share it through a group and set sharedGroup`,
    );
  });

  it("accepts another account's directory with sharedGroup only when it belongs to one of our groups", async () => {
    expect(() => checkDirectoryTrust('/creds', directoryStats(0o770, OTHER_UID, gid), true)).not.toThrow();
    for (const supplementary of process.getgroups?.() ?? []) {
      expect(() =>
        checkDirectoryTrust('/creds', directoryStats(0o770, OTHER_UID, supplementary), true),
      ).not.toThrow();
    }
    const foreign = await refusal(() =>
      checkDirectoryTrust('/creds', directoryStats(0o770, OTHER_UID, OTHER_GID), true),
    );
    expect(foreign.message).toContain(`owned by uid ${OTHER_UID}`);
    // Without sharedGroup the group does not help.
    await expect(
      refusal(() => checkDirectoryTrust('/creds', directoryStats(0o700, OTHER_UID, gid), false)),
    ).resolves.toBeInstanceOf(ConfigurationError);
  });

  it('refuses a group-writable directory of ours unless sharedGroup says it is shared on purpose', async () => {
    for (const mode of [0o770, 0o720, 0o730]) {
      const error = await refusal(() => checkDirectoryTrust('/creds', directoryStats(mode), false));
      expect(error.message).toBe(
        `credentials directory /creds is writable by its group (mode ${mode.toString(8)})`,
      );
      expect(error.hint).toContain('set sharedGroup');
      expect(() => checkDirectoryTrust('/creds', directoryStats(mode), true)).not.toThrow();
    }
  });
});

describe.runIf(posix)('checkFileTrust', () => {
  const fileStats = (mode: number, owner = uid, group = gid) => ({
    mode: 0o100000 | mode,
    uid: owner,
    gid: group,
  });

  it("is 'ours' for a file of ours that nobody else can read or write", () => {
    expect(checkFileTrust('/creds/a.json', fileStats(0o600), gid, false)).toBe('ours');
    expect(checkFileTrust('/creds/a.json', fileStats(0o400), gid, false)).toBe('ours');
  });

  it("is 'readable-by-others' when any group or other bit is set (read, write or execute)", () => {
    for (const mode of [0o640, 0o604, 0o610, 0o601, 0o620, 0o644, 0o660]) {
      expect(checkFileTrust('/creds/a.json', fileStats(mode), gid, false)).toBe('readable-by-others');
    }
  });

  it('refuses a world-writable file, naming it and the fix', async () => {
    for (const mode of [0o602, 0o666, 0o622]) {
      const error = await refusal(() => checkFileTrust('/creds/a.json', fileStats(mode), gid, false));
      expect(error.message).toBe(
        'credentials file /creds/a.json is writable by everyone; refusing to read it',
      );
      expect(error.hint).toBe('check it, then chmod 600 /creds/a.json');
    }
  });

  it("refuses another account's file, naming its uid", async () => {
    const error = await refusal(() =>
      checkFileTrust('/creds/a.json', fileStats(0o600, OTHER_UID), gid, false),
    );
    expect(error.message).toBe(
      `credentials file /creds/a.json is owned by another user (uid ${OTHER_UID}); refusing to read it`,
    );
    expect(error.hint).toContain('chown it to this process');
  });

  it("reads another account's file with sharedGroup only when it has the directory's group", async () => {
    expect(checkFileTrust('/creds/a.json', fileStats(0o640, OTHER_UID, 1234), 1234, true)).toBe(
      'readable-by-others',
    );
    await expect(
      refusal(() => checkFileTrust('/creds/a.json', fileStats(0o640, OTHER_UID, 1234), 5678, true)),
    ).resolves.toBeInstanceOf(ConfigurationError);
    await expect(
      refusal(() => checkFileTrust('/creds/a.json', fileStats(0o640, OTHER_UID, 1234), 1234, false)),
    ).resolves.toBeInstanceOf(ConfigurationError);
    // Still refused when everyone can write it.
    await expect(
      refusal(() => checkFileTrust('/creds/a.json', fileStats(0o662, OTHER_UID, 1234), 1234, true)),
    ).resolves.toBeInstanceOf(ConfigurationError);
  });
});

describe('where the platform has no uid (Windows)', () => {
  const getuid = process.getuid;
  const getgid = process.getgid;
  const getgroups = process.getgroups;
  afterEach(() => {
    process.getuid = getuid;
    process.getgid = getgid;
    process.getgroups = getgroups;
  });

  it.runIf(posix)('counts supplementary groups as ours only where the platform lists them', async () => {
    process.getgroups = () => [OTHER_GID];
    expect(() =>
      checkDirectoryTrust('/creds', directoryStats(0o770, OTHER_UID, OTHER_GID), true),
    ).not.toThrow();
    process.getgroups = undefined;
    await expect(
      refusal(() => checkDirectoryTrust('/creds', directoryStats(0o770, OTHER_UID, OTHER_GID), true)),
    ).resolves.toBeInstanceOf(ConfigurationError);
    // The primary group still counts (a made-up one: root's is 0, which hides a lost primary group).
    process.getgid = () => OTHER_GID + 1;
    expect(() =>
      checkDirectoryTrust('/creds', directoryStats(0o770, OTHER_UID, OTHER_GID + 1), true),
    ).not.toThrow();
  });

  it.runIf(posix)('without a primary group id, no group is ours by accident (not even -1 or 0)', async () => {
    process.getgid = undefined;
    process.getgroups = () => [];
    for (const group of [gid, 1, 0]) {
      await expect(
        refusal(() => checkDirectoryTrust('/creds', directoryStats(0o770, OTHER_UID, group), true)),
      ).resolves.toBeInstanceOf(ConfigurationError);
    }
  });

  it('checks nothing: there is no owner to compare', () => {
    process.getuid = undefined;
    expect(() => checkDirectoryTrust('/creds', directoryStats(0o777, OTHER_UID), false)).not.toThrow();
    expect(
      checkFileTrust('/creds/a.json', { mode: 0o100666, uid: OTHER_UID, gid: OTHER_GID }, 1, false),
    ).toBe('ours');
  });
});
