import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  ConfigurationError,
  ConflictError,
  CorruptCredentialsError,
  type CredentialStore,
  createCredentialStore,
  EncryptedCredentialStore,
  FileCredentialStore,
  InvalidInputError,
  isSealed,
  Keyring,
  keyringFromEnv,
  MemoryCredentialStore,
  type PutOptions,
  type StoredCredentials,
} from '../../src/index.js';
import { describeCredentialStoreContract, sampleCredentials } from '../../src/testing/index.js';
import { freshS3Store } from '../support/s3-test-store.js';
import { makeTempDir } from '../support/temp-dir.js';

const key = (id: string) => ({ id, key: new Uint8Array(randomBytes(32)) });
const K1 = key('2026-05');
const K2 = key('2026-11');

describeCredentialStoreContract('EncryptedCredentialStore over memory', {
  createStore: () =>
    new EncryptedCredentialStore(new MemoryCredentialStore(), { keyring: new Keyring([K1]) }),
  corruptRecord: async (store, userId) => {
    // A tampered envelope: one byte of the sealed refresh token flipped.
    const inner = (store as EncryptedCredentialStore).inner;
    const entry = (await inner.get(userId))!;
    const sealed = entry.credentials.refreshToken!;
    const flipped = `${sealed.slice(0, -2)}${sealed.at(-2) === 'A' ? 'B' : 'A'}${sealed.at(-1)}`;
    await inner.put(userId, { ...entry.credentials, refreshToken: flipped });
  },
});
const fileDirs = new Map<object, () => Promise<void>>();
describeCredentialStoreContract('EncryptedCredentialStore over files', {
  createStore: async () => {
    const dir = await makeTempDir();
    const store = new EncryptedCredentialStore(new FileCredentialStore({ directory: dir.path }), {
      keyring: new Keyring([K1]),
    });
    fileDirs.set(store, dir.dispose);
    return store;
  },
  disposeStore: (store) => fileDirs.get(store)?.(),
});
describeCredentialStoreContract('EncryptedCredentialStore over S3', {
  createStore: async () =>
    new EncryptedCredentialStore((await freshS3Store()).store, { keyring: new Keyring([K1]) }),
});

function secretsIn(record: StoredCredentials): string[] {
  return [record.accessToken, record.refreshToken!, record.idToken!, String(record.extra?.client_secret)];
}

async function expectCorrupt(
  promise: Promise<unknown>,
  userId: string,
  keyId?: string,
): Promise<CorruptCredentialsError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(CorruptCredentialsError);
  expect((error as CorruptCredentialsError).userId).toBe(userId);
  if (keyId !== undefined) expect((error as CorruptCredentialsError).keyId).toBe(keyId);
  return error as CorruptCredentialsError;
}

describe('EncryptedCredentialStore', () => {
  function setup(keys = [K1], acceptPlaintext = false) {
    const inner = new MemoryCredentialStore();
    const store = new EncryptedCredentialStore(inner, { keyring: new Keyring(keys), acceptPlaintext });
    return { inner, store };
  }

  it('seals every secret with AES-256-GCM under the primary key and keeps the metadata readable', async () => {
    const { inner, store } = setup();
    const record = sampleCredentials('alice@example.com');
    await store.put(record.userId, record);
    const sealed = (await inner.get(record.userId))!.credentials;
    for (const secret of secretsIn(record)) expect(JSON.stringify(sealed)).not.toContain(secret);
    for (const value of [
      sealed.accessToken,
      sealed.refreshToken,
      sealed.idToken,
      sealed.extra?.client_secret,
    ]) {
      expect(value).toMatch(/^mcpoc:v1:2026-05:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]+$/);
      expect(isSealed(value)).toBe(true);
    }
    expect(sealed).toMatchObject({
      scopes: record.scopes,
      expiresAt: record.expiresAt,
      clientId: record.clientId,
    });
    expect((await store.get(record.userId))?.credentials).toEqual(record);
    // A fresh nonce per write: the same record never seals to the same bytes.
    await store.put(record.userId, record);
    expect((await inner.get(record.userId))!.credentials.refreshToken).not.toBe(sealed.refreshToken);
  });

  it('refuses a record copied onto another user', async () => {
    const { inner, store } = setup();
    await store.put('alice@example.com', sampleCredentials('alice@example.com'));
    const sealed = (await inner.get('alice@example.com'))!.credentials;
    await inner.put('mallory@example.com', { ...sealed, userId: 'mallory@example.com' });
    await expectCorrupt(store.get('mallory@example.com'), 'mallory@example.com', '2026-05');
  });

  it.each([
    ['a flipped ciphertext bit', (r: StoredCredentials) => ({ ...r, refreshToken: flip(r.refreshToken!) })],
    ['an edited expiry', (r: StoredCredentials) => ({ ...r, expiresAt: r.expiresAt! + 3_600_000 })],
    [
      'an added scope',
      (r: StoredCredentials) => ({ ...r, scopes: [...r.scopes, 'https://mail.google.com/'] }),
    ],
    [
      'secrets swapped between fields',
      (r: StoredCredentials) => ({ ...r, accessToken: r.refreshToken!, refreshToken: r.accessToken }),
    ],
    ['a removed secret', (r: StoredCredentials) => ({ ...r, refreshToken: undefined })],
    ['a truncated envelope', (r: StoredCredentials) => ({ ...r, accessToken: r.accessToken.slice(0, -10) })],
    ['a cut-off envelope', (r: StoredCredentials) => ({ ...r, accessToken: r.accessToken.slice(0, 40) })],
    ['a plaintext secret mixed in', (r: StoredCredentials) => ({ ...r, idToken: 'eyJ.plain' })],
    [
      'a swapped key id',
      (r: StoredCredentials) => ({ ...r, accessToken: r.accessToken.replace(':2026-05:', ':2026-11:') }),
    ],
  ])('refuses %s without returning anything partial', async (_label, tamper) => {
    const { inner, store } = setup([K1, K2]);
    const record = sampleCredentials('bob@example.com');
    await store.put(record.userId, record);
    const entry = (await inner.get(record.userId))!;
    const tampered = tamper(structuredClone(entry.credentials));
    for (const field of Object.keys(tampered) as Array<keyof StoredCredentials>) {
      if (tampered[field] === undefined) delete tampered[field];
    }
    await inner.put(record.userId, tampered);
    const error = await expectCorrupt(store.get(record.userId), record.userId);
    for (const secret of secretsIn(record))
      expect(`${error.message} ${inspect(error)}`).not.toContain(secret);
  });

  it('refuses a plaintext refresh token injected next to sealed fields, even with acceptPlaintext', async () => {
    for (const acceptPlaintext of [false, true]) {
      const { inner, store } = setup([K1], acceptPlaintext);
      const record = sampleCredentials('inject@example.com');
      await store.put(record.userId, record);
      const entry = (await inner.get(record.userId))!;
      await inner.put(record.userId, { ...entry.credentials, refreshToken: '1//attacker-chosen' });
      const error = await expectCorrupt(store.get(record.userId), record.userId);
      expect(error.message).toContain('mix encrypted and plaintext secrets');
    }
  });

  it('refuses a record with plaintext secrets and the marker of an encrypted one', async () => {
    const { inner, store } = setup([K1], true);
    const empty = { ...sampleCredentials('marked@example.com'), accessToken: '', extra: {} };
    delete empty.refreshToken;
    delete empty.idToken;
    await store.put(empty.userId, empty);
    const entry = (await inner.get(empty.userId))!;
    await inner.put(empty.userId, { ...entry.credentials, accessToken: 'ya29.planted' });
    const error = await expectCorrupt(store.get(empty.userId), empty.userId);
    expect(error.message).toContain('mix encrypted and plaintext secrets');
  });

  it('refuses the wrong key, and a key id missing from the keyring, naming the key', async () => {
    const { inner, store } = setup([K1]);
    const record = sampleCredentials('carol@example.com');
    await store.put(record.userId, record);
    const impostor = new EncryptedCredentialStore(inner, {
      keyring: new Keyring([{ id: '2026-05', key: randomBytes(32) }]),
    });
    await expectCorrupt(impostor.get(record.userId), record.userId, '2026-05');
    const stranger = new EncryptedCredentialStore(inner, { keyring: new Keyring([K2]) });
    const error = await expectCorrupt(stranger.get(record.userId), record.userId, '2026-05');
    expect(error.message).toContain('not in the keyring');
  });

  it('rotates across two keys without downtime, resumably', async () => {
    const inner = new MemoryCredentialStore();
    const old = new EncryptedCredentialStore(inner, { keyring: new Keyring([K1]) });
    for (const user of ['r1@example.com', 'r2@example.com']) await old.put(user, sampleCredentials(user));
    const both = new EncryptedCredentialStore(inner, { keyring: new Keyring([K2, K1]) });
    expect((await both.get('r1@example.com'))?.credentials.userId).toBe('r1@example.com');
    expect(await both.rotateRecord('r1@example.com')).toBe('rotated');
    // Interrupted here; running again finishes the job and leaves rotated records alone.
    expect(await both.rotateRecord('r1@example.com')).toBe('current');
    expect(await both.rotateRecord('r2@example.com')).toBe('rotated');
    expect(await both.rotateRecord('nobody@example.com')).toBe('missing');
    const onlyNew = new EncryptedCredentialStore(inner, { keyring: new Keyring([K2]) });
    expect((await onlyNew.get('r2@example.com'))?.credentials.userId).toBe('r2@example.com');
    expect((await inner.get('r2@example.com'))!.credentials.accessToken).toContain(':2026-11:');
  });

  it('reads plaintext records only with acceptPlaintext, and seals them on the next write', async () => {
    const inner = new MemoryCredentialStore();
    const record = sampleCredentials('legacy@example.com');
    await inner.put(record.userId, record);
    await expectCorrupt(
      new EncryptedCredentialStore(inner, { keyring: new Keyring([K1]) }).get(record.userId),
      record.userId,
    );
    const migrating = new EncryptedCredentialStore(inner, {
      keyring: new Keyring([K1]),
      acceptPlaintext: true,
    });
    const read = await migrating.get(record.userId);
    expect(read?.credentials).toEqual(record);
    await migrating.put(record.userId, read!.credentials, { ifVersion: read!.version });
    expect(isSealed((await inner.get(record.userId))!.credentials.refreshToken)).toBe(true);
    expect(await migrating.rotateRecord(record.userId)).toBe('current');
  });

  it('a plaintext record with no secret at all is plaintext (read with acceptPlaintext, refused as "not encrypted" without)', async () => {
    const inner = new MemoryCredentialStore();
    const bare: StoredCredentials = {
      userId: 'bare@example.com',
      accessToken: '',
      scopes: [],
      tokenType: 'Bearer',
    };
    await inner.put(bare.userId, bare);
    const refused = await expectCorrupt(
      new EncryptedCredentialStore(inner, { keyring: new Keyring([K1]) }).get(bare.userId),
      bare.userId,
    );
    expect(refused.message).toBe(`credentials for ${bare.userId} are not encrypted`);
    const migrating = new EncryptedCredentialStore(inner, {
      keyring: new Keyring([K1]),
      acceptPlaintext: true,
    });
    expect((await migrating.get(bare.userId))?.credentials).toEqual(bare);
    // Whatever a backend hands over in a secret's place.
    for (const value of [undefined, null, 42, {}])
      expect(isSealed(value as never), String(value)).toBe(false);
  });

  it('refuses sealed secrets that also carry a marker (the marker belongs only to a record without secrets)', async () => {
    const { inner, store } = setup([K1]);
    const record = sampleCredentials('marker@example.com');
    await store.put(record.userId, record);
    const entry = (await inner.get(record.userId))!;
    await inner.put(record.userId, {
      ...entry.credentials,
      extra: { ...entry.credentials.extra, mcpoc_sealed: entry.credentials.accessToken },
    });
    const error = await expectCorrupt(store.get(record.userId), record.userId);
    expect(error.message).toBe(`credentials for ${record.userId} mix encrypted and plaintext secrets`);
  });

  it('round-trips a record with no secret (a sealed marker says it is ours), over memory and files', async () => {
    const dir = await makeTempDir();
    try {
      for (const inner of [new MemoryCredentialStore(), new FileCredentialStore({ directory: dir.path })]) {
        const store = new EncryptedCredentialStore(inner, { keyring: new Keyring([K1]) });
        const bare: StoredCredentials = {
          userId: 'bare@example.com',
          accessToken: '',
          scopes: ['openid'],
          tokenType: 'Bearer',
        };
        await store.put(bare.userId, bare);
        expect((await store.get(bare.userId))?.credentials).toEqual(bare);
        const raw = (await inner.get(bare.userId))!;
        expect(isSealed(raw.credentials.extra?.mcpoc_sealed)).toBe(true);
        // The marker is bound to its user and metadata: moved or edited, it does not open.
        const moved = { ...raw.credentials, userId: 'thief@example.com' };
        await inner.put('thief@example.com', moved);
        await expectCorrupt(store.get('thief@example.com'), 'thief@example.com');
        await inner.put(bare.userId, { ...raw.credentials, scopes: ['openid', 'admin'] });
        await expectCorrupt(store.get(bare.userId), bare.userId);
        // Stripped of its marker, it is plaintext: refused without acceptPlaintext.
        const { mcpoc_sealed: _marker, ...extra } = raw.credentials.extra!;
        await inner.put(bare.userId, { ...raw.credentials, extra });
        await expectCorrupt(store.get(bare.userId), bare.userId);
        // A plaintext secret planted next to the marker is a mix: refused.
        await inner.put(bare.userId, { ...raw.credentials, refreshToken: '1//planted' });
        await expectCorrupt(store.get(bare.userId), bare.userId);
      }
    } finally {
      await dir.dispose();
    }
  });

  it('with acceptPlaintext, warns on every plaintext read', async () => {
    const inner = new MemoryCredentialStore();
    const record = sampleCredentials('plain@example.com');
    await inner.put(record.userId, record);
    const warnings: string[] = [];
    const warnedFields: Array<Record<string, unknown>> = [];
    const log = (fields: Record<string, unknown>, message?: string) => {
      warnedFields.push(fields);
      warnings.push(message ?? '');
    };
    const store = new EncryptedCredentialStore(inner, {
      keyring: new Keyring([K1]),
      acceptPlaintext: true,
      logger: { debug: () => {}, info: () => {}, warn: log, error: () => {} },
    });
    await store.get(record.userId);
    await store.get(record.userId);
    expect(warnings.filter((message) => message.includes('plaintext'))).toHaveLength(2);
    expect(warnedFields).toEqual([{ userId: record.userId }, { userId: record.userId }]);
  });

  it('keeps the file store format: sealed values sit in the Python fields', async () => {
    const dir = await makeTempDir();
    try {
      const store = new EncryptedCredentialStore(new FileCredentialStore({ directory: dir.path }), {
        keyring: new Keyring([K1]),
      });
      const record = sampleCredentials('file@example.com');
      await store.put(record.userId, record);
      const document = JSON.parse(await readFile(join(dir.path, 'file@example.com.json'), 'utf8'));
      expect(document.token).toMatch(/^mcpoc:v1:/);
      expect(document.refresh_token).toMatch(/^mcpoc:v1:/);
      expect(document.client_secret).toMatch(/^mcpoc:v1:/);
      expect(document.scopes).toEqual(record.scopes);
      expect((await store.get(record.userId))?.credentials).toEqual(record);
    } finally {
      await dir.dispose();
    }
  });
});

describe('keyrings', () => {
  it('reads keys from the environment, primary first, and never shows key material', () => {
    const keyring = keyringFromEnv({
      MCP_OAUTH_CREDENTIALS_KEYS: `new:${Buffer.from(K2.key).toString('base64')}, old:${Buffer.from(K1.key).toString('base64url')}`,
    })!;
    expect(keyring.primaryKey().id).toBe('new');
    expect(Buffer.from(keyring.keyById('old')!)).toEqual(Buffer.from(K1.key));
    const shown = `${inspect(keyring)} ${JSON.stringify(keyring)}`;
    expect(shown).toContain('new');
    expect(shown).not.toContain(Buffer.from(K2.key).toString('base64'));
    expect(keyringFromEnv({})).toBeUndefined();
  });

  it.each([
    'nocolon',
    'id:not base64!',
    `id:${Buffer.alloc(16).toString('base64')}`,
    `bad id:${Buffer.alloc(32).toString('base64')}`,
    `a:${Buffer.alloc(32).toString('base64')},a:${Buffer.alloc(32).toString('base64')}`,
  ])('refuses %j with ConfigurationError', (value) => {
    expect(() => keyringFromEnv({ MCP_OAUTH_CREDENTIALS_KEYS: value })).toThrow(ConfigurationError);
  });

  it('builds encrypted stores from encrypted+ specs', async () => {
    const env = { MCP_OAUTH_CREDENTIALS_KEYS: `k:${Buffer.from(K1.key).toString('base64')}` };
    const store = await createCredentialStore('encrypted+memory:', { env });
    expect(store).toBeInstanceOf(EncryptedCredentialStore);
    await store.put('spec@example.com', sampleCredentials('spec@example.com'));
    const inner = (store as EncryptedCredentialStore).inner;
    expect(isSealed((await inner.get('spec@example.com'))!.credentials.accessToken)).toBe(true);
    await expect(createCredentialStore('encrypted+memory:', { env: {} })).rejects.toBeInstanceOf(
      ConfigurationError,
    );
  });
});

function flip(envelope: string): string {
  const parts = envelope.split(':');
  const body = Buffer.from(parts[4]!, 'base64url');
  body[0] = body[0]! ^ 1;
  parts[4] = body.toString('base64url');
  return parts.join(':');
}

/**
 * A record sealed by this version under a fixed key (generated once, kept verbatim). Any change to the
 * envelope, the authenticated data or the metadata digest would make stored records unreadable: this
 * must keep opening.
 */
const GOLDEN_KEY = { id: 'golden', key: Buffer.alloc(32, 7) };
const GOLDEN_SEALED = {
  userId: 'golden@example.com',
  subject: '1234567890',
  accessToken: 'mcpoc:v1:golden:Mat3DDWbWfVAY0Mi:rJpDC5GZS5q_iL0NgGUD5zCsTaxy7DOtfVqaOfylUt8zuw',
  refreshToken: 'mcpoc:v1:golden:0BeK7pzy9yqyrm9Y:zNmfOVetJcDPTro5tdDybRDNIHz_5W9yqEIZkh1MsR_-',
  expiresAt: 1900000000000,
  scopes: ['openid', 'email'],
  tokenType: 'Bearer',
  idToken: 'mcpoc:v1:golden:W_qBpxPd0OFbyqnO:nTPbpX9kXgHrO-AbVewvV1aMtDQwDyMnl1-wQN8',
  clientId: 'client.apps.googleusercontent.com',
  tokenUri: 'https://oauth2.googleapis.com/token',
  extra: {
    client_secret: 'mcpoc:v1:golden:D9mUSucfN0-llLqD:SBZjputTMg-5F-WGZ9JKrWs8haVtSfdYjJlw5WE',
    universe_domain: 'googleapis.com',
    nested: {
      b: [
        1,
        {
          y: 2,
          x: 1,
        },
      ],
      a: null,
    },
  },
};

describe('EncryptedCredentialStore: format and rotation guards', () => {
  it('opens a record sealed by this format version (envelope, authenticated data, digest unchanged)', async () => {
    const inner = new MemoryCredentialStore();
    await inner.put(GOLDEN_SEALED.userId, structuredClone(GOLDEN_SEALED));
    const store = new EncryptedCredentialStore(inner, { keyring: new Keyring([GOLDEN_KEY]) });
    const opened = (await store.get(GOLDEN_SEALED.userId))!.credentials;
    expect(opened).toMatchObject({
      accessToken: 'ya29.golden-access',
      refreshToken: '1//golden-refresh',
      idToken: 'eyJ.golden-id',
      extra: { client_secret: 'golden-secret' },
    });
  });

  it('opens a record whose metadata keys a backend reordered (PostgreSQL JSONB does), and refuses changed values', async () => {
    const reorder = (value: unknown): unknown =>
      Array.isArray(value)
        ? value.map(reorder)
        : value !== null && typeof value === 'object'
          ? Object.fromEntries(
              Object.entries(value)
                .reverse()
                .map(([k, v]) => [k, reorder(v)]),
            )
          : value;
    const inner = new MemoryCredentialStore();
    const reordered = reorder(structuredClone(GOLDEN_SEALED)) as typeof GOLDEN_SEALED;
    await inner.put(GOLDEN_SEALED.userId, reordered);
    const store = new EncryptedCredentialStore(inner, { keyring: new Keyring([GOLDEN_KEY]) });
    expect((await store.get(GOLDEN_SEALED.userId))!.credentials.accessToken).toBe('ya29.golden-access');
    // An array's order is data, not layout: reordering one is tampering.
    const swapped = structuredClone(GOLDEN_SEALED);
    swapped.scopes.reverse();
    await inner.put(GOLDEN_SEALED.userId, swapped);
    await expectCorrupt(store.get(GOLDEN_SEALED.userId), GOLDEN_SEALED.userId);
  });

  it('opens a record handed over in any key order, with undefined fields, and refuses a null metadata field', async () => {
    const store = new EncryptedCredentialStore(new MemoryCredentialStore(), {
      keyring: new Keyring([GOLDEN_KEY]),
    });
    // open() as a custom store would call it: no store normalised the record's key order first.
    const reversed = Object.fromEntries(Object.entries(structuredClone(GOLDEN_SEALED)).reverse());
    expect((await store.open(GOLDEN_SEALED.userId, reversed as never)).accessToken).toBe(
      'ya29.golden-access',
    );
    const withUndefined = {
      ...structuredClone(GOLDEN_SEALED),
      tokenUri: GOLDEN_SEALED.tokenUri,
      foo: undefined,
    };
    expect((await store.open(GOLDEN_SEALED.userId, withUndefined as never)).refreshToken).toBe(
      '1//golden-refresh',
    );
    await expectCorrupt(
      store.open(GOLDEN_SEALED.userId, { ...structuredClone(GOLDEN_SEALED), clientId: null } as never),
      GOLDEN_SEALED.userId,
    );
  });

  it('rotation re-reads after losing to a concurrent write, and never writes over it', async () => {
    const inner = new MemoryCredentialStore();
    const userId = 'raced@example.com';
    const underK1 = new EncryptedCredentialStore(inner, { keyring: new Keyring([K1]) });
    await underK1.put(userId, sampleCredentials(userId));
    let raced = false;
    const racing: CredentialStore = {
      get: async (id) => {
        const entry = await inner.get(id);
        if (!raced) {
          raced = true; // another replica saves a refreshed token between this read and the write
          await underK1.put(id, { ...sampleCredentials(id), accessToken: 'ya29.concurrent' });
        }
        return entry;
      },
      put: (id, record, options) => inner.put(id, record, options),
      delete: (id, options) => inner.delete(id, options),
      list: () => inner.list(),
    };
    const both = new EncryptedCredentialStore(racing, { keyring: new Keyring([K2, K1]) });
    expect(await both.rotateRecord(userId)).toBe('rotated');
    expect((await both.get(userId))!.credentials.accessToken).toBe('ya29.concurrent');
    expect(String((await inner.get(userId))!.credentials.accessToken)).toContain(':2026-11:');
  });

  it('rotates records without extra, refuses a malformed envelope as corrupt, and keeps a marker-only record’s other extra fields', async () => {
    const inner = new MemoryCredentialStore();
    const store = new EncryptedCredentialStore(inner, { keyring: new Keyring([K1]) });
    const plain = sampleCredentials('noextra@example.com');
    delete plain.extra;
    await store.put(plain.userId, plain);
    expect((await inner.get(plain.userId))!.credentials.extra).toBeUndefined();
    expect(await store.rotateRecord(plain.userId)).toBe('current');

    const sealed = (await inner.get(plain.userId))!.credentials;
    await inner.put(plain.userId, { ...sealed, accessToken: 'mcpoc:v1:not-an-envelope' });
    await expectCorrupt(store.rotateRecord(plain.userId), plain.userId);

    const bare = { ...sampleCredentials('kept@example.com'), accessToken: '', extra: { kept: 'yes' } };
    delete bare.refreshToken;
    delete bare.idToken;
    await store.put(bare.userId, bare);
    expect((await store.get(bare.userId))!.credentials.extra).toEqual({ kept: 'yes' });
  });

  it('closes the store it wraps, and names the user when refusing sealed input', async () => {
    let closed = 0;
    const inner = new MemoryCredentialStore();
    const wrapped: CredentialStore = {
      get: (id) => inner.get(id),
      put: (id, record, options) => inner.put(id, record, options),
      delete: (id, options) => inner.delete(id, options),
      list: () => inner.list(),
      close: async () => {
        closed += 1;
      },
    };
    const store = new EncryptedCredentialStore(wrapped, { keyring: new Keyring([K1]) });
    await store.close();
    expect(closed).toBe(1);
    const { close: _close, ...withoutClose } = wrapped;
    await new EncryptedCredentialStore(withoutClose, { keyring: new Keyring([K1]) }).close();
    const record = sampleCredentials('sealed-input@example.com');
    const error = await store
      .put(record.userId, { ...record, refreshToken: GOLDEN_SEALED.refreshToken })
      .catch((e: unknown) => e);
    expect((error as InvalidInputError).userId).toBe(record.userId);
  });

  it('refuses to seal input that is already sealed or carries the marker', async () => {
    const store = new EncryptedCredentialStore(new MemoryCredentialStore(), { keyring: new Keyring([K1]) });
    const record = sampleCredentials('twice@example.com');
    await expect(
      store.put(record.userId, { ...record, refreshToken: GOLDEN_SEALED.refreshToken }),
    ).rejects.toBeInstanceOf(InvalidInputError);
    await expect(
      store.put(record.userId, { ...record, extra: { mcpoc_sealed: 'anything' } }),
    ).rejects.toBeInstanceOf(InvalidInputError);
  });

  it('rotates a record whose fields are under different keys, and a marker-only record under an old key', async () => {
    const inner = new MemoryCredentialStore();
    const record = sampleCredentials('mixed@example.com');
    const underK1 = await new EncryptedCredentialStore(new MemoryCredentialStore(), {
      keyring: new Keyring([K1]),
    }).seal(record.userId, record);
    const underK2 = await new EncryptedCredentialStore(new MemoryCredentialStore(), {
      keyring: new Keyring([K2]),
    }).seal(record.userId, record);
    await inner.put(record.userId, { ...underK2, refreshToken: underK1.refreshToken });
    const both = new EncryptedCredentialStore(inner, { keyring: new Keyring([K2, K1]) });
    expect((await both.get(record.userId))!.credentials.refreshToken).toBe(record.refreshToken);
    expect(await both.rotateRecord(record.userId)).toBe('rotated');
    expect((await inner.get(record.userId))!.credentials.refreshToken).toContain(':2026-11:');
    expect(await both.rotateRecord(record.userId)).toBe('current');

    const bare = { ...sampleCredentials('bare@example.com'), accessToken: '', extra: {} };
    delete bare.refreshToken;
    delete bare.idToken;
    await new EncryptedCredentialStore(inner, { keyring: new Keyring([K1]) }).put(bare.userId, bare);
    expect(await both.rotateRecord(bare.userId)).toBe('rotated');
    expect(String((await inner.get(bare.userId))!.credentials.extra?.mcpoc_sealed)).toContain(':2026-11:');
    expect(await both.rotateRecord(bare.userId)).toBe('current');
  });

  it('retries a rotation that lost a compare-and-swap twice, then gives up with the conflict', async () => {
    const inner = new MemoryCredentialStore();
    await new EncryptedCredentialStore(inner, { keyring: new Keyring([K1]) }).put(
      'busy@example.com',
      sampleCredentials('busy@example.com'),
    );
    let conflicts = 2;
    let attempts = 0;
    const contested: CredentialStore = {
      get: (userId) => inner.get(userId),
      put: async (userId, record, options?: PutOptions) => {
        attempts++;
        if (conflicts-- > 0) throw new ConflictError('changed meanwhile', { userId });
        return inner.put(userId, record, options);
      },
      delete: (userId, options) => inner.delete(userId, options),
      list: () => inner.list(),
    };
    const both = new EncryptedCredentialStore(contested, { keyring: new Keyring([K2, K1]) });
    expect(await both.rotateRecord('busy@example.com')).toBe('rotated');
    expect(attempts).toBe(3);
    conflicts = Number.POSITIVE_INFINITY;
    attempts = 0;
    await new EncryptedCredentialStore(inner, { keyring: new Keyring([K1]) }).put(
      'busy@example.com',
      sampleCredentials('busy@example.com'),
    );
    await expect(both.rotateRecord('busy@example.com')).rejects.toBeInstanceOf(ConflictError);
    expect(attempts).toBe(3);
  });
});
