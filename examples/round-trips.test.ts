/**
 * What a tool call costs a shared session backend on each example server, in both modes: with
 * Redis behind the session store (and the MCP authorization server), an MCP tool call
 * (verification, the MCP session guard, the tool helper) reads Redis once, its user's session; the
 * token and the binding are remembered, and the session read at verification travels with the
 * request to the guard and the tool.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { MemoryCredentialStore } from 'mcp-oauth-credentials';
import { RedisSessionBackend } from 'mcp-oauth-credentials/redis';
import {
  CountingSessionBackend,
  type GoogleLikeProvider,
  startGoogleLikeProvider,
} from 'mcp-oauth-credentials/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { STACKS, type Stack } from './demo.js';
import type { ExampleServer } from './shared/core.js';
import { browserSignIn } from './support/browser.js';
import { TestOAuthClientProvider } from './support/oauth-client.js';

const redisUrl = inject('redisUrl');

for (const stack of Object.keys(STACKS) as Stack[]) {
  for (const mode of ['bearer', 'oauth'] as const) {
    describe.skipIf(!redisUrl)(
      `${STACKS[stack].label}, ${mode} mode, on Redis: round trips per tool call${redisUrl ? '' : ' (skipped: redis-server is not installed)'}`,
      () => {
        let provider: GoogleLikeProvider;
        let server: ExampleServer;
        let client: Redis;
        let backend: CountingSessionBackend;
        beforeAll(async () => {
          provider = await startGoogleLikeProvider();
          client = new Redis(redisUrl, { lazyConnect: true });
          await client.connect();
          const keyPrefix = `round-trips-${randomBytes(6).toString('hex')}:`;
          backend = new CountingSessionBackend(new RedisSessionBackend({ client, keyPrefix }));
          server = await STACKS[stack].start({
            ...provider.clientSettings(),
            port: 0,
            store: new MemoryCredentialStore(),
            sessionBackend: backend,
            authMode: mode,
            authRateLimit: false,
            serverSecret: randomBytes(32).toString('base64url'),
          });
        });
        afterAll(async () => {
          await server.close();
          await provider.close();
          await client.quit();
        });

        it('reads Redis once per tool call once the token and the binding are known', async () => {
          const user = `trips-${stack}-${mode}@example.com`;
          provider.setDefaultUser(user);
          const { kit } = STACKS[stack];
          const mcp =
            mode === 'bearer'
              ? await kit.connectWithToken(
                  server.mcpUrl,
                  String((await browserSignIn(server.url, user)).body.access_token),
                )
              : await kit.connectWithOAuth(server.mcpUrl, new TestOAuthClientProvider(`${stack}-${user}`));
          try {
            expect((await mcp.callTool('list_scopes')).isError).toBe(false);
            const perCall: Array<Record<string, number>> = [];
            for (let call = 0; call < 3; call++) {
              backend.reset();
              const result = await mcp.callTool('list_scopes');
              expect(result.isError, result.text).toBe(false);
              perCall.push(Object.fromEntries(backend.calls));
            }
            expect(perCall).toEqual([{ 'get session': 1 }, { 'get session': 1 }, { 'get session': 1 }]);
          } finally {
            await mcp.close();
          }
        });
      },
    );
  }
}
