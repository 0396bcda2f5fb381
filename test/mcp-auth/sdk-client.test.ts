/**
 * The official MCP SDK v1 client, as real MCP clients use it, against the example server in MCP
 * authorization mode: it logs in by itself through the consent page, survives a burst of parallel
 * tool calls at expiry (each refreshing without coordination), and stays signed in across 40 days of
 * activity on an injected clock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectWithOAuth, TestOAuthClientProvider } from '../../examples/support/oauth-client.js';
import { type Harness, startHarness } from '../support/mcp-auth-harness.js';

const DAY = 24 * 60 * 60 * 1000;

async function profileEmail(client: Awaited<ReturnType<typeof connectWithOAuth>>['client']): Promise<string> {
  const result = (await client.callTool({ name: 'get_profile', arguments: {} })) as {
    isError?: boolean;
    content: Array<{ text?: string }>;
  };
  if (result.isError) throw new Error(result.content[0]?.text);
  return JSON.parse(result.content[0]!.text!).email as string;
}

describe('the official MCP SDK client in MCP authorization mode', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('logs in through the consent page and calls a tool as its own Google user', async () => {
    h.provider.setDefaultUser('sdk@example.com');
    const oauth = new TestOAuthClientProvider('sdk-client');
    const { client } = await connectWithOAuth(h.server.mcpUrl, oauth);
    try {
      expect(await profileEmail(client)).toBe('sdk@example.com');
      expect(oauth.browser.visited.some((url) => url.pathname === '/oauth/consent')).toBe(true);
      expect(oauth.authorizations).toBe(1);
    } finally {
      await client.close();
    }
  });

  it('survives 20 parallel tool calls at expiry without a new sign-in', async () => {
    h.provider.setDefaultUser('burst@example.com');
    const oauth = new TestOAuthClientProvider('burst-client');
    const { client } = await connectWithOAuth(h.server.mcpUrl, oauth);
    try {
      h.clock.advance(61 * 60 * 1000);
      const results = await Promise.allSettled(Array.from({ length: 20 }, () => profileEmail(client)));
      // Every request presented the expired token; each 401 made the client refresh with the refresh
      // token it held, without coordination. The server honoured them all (grace window)...
      const refreshes = oauth.savedTokens.length - 1;
      expect(refreshes).toBeGreaterThan(1);
      expect(h.log.filter((line) => /reuse outside the grace window|revoking/.test(line.message))).toEqual(
        [],
      );
      // ...and no call failed for a server reason: the SDK transport's own circuit breaker (one flag
      // for all in-flight requests) turns a second concurrent 401 into an error on the client side.
      for (const result of results) {
        if (result.status === 'fulfilled') expect(result.value).toBe('burst@example.com');
        else expect(String(result.reason)).toContain('401 after successful authentication');
      }
      expect(oauth.authorizations).toBe(1);
      // The user is still signed in: the next burst, with fresh tokens, all succeeds.
      const again = await Promise.all(Array.from({ length: 20 }, () => profileEmail(client)));
      expect(again).toEqual(Array(20).fill('burst@example.com'));
      expect(oauth.authorizations).toBe(1);
    } finally {
      await client.close();
    }
  });

  it('stays signed in across 40 days of activity, refreshing every few days', async () => {
    h.provider.setDefaultUser('steady@example.com');
    const oauth = new TestOAuthClientProvider('steady-client');
    let session = await connectWithOAuth(h.server.mcpUrl, oauth);
    try {
      for (let day = 3; day <= 42; day += 3) {
        h.clock.advance(3 * DAY);
        // A desktop client reconnects (a new MCP session) with the tokens it saved.
        await session.client.close();
        session = await connectWithOAuth(h.server.mcpUrl, oauth);
        expect(await profileEmail(session.client), `day ${day}`).toBe('steady@example.com');
      }
      expect(oauth.authorizations).toBe(1);
    } finally {
      await session.client.close();
    }
  });
});
