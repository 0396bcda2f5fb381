/**
 * An example MCP server on the MCP SDK v1 (`@modelcontextprotocol/sdk`) and Express, acting for many
 * Google users with mcp-oauth-credentials. Run it against Google:
 *
 *   cp examples/express/.env.example .env   # fill in the OAuth client
 *   node --env-file=.env --import tsx examples/express/server.ts
 *
 * or end to end against a local Google-like provider with `npm run demo -- --stack v1`.
 * The SDK v2 variants are examples/express-v2 and examples/hono.
 */
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { pathToFileURL } from 'node:url';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { mcpAuthRouter } from '@modelcontextprotocol/sdk/server/auth/router.js';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Request, Response } from 'express';
import {
  createAuthHandlers,
  createMcpSessionGuard,
  expressHealthCheck,
  GoogleOAuthProxyProvider,
} from 'mcp-oauth-credentials/express';
import { bearerVerifier, urlElicitationError } from 'mcp-oauth-credentials/sdk-v1';
import {
  buildExampleCore,
  configFromEnv,
  type ExampleServer,
  type ExampleServerConfig,
  toolFailure,
} from '../shared/core.js';

export type { ExampleServer, ExampleServerConfig } from '../shared/core.js';

/** The SDK v1 example's configuration: the shared one, plus the legacy router choice. */
export interface V1ServerConfig extends ExampleServerConfig {
  /**
   * oauth mode: `own` (default) mounts every endpoint of the package's authorization server; `sdk`
   * keeps the MCP SDK v1 `mcpAuthRouter` for metadata, token, registration and revocation (the
   * legacy wiring, still supported), with the package's /authorize, callback and consent in front.
   */
  oauthRouter?: 'own' | 'sdk';
}

/** Builds and starts the SDK v1 example server. */
export async function startExampleServer(config: V1ServerConfig): Promise<ExampleServer> {
  const host = config.host ?? '127.0.0.1';
  const app = createMcpExpressApp({ host });
  app.disable('x-powered-by');
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(config.port ?? 8000, host, () => resolve(listening));
  });
  const port = (server.address() as { port: number }).port;
  const url = config.publicBaseUrl ?? `http://${host}:${port}`;
  const core = await buildExampleCore(config, url);

  if (core.authServer !== undefined) {
    const provider = GoogleOAuthProxyProvider.wrap(core.authServer);
    if (config.oauthRouter === 'sdk') {
      const paths = core.authServer.paths;
      app.get(paths.authorize, provider.router);
      app.get(paths.googleCallback, provider.googleCallbackHandler);
      app.all(paths.consent, provider.router);
      const limit = config.authRateLimit === false ? { rateLimit: false as const } : {};
      app.use(
        mcpAuthRouter({
          provider,
          issuerUrl: new URL(url),
          resourceServerUrl: new URL(core.mcpUrl),
          resourceName: 'mcp-oauth-credentials example',
          authorizationOptions: limit,
          tokenOptions: limit,
          clientRegistrationOptions: limit,
          revocationOptions: limit,
        }),
      );
    } else {
      app.use(provider.router);
    }
  }
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
    const mcp = new McpServer({ name: 'mcp-oauth-credentials-example', version: '1.0.0' });
    for (const tool of core.tools) {
      mcp.registerTool(tool.name, { description: tool.description }, async (extra) => {
        try {
          return await tool.run(extra);
        } catch (error) {
          // Missing Google access: URL elicitation for clients that support it, a link otherwise.
          const elicitation = urlElicitationError(error, mcp.server);
          if (elicitation) throw elicitation;
          return toolFailure(error, core.signInUrl);
        }
      });
    }
    return mcp;
  };

  const transports = new Map<string, StreamableHTTPServerTransport>();
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
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
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
  const server = await startExampleServer({ ...configFromEnv(), logger: console });
  console.log(`MCP server on ${server.mcpUrl}; sign in at ${server.url}/auth/start`);
}
