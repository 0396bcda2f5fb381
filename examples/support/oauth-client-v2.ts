/**
 * The MCP SDK v2 client (`@modelcontextprotocol/client`) logging in by itself, with the same
 * in-memory provider and browser as the v1 helper: it follows the redirects, approves the consent
 * page, and finishes with the callback's `code` and `iss` (which v2 checks, RFC 9207).
 */
import {
  Client,
  type OAuthClientProvider,
  StreamableHTTPClientTransport,
  UnauthorizedError,
} from '@modelcontextprotocol/client';
import type { TestOAuthClientProvider } from './oauth-client.js';

/** A connected v2 MCP client for `mcpUrl`, logging in first if the server asks. */
export async function connectV2WithOAuth(
  mcpUrl: string,
  provider: TestOAuthClientProvider,
): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const authProvider = provider as unknown as OAuthClientProvider;
  const open = () => {
    const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider });
    const client = new Client({ name: provider.name, version: '1.0.0' });
    return { client, transport };
  };
  let session = open();
  try {
    await session.client.connect(session.transport);
    return session;
  } catch (error) {
    if (!(error instanceof UnauthorizedError)) throw error;
  }
  if (!provider.lastCallback?.searchParams.get('code')) {
    throw new Error(`authorization failed: ${provider.lastCallback?.search ?? 'no callback'}`);
  }
  await session.transport.finishAuth(provider.lastCallback.searchParams);
  session = open();
  await session.client.connect(session.transport);
  return session;
}
