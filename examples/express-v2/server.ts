/**
 * An example MCP server on the MCP SDK v2 (`@modelcontextprotocol/server` with
 * `@modelcontextprotocol/express` and `@modelcontextprotocol/node`) and Express, with the same tools
 * and modes as examples/express. In v2 the MCP server is only a resource server: the package's own
 * authorization server answers the OAuth endpoints.
 *
 *   node --env-file=.env --import tsx examples/express-v2/server.ts
 *   npm run demo -- --stack v2
 */
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { pathToFileURL } from 'node:url';
import { createMcpExpressApp, requireBearerAuth } from '@modelcontextprotocol/express';
import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import { isInitializeRequest, McpServer } from '@modelcontextprotocol/server';
import type { Request, Response } from 'express';
import {
  createAuthHandlers,
  createMcpSessionGuard,
  expressHandler,
  expressHealthCheck,
} from 'mcp-oauth-credentials/express';
import { bearerVerifier, urlElicitationError } from 'mcp-oauth-credentials/sdk-v2';
import {
  buildExampleCore,
  configFromEnv,
  type ExampleServer,
  type ExampleServerConfig,
  toolFailure,
} from '../shared/core.js';

/** Builds and starts the SDK v2 + Express example server. */
export async function startExpressV2Server(config: ExampleServerConfig): Promise<ExampleServer> {
  const host = config.host ?? '127.0.0.1';
  const app = createMcpExpressApp({ host });
  app.disable('x-powered-by');
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(config.port ?? 8000, host, () => resolve(listening));
  });
  const port = (server.address() as { port: number }).port;
  const url = config.publicBaseUrl ?? `http://${host}:${port}`;
  const core = await buildExampleCore(config, url);

  // The package's authorization server (oauth mode): metadata, /authorize, consent, /token, ...
  const authServer = core.authServer;
  if (authServer !== undefined)
    app.use(expressHandler((request, context) => authServer.handle(request, context)));
  const bearer = requireBearerAuth({
    verifier: bearerVerifier(core.verifier),
    ...(core.resourceMetadataUrl === undefined
      ? {}
      : { resourceMetadataUrl: core.resourceMetadataUrl, expectedResource: new URL(core.mcpUrl) }),
  });
  const auth = createAuthHandlers({ handlers: core.signIn });
  app.get('/auth/start', auth.startAuthorization);
  app.get('/oauth/callback', auth.oauthCallback);
  app.post('/auth/revoke', bearer, auth.revoke);
  app.get('/auth/status', bearer, auth.status);
  app.get('/auth/connect', auth.connect);
  app.get('/healthz', expressHealthCheck(core.health));

  const guard = createMcpSessionGuard({ guard: core.guard });
  const buildMcpServer = () => {
    const mcp = new McpServer({ name: 'mcp-oauth-credentials-example-v2', version: '1.0.0' });
    // v2 hands tools a `ctx` (`ctx.http.authInfo`, `ctx.sessionId`); the tool helper takes it as is.
    for (const tool of core.tools)
      mcp.registerTool(tool.name, { description: tool.description }, async (ctx) => {
        try {
          return await tool.run(ctx);
        } catch (error) {
          // Missing Google access: URL elicitation (2025-11-25 sessions whose client supports it), a link otherwise.
          const elicitation = urlElicitationError(error, mcp.server);
          if (elicitation) throw elicitation;
          return toolFailure(error, core.signInUrl);
        }
      });
    return mcp;
  };

  const transports = new Map<string, NodeStreamableHTTPServerTransport>();
  const handleMcp = async (req: Request, res: Response) => {
    const sessionId = req.headers['mcp-session-id'];
    if (typeof sessionId === 'string') {
      const transport = transports.get(sessionId);
      if (!transport) {
        res
          .status(404)
          .json({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null });
        return;
      }
      await transport.handleRequest(req, res, req.body);
      return;
    }
    if (req.method !== 'POST' || !isInitializeRequest(req.body)) {
      res
        .status(400)
        .json({ jsonrpc: '2.0', error: { code: -32000, message: 'Bad Request: no session' }, id: null });
      return;
    }
    const bind = guard.bindOnInitialize(req);
    const mcp = buildMcpServer();
    const transport: NodeStreamableHTTPServerTransport = new NodeStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: async (id) => {
        transports.set(id, transport);
        core.completions.track(id, mcp.server);
        await bind(id);
      },
      onsessionclosed: async (id) => {
        transports.delete(id);
        core.completions.forget(id);
        await guard.unbind(id);
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) {
        transports.delete(transport.sessionId);
        core.completions.forget(transport.sessionId);
      }
    };
    await mcp.connect(transport);
    await transport.handleRequest(req, res, req.body);
  };
  for (const method of ['post', 'get', 'delete'] as const) {
    app[method](
      '/mcp',
      bearer,
      guard.middleware,
      (req: Request, res: Response, next: (error?: unknown) => void) => {
        handleMcp(req, res).catch(next);
      },
    );
  }

  return {
    url,
    listenUrl: `http://${host}:${port}`,
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

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const server = await startExpressV2Server({ ...configFromEnv(), logger: console });
  console.log(`MCP server (SDK v2, Express) on ${server.mcpUrl}; sign in at ${server.url}/auth/start`);
}
