/**
 * ClientMetadataDocuments on its own, against a real HTTPS server on 127.0.0.1: the default address
 * guard range by range (IPv4, IPv6, IPv4-mapped), each refusal with its reason (status, type, size at
 * its edge, time, JSON shape, client_id, authentication method, metadata), what a document becomes,
 * when this server first saw it (kept in the backend), and how long a document is cached.
 */
import { Agent } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ClientMetadataDocuments,
  type ClientMetadataOptions,
  isPublicAddress,
} from '../../src/mcp-auth/client-metadata.js';
import { MemorySessionBackend } from '../../src/session/index.js';
import { opensslAvailable, startTlsServer, type TlsServer } from '../../src/testing/tls-server.js';
import { FakeClock } from '../support/clock.js';
import { type RecordedLine, recordingLogger } from '../support/recording-logger.js';

describe('isPublicAddress', () => {
  it('refuses every private, loopback, link-local, CGNAT, documentation, multicast and reserved IPv4 range, at its edges', () => {
    const refused = [
      '0.0.0.0',
      '0.255.255.255',
      '10.0.0.0',
      '10.255.255.255',
      '100.64.0.0',
      '100.127.255.255',
      '127.0.0.1',
      '127.255.255.255',
      '169.254.169.254',
      '172.16.0.0',
      '172.31.255.255',
      '192.0.0.8',
      '192.0.2.1',
      '192.168.0.1',
      '192.168.255.255',
      '198.18.0.0',
      '198.19.255.255',
      '198.51.100.7',
      '203.0.113.9',
      '224.0.0.1',
      '239.255.255.255',
      '240.0.0.1',
      '255.255.255.255',
    ];
    const allowed = [
      '1.1.1.1',
      '8.8.8.8',
      '9.255.255.255',
      '11.0.0.0',
      '100.63.255.255',
      '100.128.0.0',
      '126.255.255.255',
      '128.0.0.0',
      '169.253.255.255',
      '172.15.255.255',
      '172.32.0.0',
      '192.0.1.0',
      '192.167.255.255',
      '198.17.255.255',
      '198.20.0.0',
      '223.255.255.255',
    ];
    for (const address of refused) expect(isPublicAddress(address, 4), address).toBe(false);
    for (const address of allowed) expect(isPublicAddress(address, 4), address).toBe(true);
  });

  it('refuses the IPv6 equivalents, and an IPv4-mapped address by its IPv4 range', () => {
    const refused = [
      '::',
      '::1',
      '64:ff9b::7f00:1',
      '100::1',
      '2001:db8::1',
      'fc00::1',
      'fdff::1',
      'fe80::1',
      'febf::1',
      'ff02::1',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '0:0:0:0:0:ffff:a00:1',
      '::FFFF:10.1.2.3',
      '::ffff:169.254.169.254',
    ];
    const allowed = [
      '2606:4700:4700::1111',
      '2001:4860:4860::8888',
      '::ffff:8.8.8.8',
      '::FFFF:1.1.1.1',
      'fec0::1',
    ];
    for (const address of refused) expect(isPublicAddress(address, 6), address).toBe(false);
    for (const address of allowed) expect(isPublicAddress(address, 6), address).toBe(true);
  });
});

const canServeTls = opensslAvailable();
if (!canServeTls)
  console.info('[skip] ClientMetadataDocuments tests need openssl to make a test certificate');

describe.skipIf(!canServeTls)('ClientMetadataDocuments', () => {
  let tls: TlsServer;
  beforeAll(async () => {
    tls = await startTlsServer();
  });
  afterAll(async () => {
    await tls.close();
  });

  let paths = 0;
  const freshPath = () => `/clients/c${++paths}.json`;

  function setup(
    options: ClientMetadataOptions = {},
    backend?: MemorySessionBackend,
    clock = new FakeClock(),
  ) {
    const lines: RecordedLine[] = [];
    const documents = new ClientMetadataDocuments(
      { agent: tls.agent, allowAddress: (address) => address === '127.0.0.1', timeoutMs: 1_000, ...options },
      {
        backend: backend ?? new MemorySessionBackend({ clock }),
        clock,
        logger: recordingLogger(lines),
        firstSeenTtlMs: 86_400_000,
      },
    );
    return { documents, clock, lines };
  }

  const documentFor = (path: string, overrides: Record<string, unknown> = {}) => ({
    client_id: `${tls.origin}${path}`,
    client_name: 'Metadata Client',
    redirect_uris: ['http://127.0.0.1:43210/callback'],
    ...overrides,
  });

  async function refusalOf(documents: ClientMetadataDocuments, clientId: string): Promise<string> {
    try {
      await documents.resolve(clientId);
    } catch (error) {
      expect(error).toMatchObject({ error: 'invalid_client' });
      return (error as Error).message.replace(
        `the client metadata document at ${clientId} cannot be used: `,
        '',
      );
    }
    throw new Error('resolved');
  }

  it('turns a document into a public client first seen now, keeping only known fields', async () => {
    const { documents, clock, lines } = setup();
    const path = freshPath();
    tls.json(path, documentFor(path, { logo_uri: undefined, jwks: { keys: [] } }));
    const record = await documents.resolve(`${tls.origin}${path}`);
    expect(record).toEqual({
      client_id: `${tls.origin}${path}`,
      client_name: 'Metadata Client',
      redirect_uris: ['http://127.0.0.1:43210/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      client_id_issued_at: Math.floor(clock.now() / 1000),
      firstSeenAt: clock.now(),
    });
    expect(lines).toEqual([]);
  });

  it('remembers when it first saw a client, across instances sharing a backend', async () => {
    const clock = new FakeClock();
    const backend = new MemorySessionBackend({ clock });
    const path = freshPath();
    tls.json(path, documentFor(path, { grant_types: ['authorization_code'] }), {
      'cache-control': 'no-store',
    });
    const first = await setup({}, backend, clock).documents.resolve(`${tls.origin}${path}`);
    clock.advance(3_600_500);
    const later = await setup({}, backend, clock).documents.resolve(`${tls.origin}${path}`);
    expect(later.firstSeenAt).toBe(first.firstSeenAt);
    expect(later.client_id_issued_at).toBe(Math.floor(first.firstSeenAt / 1000));
    expect(later.grant_types).toEqual(['authorization_code']);
  });

  it('caches for max-age (clamped to maxTtlMs), the default without it, not at all for no-store, no-cache or private', async () => {
    const cases: Array<[Record<string, string>, number, ClientMetadataOptions?]> = [
      [{ 'cache-control': 'max-age=60' }, 60_000],
      [{ 'cache-control': 'public, MAX-AGE=120' }, 120_000],
      [{ 'cache-control': 'max-age=999999' }, 600_000, { maxTtlMs: 600_000 }],
      [{}, 300_000],
      [{}, 90_000, { defaultTtlMs: 90_000 }],
    ];
    for (const [headers, ttl, options] of cases) {
      const { documents, clock } = setup(options);
      const path = freshPath();
      tls.json(path, documentFor(path), headers);
      const id = `${tls.origin}${path}`;
      await documents.resolve(id);
      clock.advance(ttl - 1);
      await documents.resolve(id);
      expect(tls.hits.get(path), JSON.stringify(headers)).toBe(1);
      clock.advance(1);
      await documents.resolve(id);
      expect(tls.hits.get(path), JSON.stringify(headers)).toBe(2);
    }
    for (const cacheControl of ['no-store', 'no-cache', 'private, max-age=600', 'max-age=0']) {
      const { documents } = setup();
      const path = freshPath();
      tls.json(path, documentFor(path), { 'cache-control': cacheControl });
      await documents.resolve(`${tls.origin}${path}`);
      await documents.resolve(`${tls.origin}${path}`);
      expect(tls.hits.get(path), cacheControl).toBe(2);
    }
  });

  it('fetches a document once for concurrent requests, and again after a failure', async () => {
    const { documents } = setup();
    const path = freshPath();
    tls.json(path, documentFor(path), { 'cache-control': 'no-store' });
    const id = `${tls.origin}${path}`;
    const [a, b, c] = await Promise.all([
      documents.resolve(id),
      documents.resolve(id),
      documents.resolve(id),
    ]);
    expect(a).toBe(b);
    expect(b).toBe(c);
    expect(tls.hits.get(path)).toBe(1);
    await documents.resolve(id);
    expect(tls.hits.get(path)).toBe(2);
  });

  it('refuses each unusable document with its reason, logged once at warn', async () => {
    const { documents, lines } = setup({ maxBytes: 2_000 });
    const cases: Array<[string, (path: string) => void, string]> = [
      [
        'not JSON',
        (p) => tls.route(p, (_q, r) => r.writeHead(200, { 'content-type': 'application/json' }).end('{nope')),
        'it is not JSON',
      ],
      [
        'an array',
        (p) => tls.route(p, (_q, r) => r.writeHead(200, { 'content-type': 'application/json' }).end('[]')),
        'it is not a JSON object',
      ],
      [
        'null',
        (p) => tls.route(p, (_q, r) => r.writeHead(200, { 'content-type': 'application/json' }).end('null')),
        'it is not a JSON object',
      ],
      [
        'a string',
        (p) => tls.route(p, (_q, r) => r.writeHead(200, { 'content-type': 'application/json' }).end('"x"')),
        'it is not a JSON object',
      ],
      [
        'another client_id',
        (p) => tls.json(p, documentFor('/elsewhere.json')),
        'its client_id is not the URL it was fetched from',
      ],
      [
        'a secret',
        (p) => tls.json(p, documentFor(p, { token_endpoint_auth_method: 'client_secret_post' })),
        'token_endpoint_auth_method client_secret_post is not supported (use none)',
      ],
      ['no redirect URI', (p) => tls.json(p, documentFor(p, { redirect_uris: [] })), 'redirect_uris: '],
      ['HTTP 404', (p) => tls.route(p, (_q, r) => r.writeHead(404).end()), 'it answered HTTP 404'],
      ['HTTP 400', (p) => tls.route(p, (_q, r) => r.writeHead(400).end()), 'it answered HTTP 400'],
      [
        'JSON named only in a parameter',
        (p) =>
          tls.route(p, (_q, r) =>
            r.writeHead(200, { 'content-type': 'text/plain; note=application/json' }).end('{}'),
          ),
        'it is not served as application/json',
      ],
      ['HTTP 500', (p) => tls.route(p, (_q, r) => r.writeHead(500).end()), 'it answered HTTP 500'],
      [
        'a redirect',
        (p) => tls.route(p, (_q, r) => r.writeHead(307, { location: '/x' }).end()),
        'it redirects (redirects are not followed)',
      ],
      [
        'HTTP 300',
        (p) => tls.route(p, (_q, r) => r.writeHead(300).end()),
        'it redirects (redirects are not followed)',
      ],
      [
        'text/json',
        (p) => tls.route(p, (_q, r) => r.writeHead(200, { 'content-type': 'text/json' }).end('{}')),
        'it is not served as application/json',
      ],
      [
        'no content type',
        (p) => tls.route(p, (_q, r) => r.writeHead(200).end('{}')),
        'it is not served as application/json',
      ],
      [
        'application/jsonp',
        (p) => tls.route(p, (_q, r) => r.writeHead(200, { 'content-type': 'application/jsonp' }).end('{}')),
        'it is not served as application/json',
      ],
      [
        'a declared size over the cap',
        (p) =>
          tls.route(p, (_q, r) =>
            r
              .writeHead(200, { 'content-type': 'application/json', 'content-length': '2001' })
              .end('x'.repeat(2001)),
          ),
        'it is larger than 2000 bytes',
      ],
      [
        'a streamed body over the cap',
        (p) =>
          tls.route(p, (_q, r) => {
            r.writeHead(200, { 'content-type': 'application/json' });
            r.write('x'.repeat(1500));
            r.end('x'.repeat(501));
          }),
        'it is larger than 2000 bytes',
      ],
    ];
    for (const [what, serve, reason] of cases) {
      const path = freshPath();
      serve(path);
      const message = await refusalOf(documents, `${tls.origin}${path}`);
      if (reason.endsWith(': ')) expect(message.startsWith(reason), what).toBe(true);
      else expect(message, what).toBe(reason);
    }
    expect(lines).toHaveLength(cases.length);
    expect(
      lines.every((line) => line.level === 'warn' && line.message === 'refused a client metadata document'),
    ).toBe(true);
    expect(lines[0]?.fields).toEqual({
      clientId: expect.stringContaining(tls.origin),
      reason: 'it is not JSON',
    });
  });

  it('refuses a declared size over the cap before reading a byte of the body', async () => {
    const { documents } = setup({ maxBytes: 100, timeoutMs: 2_000 });
    const path = freshPath();
    // Headers only: the body never comes, so only the declared length can refuse it in time.
    tls.route(path, (_q, r) => {
      r.writeHead(200, { 'content-type': 'application/json', 'content-length': '101' });
      r.flushHeaders();
    });
    expect(await refusalOf(documents, `${tls.origin}${path}`)).toBe('it is larger than 100 bytes');
  });

  it('asks for JSON', async () => {
    const { documents } = setup();
    const path = freshPath();
    let accept: string | undefined;
    tls.route(path, (request, response) => {
      accept = request.headers.accept;
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(documentFor(path)));
    });
    await documents.resolve(`${tls.origin}${path}`);
    expect(accept).toBe('application/json');
  });

  it('accepts a +json media type and a document of exactly maxBytes', async () => {
    const path = freshPath();
    const body = JSON.stringify(documentFor(path));
    const { documents } = setup({ maxBytes: body.length });
    tls.route(path, (_q, r) =>
      r
        .writeHead(200, {
          'content-type': 'application/vnd.client+json; charset=utf-8',
          'content-length': String(body.length),
        })
        .end(body),
    );
    expect((await documents.resolve(`${tls.origin}${path}`)).client_name).toBe('Metadata Client');
  });

  it('gives up on a document slower than timeoutMs', async () => {
    const { documents } = setup({ timeoutMs: 200 });
    const path = freshPath();
    tls.route(path, (_q, r) => {
      setTimeout(() => r.writeHead(200, { 'content-type': 'application/json' }).end('{}'), 1_000);
    });
    expect(await refusalOf(documents, `${tls.origin}${path}`)).toBe('it took longer than 200 ms');
  });

  it('never connects to a refused address: IP literals before connecting, names after resolving', async () => {
    const { documents } = setup({ allowAddress: isPublicAddress });
    const path = freshPath();
    tls.json(path, documentFor(path));
    expect(await refusalOf(documents, `https://127.0.0.1:${tls.port}${path}`)).toBe(
      'its address is not a public one',
    );
    expect(await refusalOf(documents, `https://[::1]:${tls.port}${path}`)).toBe(
      'its address is not a public one',
    );
    expect(await refusalOf(documents, `https://localhost:${tls.port}${path}`)).toBe(
      'its host resolves to an address that is not a public one',
    );
    expect(tls.hits.get(path) ?? 0).toBe(0);
  });

  it('connects by name to an allowed address the name resolves to', async () => {
    const { documents } = setup();
    const path = freshPath();
    const id = `https://localhost:${tls.port}${path}`;
    tls.json(path, { ...documentFor(path), client_id: id });
    expect((await documents.resolve(id)).client_id).toBe(id);
    expect(tls.hits.get(path)).toBe(1);
  });

  it('guards the one address a socket asks for when it does not race address families', async () => {
    const agent = new Agent({ ca: tls.agent.options.ca, keepAlive: false, autoSelectFamily: false });
    try {
      const path = freshPath();
      const id = `https://localhost:${tls.port}${path}`;
      tls.json(path, { ...documentFor(path), client_id: id });
      expect((await setup({ agent }).documents.resolve(id)).client_id).toBe(id);
      expect(tls.hits.get(path)).toBe(1);
      const other = freshPath();
      tls.json(other, documentFor(other));
      const refused = setup({ agent, allowAddress: isPublicAddress }).documents;
      expect(await refusalOf(refused, `https://localhost:${tls.port}${other}`)).toBe(
        'its host resolves to an address that is not a public one',
      );
      expect(tls.hits.get(other) ?? 0).toBe(0);
    } finally {
      agent.destroy();
    }
  });

  it('says the connection failed when it is cut in the middle of the document', async () => {
    const { documents } = setup();
    const path = freshPath();
    tls.route(path, (_q, r) => {
      r.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      r.write('{"client_id":', () => r.socket?.destroy());
    });
    expect(await refusalOf(documents, `${tls.origin}${path}`)).toBe('the connection failed');
  });

  it('holds a document that keeps trickling in to timeoutMs in all, not per pause', async () => {
    const { documents } = setup({ timeoutMs: 300 });
    const path = freshPath();
    tls.route(path, (_q, r) => {
      r.writeHead(200, { 'content-type': 'application/json' });
      r.write(' ');
      const drip = setInterval(() => r.write(' '), 50);
      setTimeout(() => {
        clearInterval(drip);
        r.end('{}');
      }, 1_500);
      r.on('close', () => clearInterval(drip));
    });
    expect(await refusalOf(documents, `${tls.origin}${path}`)).toBe('it took longer than 300 ms');
  });

  it('quotes an unsupported authentication method cut to 40 characters', async () => {
    const { documents } = setup();
    const path = freshPath();
    tls.json(path, documentFor(path, { token_endpoint_auth_method: `private_key_jwt${'x'.repeat(60)}` }));
    expect(await refusalOf(documents, `${tls.origin}${path}`)).toBe(
      `token_endpoint_auth_method private_key_jwt${'x'.repeat(25)} is not supported (use none)`,
    );
  });

  it('says it could not fetch what does not answer, and refuses what is not a document URL', async () => {
    const { documents } = setup();
    expect(await refusalOf(documents, 'https://127.0.0.1:1/c.json')).toBe('it could not be fetched');
    expect(await refusalOf(documents, 'http://127.0.0.1/c.json')).toBe(
      'the client id must be an https URL with a path',
    );
  });
});
