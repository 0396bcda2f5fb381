// Your MCP server, its Google sign-in and a tool call, tested on your machine: no Google account.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { MemoryCredentialStore } from 'mcp-oauth-credentials';
import { startGoogleLikeProvider, TestBrowser } from 'mcp-oauth-credentials/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type ExampleServer, startExampleServer } from '../express/server.js'; // your server here

let google: Awaited<ReturnType<typeof startGoogleLikeProvider>>;
let server: ExampleServer;
beforeAll(async () => {
  google = await startGoogleLikeProvider(); // on 127.0.0.1, a random port
  // clientSettings(): client id and secret, endpoints, issuer and userinfo URL of the local provider.
  server = await startExampleServer({
    ...google.clientSettings(),
    port: 0,
    store: new MemoryCredentialStore(),
  });
});
afterAll(async () => {
  await server.close();
  await google.close();
});

it('signs alice in and calls a tool as alice through the official MCP client', async () => {
  google.setDefaultUser('alice@example.com'); // who "signs in" at the provider's consent screen
  const { page } = await new TestBrowser().navigate(`${server.url}/auth/start`, () => false, {
    headers: { accept: 'application/json' },
  });
  const { access_token } = JSON.parse(page!.html) as { access_token: string };

  const client = new Client({ name: 'my-test', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(server.mcpUrl), {
      requestInit: { headers: { authorization: `Bearer ${access_token}` } },
    }),
  );
  const result = (await client.callTool({ name: 'get_profile', arguments: {} })) as {
    content: Array<{ text: string }>;
  };
  expect(JSON.parse(result.content[0]!.text)).toMatchObject({ email: 'alice@example.com' });
  expect(google.counters.authorizationCodeRequests).toBe(1); // the provider counts what it served
  await client.close();
});
