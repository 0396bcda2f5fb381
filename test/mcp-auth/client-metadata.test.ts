/**
 * Client ID Metadata Documents: an `https` URL as `client_id`. The official SDK v1 client uses one
 * end to end (served over TLS on 127.0.0.1 with a self-signed certificate, the address guard opened
 * for it); hostile documents are refused with a clear page and nothing stored; the guard holds on the
 * address actually resolved.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectWithOAuth, TestOAuthClientProvider } from '../../examples/support/oauth-client.js';
import { TestBrowser } from '../../src/testing/browser.js';
import { opensslAvailable, startTlsServer, type TlsServer } from '../../src/testing/tls-server.js';
import { CLIENT_REDIRECT, type Harness, startHarness } from '../support/mcp-auth-harness.js';

const canServeTls = opensslAvailable();
if (!canServeTls)
  console.info('[skip] Client ID Metadata Document tests need openssl to make a test certificate');

describe.skipIf(!canServeTls)('Client ID Metadata Documents', () => {
  let tls: TlsServer;
  let h: Harness;
  beforeAll(async () => {
    tls = await startTlsServer();
    h = await startHarness({
      oauthServer: {
        clientMetadataDocuments: {
          agent: tls.agent,
          timeoutMs: 500,
          // Opened for the test server's loopback address only; everything else stays guarded.
          allowAddress: (address) => address === '127.0.0.1',
        },
      },
    });
  });
  afterAll(async () => {
    await h.close();
    await tls.close();
  });

  const documentFor = (path: string, overrides: Record<string, unknown> = {}) => ({
    client_id: `${tls.origin}${path}`,
    client_name: 'Metadata Client',
    redirect_uris: [CLIENT_REDIRECT],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    ...overrides,
  });

  it('is advertised in the authorization server metadata', async () => {
    const metadata = (await (
      await fetch(`${h.server.url}/.well-known/oauth-authorization-server`)
    ).json()) as Record<string, unknown>;
    expect(metadata.client_id_metadata_document_supported).toBe(true);
  });

  it('the SDK v1 client identifies itself by its document URL, passes consent and calls a tool', async () => {
    const url = `${tls.origin}/clients/sdk-v1.json`;
    const oauth = new TestOAuthClientProvider('sdk-v1-cimd', CLIENT_REDIRECT, url);
    tls.json('/clients/sdk-v1.json', oauth.metadataDocument(), { 'cache-control': 'max-age=300' });
    h.provider.setDefaultUser('cimd@example.com');
    const { client } = await connectWithOAuth(h.server.mcpUrl, oauth);
    try {
      expect(oauth.clientInformation()?.client_id).toBe(url);
      const consent = oauth.browser.visited.find((visited) => visited.pathname === '/oauth/consent');
      expect(consent).toBeDefined();
      const result = (await client.callTool({ name: 'get_profile', arguments: {} })) as {
        content: Array<{ text?: string }>;
      };
      expect(JSON.parse(result.content[0]!.text!).email).toBe('cimd@example.com');
      // Cached as its Cache-Control says: the authorization and the token request fetched it once.
      expect(tls.hits.get('/clients/sdk-v1.json')).toBe(1);
    } finally {
      await client.close();
    }
  });

  it('shows the document’s client_name and host on the consent page', async () => {
    tls.json('/clients/named.json', documentFor('/clients/named.json', { client_name: 'Named By Document' }));
    h.provider.setDefaultUser('named@example.com');
    const { url } = h.authorizeUrl(`${tls.origin}/clients/named.json`);
    const { page } = await new TestBrowser().navigate(url, (target) =>
      target.href.startsWith(CLIENT_REDIRECT),
    );
    expect(page!.html).toContain('Named By Document');
    expect(page!.html).toContain(`${tls.origin}/clients/named.json`);
    expect(page!.html).toContain('127.0.0.1:43210');
  });

  const hostile: Array<[string, string, (path: string) => void, RegExp]> = [
    [
      'a document whose client_id is another URL',
      '/hostile/wrong-id.json',
      (path) => tls.json(path, documentFor('/elsewhere.json')),
      /client_id is not the URL/,
    ],
    [
      'an oversized document',
      '/hostile/huge.json',
      (path) =>
        tls.json(path, documentFor(path, { client_name: 'x'.repeat(100), padding: 'p'.repeat(20_000) })),
      /larger than/,
    ],
    [
      'a slow document',
      '/hostile/slow.json',
      (path) =>
        tls.route(path, (_request, response) =>
          setTimeout(() => response.writeHead(200, { 'content-type': 'application/json' }).end('{}'), 2_000),
        ),
      /longer than/,
    ],
    [
      'a redirect to a private address',
      '/hostile/redirect.json',
      (path) =>
        tls.route(path, (_request, response) =>
          response.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end(),
        ),
      /redirects/,
    ],
    [
      'a document that is not JSON',
      '/hostile/html.json',
      (path) =>
        tls.route(path, (_request, response) =>
          response.writeHead(200, { 'content-type': 'text/html' }).end('<html></html>'),
        ),
      /application\/json/,
    ],
    [
      'a client asking for a secret',
      '/hostile/secret.json',
      (path) => tls.json(path, documentFor(path, { token_endpoint_auth_method: 'client_secret_basic' })),
      /not supported/,
    ],
  ];
  for (const [what, path, serve, reason] of hostile) {
    it(`refuses ${what} with a clear error page, storing nothing`, async () => {
      serve(path);
      const seenBefore = await h.server.sessionStore.backend.count('mcp-client-seen');
      const response = await fetch(h.authorizeUrl(`${tls.origin}${path}`).url, { redirect: 'manual' });
      expect(response.status).toBe(400);
      expect(response.headers.get('location')).toBeNull();
      expect(await response.text()).toMatch(reason);
      expect(await h.server.sessionStore.backend.count('mcp-client-seen')).toBe(seenBefore);
    });
  }

  it('accepts only the redirect URIs the document lists', async () => {
    tls.json('/clients/strict.json', documentFor('/clients/strict.json'));
    const response = await fetch(
      h.authorizeUrl(`${tls.origin}/clients/strict.json`, { redirectUri: 'http://127.0.0.1:9999/other' }).url,
      {
        redirect: 'manual',
      },
    );
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
  });

  it('refetches when the cached document expires', async () => {
    tls.json('/clients/short.json', documentFor('/clients/short.json'), { 'cache-control': 'max-age=60' });
    const authorize = () =>
      fetch(h.authorizeUrl(`${tls.origin}/clients/short.json`).url, { redirect: 'manual' });
    expect((await authorize()).status).toBe(302);
    expect((await authorize()).status).toBe(302);
    expect(tls.hits.get('/clients/short.json')).toBe(1);
    h.clock.advance(61_000);
    expect((await authorize()).status).toBe(302);
    expect(tls.hits.get('/clients/short.json')).toBe(2);
  });
});

describe.skipIf(!canServeTls)('Client ID Metadata Documents: the default address guard', () => {
  it('refuses a host that resolves to a loopback address (checked on the resolved address, not the name)', async () => {
    const tls = await startTlsServer();
    const h = await startHarness({ oauthServer: { clientMetadataDocuments: { agent: tls.agent } } });
    try {
      tls.json('/c.json', {
        client_id: `https://localhost:${tls.port}/c.json`,
        redirect_uris: [CLIENT_REDIRECT],
      });
      for (const clientId of [
        `https://localhost:${tls.port}/c.json`,
        `https://127.0.0.1:${tls.port}/c.json`,
      ]) {
        const response = await fetch(h.authorizeUrl(clientId).url, { redirect: 'manual' });
        expect(response.status).toBe(400);
        expect(await response.text()).toMatch(/not a public one/);
      }
      expect(tls.hits.get('/c.json') ?? 0).toBe(0);
    } finally {
      await h.close();
      await tls.close();
    }
  });
});
