/**
 * An example MCP server on Hono (`@hono/node-server`) and the MCP SDK v2's web-standard pieces
 * (`WebStandardStreamableHTTPServerTransport`, the `fetch`-style `requireBearerAuth`), with the same
 * tools and modes as examples/express. The package's HTTP core is web-standard, so Hono hands it
 * `c.req.raw` and returns its `Response`.
 *
 *   node --env-file=.env --import tsx examples/hono/server.ts
 *   npm run demo -- --stack hono
 */
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { serve } from '@hono/node-server';
import { createMcpHonoApp } from '@modelcontextprotocol/hono';
import {
  type AuthInfo,
  isInitializeRequest,
  McpServer,
  requireBearerAuth,
  WebStandardStreamableHTTPServerTransport,
} from '@modelcontextprotocol/server';
import type { Context } from 'hono';
import {
  AUTH_INFO_KEY,
  honoBearerAuth,
  honoHandler,
  honoHealthCheck,
  honoMiddleware,
  honoSessionGuard,
} from 'mcp-oauth-credentials/hono';
import { bearerVerifier, urlElicitationError } from 'mcp-oauth-credentials/sdk-v2';
import {
  buildExampleCore,
  configFromEnv,
  type ExampleServer,
  type ExampleServerConfig,
  toolFailure,
} from '../shared/core.js';

const SESSION_NOT_FOUND = { jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null };

/** Builds and starts the Hono example server. */
export async function startHonoServer(config: ExampleServerConfig): Promise<ExampleServer> {
  const host = config.host ?? '127.0.0.1';
  const app = createMcpHonoApp({ host });
  let ready: (port: number) => void;
  const listening = new Promise<number>((resolve) => {
    ready = resolve;
  });
  const server = serve({ fetch: app.fetch, port: config.port ?? 8000, hostname: host }, (info) =>
    ready(info.port),
  );
  const port = await listening;
  const url = config.publicBaseUrl ?? `http://${host}:${port}`;
  const core = await buildExampleCore(config, url);

  const authServer = core.authServer;
  if (authServer !== undefined)
    app.use(
      '*',
      honoMiddleware((request, context) => authServer.handle(request, context)),
    );
  const bearer = honoBearerAuth(
    requireBearerAuth({
      verifier: bearerVerifier(core.verifier),
      ...(core.resourceMetadataUrl === undefined
        ? {}
        : { resourceMetadataUrl: core.resourceMetadataUrl, expectedResource: new URL(core.mcpUrl) }),
    }),
  );
  const userOf = (c: Context) => {
    const userId = (c.get(AUTH_INFO_KEY as never) as AuthInfo | undefined)?.extra?.userId;
    return { userId: typeof userId === 'string' ? userId : '' };
  };
  app.get('/auth/start', honoHandler(core.signIn.start));
  app.get('/oauth/callback', honoHandler(core.signIn.callback));
  app.post('/auth/revoke', bearer, (c) => core.signIn.revoke(c.req.raw, userOf(c)));
  app.get('/auth/status', bearer, (c) => core.signIn.status(c.req.raw, userOf(c)));
  app.get('/auth/connect', honoHandler(core.signIn.connect));
  app.get('/healthz', honoHealthCheck(core.health));

  const buildMcpServer = () => {
    const mcp = new McpServer({ name: 'mcp-oauth-credentials-example-hono', version: '1.0.0' });
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
  const transports = new Map<string, WebStandardStreamableHTTPServerTransport>();
  app.all('/mcp', bearer, honoSessionGuard(core.guard), async (c) => {
    const authInfo = c.get(AUTH_INFO_KEY as never) as AuthInfo;
    const parsedBody = c.get('parsedBody' as never) as unknown;
    const sessionId = c.req.header('mcp-session-id');
    if (sessionId !== undefined) {
      const transport = transports.get(sessionId);
      if (!transport) return c.json(SESSION_NOT_FOUND, 404);
      return transport.handleRequest(c.req.raw, { authInfo, parsedBody });
    }
    if (c.req.method !== 'POST' || !isInitializeRequest(parsedBody)) {
      return c.json(
        { jsonrpc: '2.0', error: { code: -32000, message: 'Bad Request: no session' }, id: null },
        400,
      );
    }
    const mcp = buildMcpServer();
    const transport: WebStandardStreamableHTTPServerTransport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: async (id) => {
        transports.set(id, transport);
        core.completions.track(id, mcp.server);
        await core.guard.bind(id, authInfo);
      },
      onsessionclosed: async (id) => {
        transports.delete(id);
        core.completions.forget(id);
        await core.guard.unbind(id);
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) {
        transports.delete(transport.sessionId);
        core.completions.forget(transport.sessionId);
      }
    };
    await mcp.connect(transport);
    return transport.handleRequest(c.req.raw, { authInfo, parsedBody });
  });

  return {
    url,
    listenUrl: `http://${host}:${port}`,
    mcpUrl: core.mcpUrl,
    manager: core.manager,
    sessionStore: core.sessionStore,
    store: core.store,
    close: async () => {
      await Promise.allSettled([...transports.values()].map((transport) => transport.close()));
      await new Promise<void>((resolve) => {
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
        server.close(() => resolve());
      });
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const server = await startHonoServer({ ...configFromEnv(), logger: console });
  console.log(`MCP server (SDK v2, Hono) on ${server.mcpUrl}; sign in at ${server.url}/auth/start`);
}
