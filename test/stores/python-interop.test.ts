import { execFileSync, spawnSync } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeUserIdForStorage, FileCredentialStore } from '../../src/index.js';
import { sampleCredentials } from '../../src/testing/index.js';
import { supportPath } from '../support/spawn-worker.js';
import { makeTempDir } from '../support/temp-dir.js';

const python = spawnSync('python3', ['--version']).status === 0 ? 'python3' : undefined;
if (!python)
  console.warn('[skip] python-interop: python3 is not installed, so the Python round trip cannot run');

function runPython(...args: string[]): string {
  return execFileSync(python!, [supportPath('python_credential_store.py'), ...args], { encoding: 'utf8' });
}

describe.skipIf(!python)('interoperability with the Python server (real python3)', () => {
  let dir: { path: string; dispose: () => Promise<void> };
  beforeEach(async () => {
    dir = await makeTempDir();
  });
  afterEach(() => dir.dispose());

  it('encodes file names exactly as urllib.parse.quote(email, safe="@._-")', () => {
    const emails = [
      'alice@example.com',
      'bob+work@example.com',
      "o'brien@example.com",
      'under_score-dash.dot@sub.example.co.uk',
      'weird!#$&*=?^`{|}~@example.com',
    ];
    expect(JSON.parse(runPython('quote', ...emails))).toEqual(emails.map(encodeUserIdForStorage));
  });

  it('writes files the Python loader reads field for field', async () => {
    const store = new FileCredentialStore({ directory: dir.path });
    const record = sampleCredentials('py+reader@example.com', {
      expiresAt: Date.UTC(2026, 4, 12, 19, 34, 27, 123),
    });
    await store.put(record.userId, record);
    const loaded = JSON.parse(runPython('read', dir.path, record.userId));
    expect(loaded).toEqual({
      token: record.accessToken,
      refresh_token: record.refreshToken,
      token_uri: record.tokenUri,
      client_id: record.clientId,
      client_secret: 'test-client-secret',
      scopes: record.scopes,
      expiry_epoch_us: record.expiresAt! * 1000,
    });
  });

  it('reads files the Python writer wrote, microseconds and all, and writes them back unchanged', async () => {
    const fields = {
      token: 'ya29.python-written',
      refresh_token: '1//python-refresh',
      token_uri: 'https://oauth2.googleapis.com/token',
      client_id: 'cid.apps.googleusercontent.com',
      client_secret: 'GOCSPX-python',
      scopes: ['openid', 'email'],
      expiry_epoch_us: 1_778_614_467_123_456,
    };
    runPython('write', dir.path, 'py+writer@example.com', JSON.stringify(fields));
    expect(await readdir(dir.path)).toEqual(['py%2Bwriter@example.com.json']);
    const store = new FileCredentialStore({ directory: dir.path });
    const read = await store.get('py+writer@example.com');
    expect(read?.credentials).toMatchObject({
      accessToken: fields.token,
      refreshToken: fields.refresh_token,
      scopes: fields.scopes,
      expiresAt: 1_778_614_467_123,
    });
    await store.put('py+writer@example.com', read!.credentials, { ifVersion: read!.version });
    // The microseconds survive our round trip: Python reads back the exact expiry it wrote.
    expect(JSON.parse(runPython('read', dir.path, 'py+writer@example.com'))).toEqual(fields);
  });
});
