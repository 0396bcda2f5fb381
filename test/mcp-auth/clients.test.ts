/**
 * The client registry on its own: which redirect URIs and metadata-document ids it accepts, what a
 * registration keeps (and never keeps: the secret), how a client is looked up, every branch of client
 * authentication at the token endpoint (RFC 6749 §2.3), and how a pending registration becomes active.
 */
import { describe, expect, it, vi } from 'vitest';
import {
  type ClientRecord,
  ClientRegistry,
  type ClientRegistryOptions,
  isAcceptableRedirectUri,
  isClientMetadataUrl,
  parseRegistration,
  registrationResponse,
} from '../../src/mcp-auth/clients.js';
import { sha256 } from '../../src/secrets.js';
import { MemorySessionBackend } from '../../src/session/index.js';
import { FakeClock } from '../support/clock.js';

const DAY = 86_400_000;
const REDIRECT = 'https://client.example/cb';

function setup(overrides: Partial<ClientRegistryOptions> = {}) {
  const clock = new FakeClock();
  const backend = new MemorySessionBackend({ clock });
  const registry = new ClientRegistry({
    backend,
    clock,
    pendingTtlMs: DAY,
    activeTtlMs: 30 * DAY,
    maxPending: 100,
    ...overrides,
  });
  return { clock, backend, registry };
}

function tokenRequest(authorization?: string): Request {
  return new Request('https://mcp.example.com/token', {
    method: 'POST',
    ...(authorization === undefined ? {} : { headers: { authorization } }),
  });
}

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

describe('isClientMetadataUrl', () => {
  it('is an https URL with a path, no fragment and no credentials', () => {
    expect(isClientMetadataUrl('https://client.example/meta.json')).toBe(true);
    expect(isClientMetadataUrl('https://client.example/')).toBe(false);
    expect(isClientMetadataUrl('https://client.example')).toBe(false);
    expect(isClientMetadataUrl('http://client.example/meta.json')).toBe(false);
    expect(isClientMetadataUrl('https://client.example/meta.json#x')).toBe(false);
    expect(isClientMetadataUrl('https://user@client.example/meta.json')).toBe(false);
    expect(isClientMetadataUrl('https://:pw@client.example/meta.json')).toBe(false);
    expect(isClientMetadataUrl('https://[bad/meta.json')).toBe(false);
    expect(isClientMetadataUrl('mcpc_abc')).toBe(false);
  });
});

describe('isAcceptableRedirectUri', () => {
  it('is https anywhere, or http on a loopback host; never a fragment or credentials', () => {
    expect(isAcceptableRedirectUri('https://client.example/cb')).toBe(true);
    for (const host of ['localhost', '127.0.0.1', '[::1]']) {
      expect(isAcceptableRedirectUri(`http://${host}:3000/cb`), host).toBe(true);
    }
    expect(isAcceptableRedirectUri('http://client.example/cb')).toBe(false);
    expect(isAcceptableRedirectUri('http://127.0.0.2/cb')).toBe(false);
    expect(isAcceptableRedirectUri('https://client.example/cb#frag')).toBe(false);
    expect(isAcceptableRedirectUri('https://u@client.example/cb')).toBe(false);
    expect(isAcceptableRedirectUri('https://:p@client.example/cb')).toBe(false);
    expect(isAcceptableRedirectUri('com.example.app:/cb')).toBe(false);
    expect(isAcceptableRedirectUri('not a url')).toBe(false);
    // A loopback host under another scheme is not the http loopback exception.
    for (const uri of ['ws://localhost:3000/cb', 'myapp://127.0.0.1/cb', 'ftp://[::1]/cb']) {
      expect(isAcceptableRedirectUri(uri), uri).toBe(false);
    }
  });
});

describe('parseRegistration', () => {
  it('names a bad redirect URI invalid_redirect_uri, with its index', () => {
    expect(() => parseRegistration({ redirect_uris: [REDIRECT, 'http://evil.example/cb'] })).toThrow(
      expect.objectContaining({
        error: 'invalid_redirect_uri',
        message: expect.stringMatching(/^redirect_uris\.1: /),
      }),
    );
  });

  it('names anything else invalid_client_metadata with the field (or "body")', () => {
    expect(() => parseRegistration({ redirect_uris: [] })).toThrow(
      expect.objectContaining({
        error: 'invalid_client_metadata',
        message: expect.stringMatching(/^redirect_uris: /),
      }),
    );
    expect(() => parseRegistration({ redirect_uris: [REDIRECT], client_name: 'x'.repeat(201) })).toThrow(
      expect.objectContaining({
        error: 'invalid_client_metadata',
        message: expect.stringMatching(/^client_name: /),
      }),
    );
    expect(() => parseRegistration('not an object')).toThrow(
      expect.objectContaining({
        error: 'invalid_client_metadata',
        message: expect.stringMatching(/^body: /),
      }),
    );
  });

  it('bounds each list and field', () => {
    const base = { redirect_uris: [REDIRECT] };
    const refused: Array<[Record<string, unknown>, string]> = [
      [{ grant_types: ['authorization_code', 'refresh_token', 'authorization_code'] }, 'grant_types: '],
      [{ grant_types: [] }, 'grant_types: '],
      [{ grant_types: ['implicit'] }, 'grant_types.0: '],
      [{ response_types: ['code', 'code'] }, 'response_types: '],
      [{ response_types: [] }, 'response_types: '],
      [{ contacts: ['a@example.com', 'b', 'c', 'd', 'e', 'f'] }, 'contacts: '],
      [{ contacts: ['x'.repeat(255)] }, 'contacts.0: '],
      [{ scope: 'x'.repeat(1001) }, 'scope: '],
      [{ client_uri: `https://c.example/${'x'.repeat(2000)}` }, 'client_uri: '],
      [{ redirect_uris: Array.from({ length: 11 }, (_, i) => `${REDIRECT}${i}`) }, 'redirect_uris: '],
      [{ token_endpoint_auth_method: 'private_key_jwt' }, 'token_endpoint_auth_method: '],
    ];
    for (const [fields, prefix] of refused) {
      expect(() => parseRegistration({ ...base, ...fields }), JSON.stringify(fields).slice(0, 60)).toThrow(
        expect.objectContaining({
          error: 'invalid_client_metadata',
          message: expect.stringMatching(new RegExp(`^${prefix.replace('.', '\\.')}`)),
        }),
      );
    }
    const accepted = parseRegistration({
      ...base,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      contacts: ['a', 'b', 'c', 'd', 'x'.repeat(254)],
      scope: 'x'.repeat(1000),
      client_name: 'n'.repeat(200),
      redirect_uris: Array.from({ length: 10 }, (_, i) => `${REDIRECT}${i}`),
    });
    expect(accepted.contacts).toHaveLength(5);
  });

  it('keeps the known fields and drops the rest', () => {
    const parsed = parseRegistration({
      redirect_uris: [REDIRECT],
      client_name: 'C',
      jwks: { keys: [] },
      extra: 1,
    });
    expect(parsed).toEqual({ redirect_uris: [REDIRECT], client_name: 'C' });
  });
});

describe('ClientRegistry.register', () => {
  it('a public client: an mcpc_ id, defaults filled in, no secret', async () => {
    const { registry, clock } = setup();
    const client = await registry.register({ redirect_uris: [REDIRECT], client_name: 'C' });
    expect(client).toEqual({
      client_id: expect.stringMatching(/^mcpc_[A-Za-z0-9_-]{24}$/),
      client_name: 'C',
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      client_id_issued_at: Math.floor(clock.now() / 1000),
      firstSeenAt: clock.now(),
    });
    expect(await registry.get(client.client_id)).toEqual(client);
  });

  it('a confidential client: a secret shown once, only its SHA-256 kept', async () => {
    const { registry } = setup();
    const client = await registry.register({
      redirect_uris: [REDIRECT],
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code'],
    });
    expect(client.client_secret).toMatch(/^mcpcs_[A-Za-z0-9_-]{43}$/);
    expect(client.client_secret_expires_at).toBe(0);
    expect(client.grant_types).toEqual(['authorization_code']);
    const stored = await registry.get(client.client_id);
    expect(stored?.clientSecretHash).toBe(sha256(client.client_secret ?? ''));
    expect(stored).not.toHaveProperty('client_secret');
    expect(registrationResponse(client)).not.toHaveProperty('clientSecretHash');
    expect(registrationResponse(client)).not.toHaveProperty('firstSeenAt');
    expect(registrationResponse(client).client_secret).toBe(client.client_secret);
  });

  it('publicOnly registers every client as public, whatever it asked for', async () => {
    const { registry } = setup();
    const client = await registry.register(
      { redirect_uris: [REDIRECT], token_endpoint_auth_method: 'client_secret_post' },
      { publicOnly: true },
    );
    expect(client.token_endpoint_auth_method).toBe('none');
    expect(client).not.toHaveProperty('client_secret');
    expect(client).not.toHaveProperty('clientSecretHash');
  });

  it('keeps a registration that never obtained a token for pendingTtlMs', async () => {
    const { registry, clock } = setup();
    const client = await registry.register({ redirect_uris: [REDIRECT] });
    clock.advance(DAY - 1);
    expect(await registry.get(client.client_id)).toBeDefined();
    clock.advance(1);
    expect(await registry.get(client.client_id)).toBeUndefined();
  });
});

describe('ClientRegistry.get', () => {
  it('refuses ids that are not strings, empty, or too long, without reading the backend or fetching', async () => {
    // A resolver that would answer anything: only the length check keeps a 2,001-character URL from it.
    const resolve = vi.fn(async (clientId: string) => ({ client_id: clientId }) as ClientRecord);
    const { registry, backend } = setup({ metadataDocuments: { resolve } });
    const read = vi.spyOn(backend, 'get');
    const tooLongUrl = `https://client.example/${'x'.repeat(2001 - 23)}`;
    expect(tooLongUrl).toHaveLength(2001);
    for (const id of [undefined, 42, '', 'x'.repeat(257), tooLongUrl]) {
      expect(await registry.get(id), String(id).slice(0, 20)).toBeUndefined();
    }
    expect(read).not.toHaveBeenCalled();
    expect(resolve).not.toHaveBeenCalled();
  });

  it('resolves a metadata-document URL through its resolver, and not at all without one', async () => {
    const described: ClientRecord = {
      client_id: 'https://client.example/meta.json',
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      client_id_issued_at: 0,
      firstSeenAt: 0,
    };
    const resolve = vi.fn(async () => described);
    expect(await setup({ metadataDocuments: { resolve } }).registry.get(described.client_id)).toBe(described);
    expect(resolve).toHaveBeenCalledWith(described.client_id);
    expect(await setup().registry.get(described.client_id)).toBeUndefined();
    // A 2000-character document URL is still an id.
    const long = `https://client.example/${'x'.repeat(2000 - 23)}`;
    expect(long).toHaveLength(2000);
    await setup({ metadataDocuments: { resolve } }).registry.get(long);
    expect(resolve).toHaveBeenLastCalledWith(long);
  });

  it('a 256-character registered id is still looked up', async () => {
    const { registry, backend } = setup();
    const id = 'x'.repeat(256);
    await backend.set('mcp-client', id, { client_id: id }, { ttlMs: DAY });
    expect(await registry.get(id)).toEqual({ client_id: id });
  });
});

describe('ClientRegistry.authenticate', () => {
  async function clients() {
    const s = setup();
    const pub = await s.registry.register({ redirect_uris: [REDIRECT] });
    const post = await s.registry.register({
      redirect_uris: [REDIRECT],
      token_endpoint_auth_method: 'client_secret_post',
    });
    const basicClient = await s.registry.register({
      redirect_uris: [REDIRECT],
      token_endpoint_auth_method: 'client_secret_basic',
    });
    return { ...s, pub, post, basicClient };
  }

  const refused = (error: string, message: string) => expect.objectContaining({ error, message });

  it('a public client by its client_id alone', async () => {
    const { registry, pub } = await clients();
    expect((await registry.authenticate(tokenRequest(), { client_id: pub.client_id })).client_id).toBe(
      pub.client_id,
    );
  });

  it('client_secret_post with the right secret; a wrong or missing one, or a public client sending one, refused', async () => {
    const { registry, post, pub } = await clients();
    const secret = post.client_secret ?? '';
    expect(
      (await registry.authenticate(tokenRequest(), { client_id: post.client_id, client_secret: secret }))
        .client_id,
    ).toBe(post.client_id);
    await expect(
      registry.authenticate(tokenRequest(), { client_id: post.client_id, client_secret: `${secret}x` }),
    ).rejects.toEqual(refused('invalid_client', 'client authentication failed'));
    await expect(registry.authenticate(tokenRequest(), { client_id: post.client_id })).rejects.toEqual(
      refused('invalid_client', 'this client authenticates with client_secret_post'),
    );
    await expect(
      registry.authenticate(tokenRequest(), { client_id: pub.client_id, client_secret: 'anything' }),
    ).rejects.toEqual(refused('invalid_client', 'this client authenticates with none'));
  });

  it('client_secret_basic in the header (lower-case scheme too, + as a space), not in the body', async () => {
    const { registry, basicClient } = await clients();
    const secret = basicClient.client_secret ?? '';
    for (const header of [
      basic(basicClient.client_id, secret),
      basic(basicClient.client_id, secret).replace('Basic', 'basic'),
    ]) {
      expect((await registry.authenticate(tokenRequest(header), {})).client_id).toBe(basicClient.client_id);
    }
    // The body's client_id may repeat the header's, not contradict it.
    expect(
      (
        await registry.authenticate(tokenRequest(basic(basicClient.client_id, secret)), {
          client_id: basicClient.client_id,
        })
      ).client_id,
    ).toBe(basicClient.client_id);
    await expect(
      registry.authenticate(tokenRequest(basic(basicClient.client_id, secret)), { client_id: 'mcpc_other' }),
    ).rejects.toEqual(refused('invalid_request', 'client_id does not match the Basic credentials'));
    await expect(
      registry.authenticate(tokenRequest(basic(basicClient.client_id, secret)), { client_secret: secret }),
    ).rejects.toEqual(refused('invalid_request', 'use one client authentication method'));
    await expect(
      registry.authenticate(tokenRequest(), { client_id: basicClient.client_id, client_secret: secret }),
    ).rejects.toEqual(refused('invalid_client', 'this client authenticates with client_secret_basic'));
    await expect(
      registry.authenticate(tokenRequest(basic(basicClient.client_id, 'wrong')), {}),
    ).rejects.toEqual(refused('invalid_client', 'client authentication failed'));
  });

  it('decodes + as a space and percent-escapes in Basic credentials', async () => {
    const { registry, backend } = setup();
    const id = 'mcpc_with space';
    await backend.set(
      'mcp-client',
      id,
      {
        client_id: id,
        token_endpoint_auth_method: 'client_secret_basic',
        clientSecretHash: sha256('s3cret:+/'),
      },
      { ttlMs: DAY },
    );
    const header = `Basic ${Buffer.from('mcpc_with+space:s3cret%3A%2B%2F').toString('base64')}`;
    expect((await registry.authenticate(tokenRequest(header), {})).client_id).toBe(id);
  });

  it('reads Basic only from a header that starts with it; an empty id in it is an unknown client', async () => {
    const { registry, post } = await clients();
    const secret = post.client_secret ?? '';
    for (const header of ['Bearer abc', 'Digest basic abc']) {
      const client = await registry.authenticate(tokenRequest(header), {
        client_id: post.client_id,
        client_secret: secret,
      });
      expect(client.client_id, header).toBe(post.client_id);
    }
    const emptyId = `Basic ${Buffer.from(':secret').toString('base64')}`;
    await expect(registry.authenticate(tokenRequest(emptyId), {})).rejects.toEqual(
      refused('invalid_client', 'unknown client'),
    );
  });

  it('malformed Basic credentials are invalid_client', async () => {
    const { registry } = await clients();
    for (const decoded of ['no-colon', 'bad%zzescape:secret', 'id:bad%zz']) {
      const header = `Basic ${Buffer.from(decoded).toString('base64')}`;
      await expect(registry.authenticate(tokenRequest(header), {}), decoded).rejects.toEqual(
        refused('invalid_client', 'malformed Basic credentials'),
      );
    }
  });

  it('an unknown client, and a confidential client whose stored record has no secret hash, are refused', async () => {
    const { registry, backend } = await clients();
    await expect(registry.authenticate(tokenRequest(), { client_id: 'mcpc_unknown' })).rejects.toEqual(
      refused('invalid_client', 'unknown client'),
    );
    await backend.set(
      'mcp-client',
      'mcpc_nohash',
      { client_id: 'mcpc_nohash', token_endpoint_auth_method: 'client_secret_post' },
      { ttlMs: DAY },
    );
    await expect(
      registry.authenticate(tokenRequest(), { client_id: 'mcpc_nohash', client_secret: '' }),
    ).rejects.toEqual(refused('invalid_client', 'client authentication failed'));
  });

  it('a secret hash of another length never matches', async () => {
    const { registry, backend } = setup();
    await backend.set(
      'mcp-client',
      'mcpc_short',
      { client_id: 'mcpc_short', token_endpoint_auth_method: 'client_secret_post', clientSecretHash: 'abc' },
      { ttlMs: DAY },
    );
    await expect(
      registry.authenticate(tokenRequest(), { client_id: 'mcpc_short', client_secret: 'abc' }),
    ).rejects.toEqual(refused('invalid_client', 'client authentication failed'));
  });
});

describe('ClientRegistry.markUsed', () => {
  it('moves a pending registration to the active namespace, out of the pending one', async () => {
    const { registry, backend, clock } = setup();
    const client = await registry.register({ redirect_uris: [REDIRECT] });
    await registry.markUsed(client);
    expect(backend.getSync('mcp-client-pending', client.client_id)).toBeUndefined();
    expect(backend.getSync('mcp-client', client.client_id)).toEqual({ ...client, lastTokenAt: clock.now() });
    clock.advance(30 * DAY - 1);
    expect(await registry.get(client.client_id)).toBeDefined();
    clock.advance(1);
    expect(await registry.get(client.client_id)).toBeUndefined();
  });

  it('slides an active client’s lifetime at most once a day', async () => {
    const { registry, backend, clock } = setup();
    const client = await registry.register({ redirect_uris: [REDIRECT] });
    await registry.markUsed(client);
    const set = vi.spyOn(backend, 'set');
    const remove = vi.spyOn(backend, 'delete');
    clock.advance(DAY - 1);
    await registry.markUsed((await registry.get(client.client_id))!);
    expect(set).not.toHaveBeenCalled();
    clock.advance(1);
    await registry.markUsed((await registry.get(client.client_id))!);
    expect(set).toHaveBeenCalledTimes(1);
    expect(set.mock.calls[0]?.[2]).toMatchObject({ lastTokenAt: clock.now() });
    expect(set.mock.calls[0]?.[3]).toEqual({ ttlMs: 30 * DAY });
    expect(remove).not.toHaveBeenCalled();
  });

  it('stores nothing for a client described by its metadata document', async () => {
    const { registry, backend } = setup();
    const set = vi.spyOn(backend, 'set');
    await registry.markUsed({
      client_id: 'https://client.example/meta.json',
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      client_id_issued_at: 0,
      firstSeenAt: 0,
    });
    expect(set).not.toHaveBeenCalled();
  });
});
