/**
 * Any OpenID Connect provider, not only Google's certificate format: a stock oauth2-mock-server
 * (JWKS keys, a discovery document; no Google-specific glue) signs users in to the example server
 * configured by its issuer URL alone. And a key endpoint that is down is a 502 "try again", not the
 * 403 a forged token gets.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { OAuth2Server } from 'oauth2-mock-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ExampleServer, startExampleServer } from '../../examples/express/server.js';
import { ConfigurationError, MemoryCredentialStore, ProviderError } from '../../src/index.js';
import { discoverOidcProvider } from '../../src/manager/index.js';
import { TestBrowser } from '../../src/testing/browser.js';
import { recordingLogger } from '../support/mcp-auth-harness.js';

const CLIENT_ID = 'stock-client';
let provider: OAuth2Server;

beforeAll(async () => {
  provider = new OAuth2Server();
  await provider.issuer.keys.generate('RS256');
  await provider.start(0, '127.0.0.1');
  // The one thing a test sets on any mock provider: who signs in (its default subject has no email).
  provider.service.on('beforeTokenSigning', (token: { payload: Record<string, unknown> }) => {
    Object.assign(token.payload, { email: 'oidc-user@example.com', email_verified: true, aud: CLIENT_ID });
  });
});
afterAll(() => provider.stop());

async function signIn(server: ExampleServer) {
  const { page } = await new TestBrowser().navigate(`${server.url}/auth/start`, () => false, {
    headers: { accept: 'application/json' },
  });
  return { status: page!.status, text: page!.html };
}

describe('sign-in with a standard OpenID Connect provider', () => {
  it('discovers the endpoints and keys from the issuer URL', async () => {
    const discovered = await discoverOidcProvider(provider.issuer.url!);
    expect(discovered.issuers).toEqual([provider.issuer.url]);
    expect(discovered.endpoints.jwksUri).toBe(`${provider.issuer.url}/jwks`);
    expect(discovered.userinfoUrl).toBe(`${provider.issuer.url}/userinfo`);
  });

  it('signs a user in to the example server configured by oauthIssuer alone', async () => {
    const store = new MemoryCredentialStore();
    const server = await startExampleServer({
      clientId: CLIENT_ID,
      clientSecret: 'stock-secret',
      oauthIssuer: provider.issuer.url!,
      port: 0,
      store,
      serverSecret: randomBytes(32).toString('base64url'),
      authRateLimit: false,
    });
    try {
      const result = await signIn(server);
      expect(result.status, result.text).toBe(200);
      expect(JSON.parse(result.text)).toMatchObject({ user_id: 'oidc-user@example.com' });
      expect((await store.get('oidc-user@example.com'))?.credentials.refreshToken).toBeTruthy();
    } finally {
      await server.close();
    }
  });

  it('answers 502 "try again" (not 403) when the key endpoint is down, and logs it', async () => {
    const discovered = await discoverOidcProvider(provider.issuer.url!);
    const log = recordingLogger();
    const server = await startExampleServer({
      clientId: CLIENT_ID,
      clientSecret: 'stock-secret',
      oauthEndpoints: { ...discovered.endpoints, jwksUri: 'http://127.0.0.1:9/jwks' },
      issuers: discovered.issuers,
      port: 0,
      store: new MemoryCredentialStore(),
      serverSecret: randomBytes(32).toString('base64url'),
      authRateLimit: false,
      logger: log.logger,
    });
    try {
      const result = await signIn(server);
      expect(result.status).toBe(502);
      expect(JSON.parse(result.text)).toMatchObject({ error: 'temporarily_unavailable' });
      const lines = log.lines.filter((line) => line.fields.code === 'PROVIDER_ERROR');
      expect(lines, JSON.stringify(log.lines)).toHaveLength(1);
      expect(lines[0]!.level).toBe('warn');
    } finally {
      await server.close();
    }
  });

  it('refuses discovery documents that are unreachable, for another issuer, or served over plain http', async () => {
    await expect(discoverOidcProvider('http://127.0.0.1:9')).rejects.toBeInstanceOf(ProviderError);
    const impostor = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ ...document, issuer: 'https://accounts.google.com' }));
    });
    const document = (await (
      await fetch(`${provider.issuer.url}/.well-known/openid-configuration`)
    ).json()) as Record<string, unknown>;
    await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(impostor.address() as { port: number }).port}`;
      await expect(discoverOidcProvider(url)).rejects.toBeInstanceOf(ConfigurationError);
    } finally {
      impostor.close();
    }
    await expect(discoverOidcProvider('http://idp.example.com')).rejects.toBeInstanceOf(ConfigurationError);
  });
});
