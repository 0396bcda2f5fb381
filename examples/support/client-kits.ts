/**
 * The two official MCP client majors behind one small interface, so the demo and the stack tests
 * drive each example server with its matching client: SDK v1 (`@modelcontextprotocol/sdk`) for the
 * v1 server, SDK v2 (`@modelcontextprotocol/client`) for the v2 and Hono servers.
 */

import {
  Client as V2Client,
  StreamableHTTPClientTransport as V2Transport,
} from '@modelcontextprotocol/client';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as V1Transport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { connectWithOAuth, type TestOAuthClientProvider } from './oauth-client.js';
import { connectV2WithOAuth } from './oauth-client-v2.js';

/** A connected MCP client session. */
export interface McpUser {
  callTool(name: string): Promise<{ isError: boolean; text: string }>;
  readonly sessionId: string | undefined;
  close(): Promise<void>;
}

/** How one SDK major connects. */
export interface ClientKit {
  name: 'SDK v1' | 'SDK v2';
  /** Connects with a static bearer token (bearer mode), optionally presenting an MCP session id. */
  connectWithToken(mcpUrl: string, token: string, sessionId?: string): Promise<McpUser>;
  /** Connects as an MCP client that logs in by itself (MCP authorization). */
  connectWithOAuth(mcpUrl: string, provider: TestOAuthClientProvider): Promise<McpUser>;
}

type AnyClient = {
  callTool(request: { name: string; arguments: Record<string, unknown> }): Promise<unknown>;
  close(): Promise<void>;
};

function wrap(client: AnyClient, transport: { sessionId?: string | undefined }): McpUser {
  return {
    async callTool(name) {
      const result = (await client.callTool({ name, arguments: {} })) as {
        isError?: boolean;
        content: Array<{ type: string; text?: string }>;
      };
      return {
        isError: result.isError === true,
        text: result.content.map((part) => part.text ?? '').join(''),
      };
    },
    get sessionId() {
      return transport.sessionId;
    },
    close: () => client.close(),
  };
}

export const v1Kit: ClientKit = {
  name: 'SDK v1',
  async connectWithToken(mcpUrl, token, sessionId) {
    const transport = new V1Transport(new URL(mcpUrl), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
      ...(sessionId === undefined ? {} : { sessionId }),
    });
    const client = new V1Client({ name: 'mcp-oauth-credentials-demo', version: '1.0.0' });
    await client.connect(transport);
    return wrap(client, transport);
  },
  async connectWithOAuth(mcpUrl, provider) {
    const { client, transport } = await connectWithOAuth(mcpUrl, provider);
    return wrap(client, transport);
  },
};

export const v2Kit: ClientKit = {
  name: 'SDK v2',
  async connectWithToken(mcpUrl, token, sessionId) {
    const transport = new V2Transport(new URL(mcpUrl), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
      ...(sessionId === undefined ? {} : { sessionId }),
    });
    const client = new V2Client({ name: 'mcp-oauth-credentials-demo', version: '1.0.0' });
    await client.connect(transport);
    return wrap(client as unknown as AnyClient, transport);
  },
  async connectWithOAuth(mcpUrl, provider) {
    const { client, transport } = await connectV2WithOAuth(mcpUrl, provider);
    return wrap(client as unknown as AnyClient, transport);
  },
};
