import { homedir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  createCredentialStore,
  defaultCredentialsDirectory,
  FileCredentialStore,
  InvalidInputError,
  MemoryCredentialStore,
} from '../../src/index.js';
import { makeTempDir } from '../support/temp-dir.js';

describe('createCredentialStore', () => {
  it('builds a memory store from memory:', async () => {
    expect(await createCredentialStore('memory:')).toBeInstanceOf(MemoryCredentialStore);
  });

  it('builds a file store from a path, ~/path or file:// URL', async () => {
    const dir = await makeTempDir();
    try {
      const fromPath = await createCredentialStore(dir.path);
      expect(fromPath).toBeInstanceOf(FileCredentialStore);
      expect((fromPath as FileCredentialStore).directory).toBe(dir.path);
      const fromUrl = await createCredentialStore(pathToFileURL(dir.path).href);
      expect((fromUrl as FileCredentialStore).directory).toBe(dir.path);
      const fromHome = await createCredentialStore('~/creds-test');
      expect((fromHome as FileCredentialStore).directory).toBe(join(homedir(), 'creds-test'));
    } finally {
      await dir.dispose();
    }
  });

  it('falls back to WORKSPACE_MCP_CREDENTIALS_DIR, then GOOGLE_MCP_CREDENTIALS_DIR, then the Python default', async () => {
    const both = { WORKSPACE_MCP_CREDENTIALS_DIR: '/srv/a', GOOGLE_MCP_CREDENTIALS_DIR: '/srv/b' };
    expect(((await createCredentialStore(undefined, { env: both })) as FileCredentialStore).directory).toBe(
      '/srv/a',
    );
    expect(
      (
        (await createCredentialStore('', {
          env: { GOOGLE_MCP_CREDENTIALS_DIR: '/srv/b' },
        })) as FileCredentialStore
      ).directory,
    ).toBe('/srv/b');
    expect(defaultCredentialsDirectory({})).toBe(join(homedir(), '.google_workspace_mcp', 'credentials'));
  });

  it('refuses unknown schemes and malformed file URLs', async () => {
    await expect(createCredentialStore('redis://localhost')).rejects.toBeInstanceOf(InvalidInputError);
    await expect(createCredentialStore('file://remote-host/dir')).rejects.toBeInstanceOf(InvalidInputError);
  });
});
