/**
 * The HTTP benchmark's baseline: the example's tools served by the MCP SDK v1 over Express with no
 * authentication at all (each tool answers for one fixed user). It lives here, not in the example
 * server, so nobody copying the example inherits a switch that turns authentication off.
 */
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Request, Response } from 'express';
import { buildExampleCore, type ExampleServer, type ExampleServerConfig } from '../examples/shared/core.js';

/** Starts the example's tools with no authentication; every call acts for `userId`. */
export async function startUnauthenticatedServer(
  config: ExampleServerConfig,
  userId: string,
): Promise<ExampleServer> {
  const host = '127.0.0.1';
  const app = createMcpExpressApp({ host });
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, host, () => resolve(listening));
  });
  const url = `http://${host}:${(server.address() as { port: number }).port}`;
  const core = await buildExampleCore(config, url);
  const authInfo = { token: '', clientId: 'bench', scopes: [], extra: { userId } };
  const transports = new Map<string, StreamableHTTPServerTransport>();

  const handle = async (req: Request, res: Response) => {
    const sessionId = req.headers['mcp-session-id'];
    const existing = typeof sessionId === 'string' ? transports.get(sessionId) : undefined;
    if (existing) return existing.handleRequest(req, res, req.body);
    if (req.method !== 'POST' || !isInitializeRequest(req.body)) {
      res.status(400).json({ jsonrpc: '2.0', error: { code: -32000, message: 'no session' }, id: null });
      return;
    }
    const mcp = new McpServer({ name: 'bench-unauthenticated', version: '1.0.0' });
    for (const tool of core.tools) {
      mcp.registerTool(tool.name, { description: tool.description }, () => tool.run({ authInfo }));
    }
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        transports.set(id, transport);
      },
    });
    await mcp.connect(transport);
    await transport.handleRequest(req, res, req.body);
  };
  app.post('/mcp', (req: Request, res: Response, next: (error?: unknown) => void) => {
    handle(req, res).catch(next);
  });
  return {
    url,
    listenUrl: url,
    mcpUrl: core.mcpUrl,
    manager: core.manager,
    sessionStore: core.sessionStore,
    store: core.store,
    close: async () => {
      await Promise.allSettled([...transports.values()].map((transport) => transport.close()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
