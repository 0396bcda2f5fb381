/**
 * What every stack answers for a bad token: 401 with a `WWW-Authenticate: Bearer` challenge, never
 * 500, for unknown, expired and revoked tokens, in both modes (each SDK major needs its own error
 * class for that; `bearerVerifier` from /sdk-v1 and /sdk-v2 provides it).
 */
import { randomBytes } from 'node:crypto';
import { MemoryCredentialStore } from 'mcp-oauth-credentials';
import { type GoogleLikeProvider, startGoogleLikeProvider } from 'mcp-oauth-credentials/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STACKS, type Stack } from './demo.js';
import type { ExampleServer } from './shared/core.js';
import { browserSignIn } from './support/browser.js';
import { TestOAuthClientProvider } from './support/oauth-client.js';

const HOUR = 60 * 60 * 1000;

async function post(url: string, token: string): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    }),
  });
}

function expectChallenge(response: Response, what: string): void {
  expect(response.status, what).toBe(401);
  expect(response.headers.get('www-authenticate') ?? '', what).toMatch(/^Bearer /);
}

for (const stack of Object.keys(STACKS) as Stack[]) {
  for (const mode of ['bearer', 'oauth'] as const) {
    describe(`${STACKS[stack].label}, ${mode} mode: bad tokens are 401 with a challenge`, () => {
      let provider: GoogleLikeProvider;
      let server: ExampleServer;
      const clock = { offsetMs: 0, now: () => Date.now() + clock.offsetMs };
      beforeAll(async () => {
        provider = await startGoogleLikeProvider();
        server = await STACKS[stack].start({
          ...provider.clientSettings(),
          port: 0,
          store: new MemoryCredentialStore(),
          clock,
          authMode: mode,
          authRateLimit: false,
          serverSecret: randomBytes(32).toString('base64url'),
        });
      });
      afterAll(async () => {
        await server.close();
        await provider.close();
      });

      /** A valid token of the mode, and how to revoke it. */
      async function tokenOfMode(
        user: string,
      ): Promise<{ token: string; revoke: () => Promise<void>; lifetimeMs: number }> {
        provider.setDefaultUser(user);
        if (mode === 'bearer') {
          const signedIn = await browserSignIn(server.url, user);
          const token = String(signedIn.body.access_token);
          return {
            token,
            lifetimeMs: 30 * 24 * HOUR,
            revoke: async () => {
              await fetch(`${server.url}/auth/revoke`, {
                method: 'POST',
                headers: { authorization: `Bearer ${token}` },
              });
            },
          };
        }
        const oauth = new TestOAuthClientProvider(`${stack}-${user}`);
        const { kit } = STACKS[stack];
        const session = await kit.connectWithOAuth(server.mcpUrl, oauth);
        await session.close();
        const tokens = oauth.tokens()!;
        return {
          token: tokens.access_token,
          lifetimeMs: HOUR,
          revoke: async () => {
            await fetch(`${server.url}/revoke`, {
              method: 'POST',
              headers: { 'content-type': 'application/x-www-form-urlencoded' },
              body: new URLSearchParams({
                client_id: oauth.clientInformation()!.client_id,
                token: tokens.access_token,
              }),
            });
          },
        };
      }

      it('an unknown token', async () => {
        expectChallenge(await post(server.mcpUrl, 'mcpat_not-a-token'), 'unknown');
        expectChallenge(await post(server.mcpUrl, ''), 'empty');
      });

      it('a valid token works, then is refused once revoked', async () => {
        const { token, revoke } = await tokenOfMode(`revoked-${mode}@example.com`);
        expect((await post(server.mcpUrl, token)).status).toBe(200);
        await revoke();
        expectChallenge(await post(server.mcpUrl, token), 'revoked');
      });

      it('an expired token', async () => {
        const { token, lifetimeMs } = await tokenOfMode(`expired-${mode}@example.com`);
        clock.offsetMs += lifetimeMs + 1_000;
        try {
          expectChallenge(await post(server.mcpUrl, token), 'expired');
        } finally {
          clock.offsetMs -= lifetimeMs + 1_000;
        }
      });
    });
  }
}
