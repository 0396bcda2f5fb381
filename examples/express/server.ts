/**
 * An example MCP server (official SDK, Streamable HTTP) that acts for many Google users with
 * mcp-oauth-credentials. Run it against Google:
 *
 *   cp examples/express/.env.example .env   # fill in the OAuth client
 *   node --env-file=.env --import tsx examples/express/server.ts
 *
 * or end to end against a local Google-like provider with `npm run demo`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
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
  type BearerTokenVerifier,
  type Clock,
  type CredentialStore,
  createCredentialStore,
  type Logger,
} from 'mcp-oauth-credentials';
import {
  type AuthHandlersOptions,
  createAuthHandlers,
  createMcpSessionGuard,
  createToolAuth,
  GoogleOAuthProxyProvider,
  type GoogleOAuthProxyProviderOptions,
  type ToolRequestExtra,
  toolErrorMessage,
} from 'mcp-oauth-credentials/express';
import { CredentialManager, type OAuthEndpoints } from 'mcp-oauth-credentials/manager';
import { bearerVerifier } from 'mcp-oauth-credentials/sdk-v1';
import {
  MemorySessionBackend,
  OAuth21SessionStore,
  type SessionBackend,
} from 'mcp-oauth-credentials/session';

/** Configuration of the example server. `configFromEnv()` reads it from the environment. */
export interface ExampleServerConfig {
  clientId: string;
  clientSecret: string;
  /** Listening port; 0 picks a free one. Default 8000. */
  port?: number;
  /** Listening address. Default 127.0.0.1. */
  host?: string;
  /** How users and MCP clients reach this server. Default http://host:port. */
  publicBaseUrl?: string;
  /** A store, or a spec for createCredentialStore ('./credentials', 's3://bucket/prefix', 'memory:'). */
  store?: CredentialStore | string;
  /** Session state backend (Redis for replicas). Default: memory. */
  sessionBackend?: SessionBackend;
  /** The provider's endpoints and id_token issuers. Default: Google's. */
  oauthEndpoints?: OAuthEndpoints;
  issuers?: string[];
  /** The OpenID userinfo endpoint get_profile calls. Default: Google's. */
  userinfoUrl?: string;
  /** Scopes to request besides openid and email. Default: profile. */
  scopes?: string[];
  /**
   * `bearer` (default): users sign in at /auth/start and paste a bearer token into their MCP client.
   * `oauth`: MCP clients log in by themselves (MCP authorization: discovery, dynamic registration,
   * PKCE), with this server as an OAuth proxy in front of Google.
   */
  authMode?: 'bearer' | 'oauth';
  /** Rate-limit sign-in starts, /authorize and /register per client address. Default true. */
  authRateLimit?: boolean;
  /**
   * Seals browser-bound sign-in cookies; the same on every replica (`SERVER_SECRET`). Default: a
   * random one per process (fine for one replica; sign-ins in flight fail across a restart).
   */
  serverSecret?: string;
  /** Who may sign in, in both modes. Default: anyone with a verified Google email. */
  access?: { allowedDomains?: string[]; allowedUsers?: string[] };
  /** Extra options of the bearer-mode sign-in handlers. */
  signIn?: Partial<Omit<AuthHandlersOptions, 'manager' | 'sessionStore' | 'redirectUri' | 'serverSecret'>>;
  /** Extra options of the MCP authorization server (oauth mode). */
  oauthServer?: Partial<
    Omit<GoogleOAuthProxyProviderOptions, 'manager' | 'sessionStore' | 'serverSecret' | 'googleCallbackUrl'>
  >;
  /**
   * oauth mode: `own` (default) mounts every endpoint of the package's authorization server; `sdk`
   * keeps the MCP SDK v1 `mcpAuthRouter` for metadata, token, registration and revocation (the
   * legacy wiring, still supported).
   */
  oauthRouter?: 'own' | 'sdk';
  /** Turn authentication off (benchmark baseline only): tools then answer for `anonymousUser`. */
  authDisabled?: boolean;
  anonymousUser?: string;
  clock?: Clock;
  logger?: Logger;
}

export interface ExampleServer {
  /** The public base URL (what users, clients and tokens see). */
  url: string;
  /** Where this process listens (differs from `url` behind a proxy, or for replicas). */
  listenUrl: string;
  mcpUrl: string;
  manager: CredentialManager;
  sessionStore: OAuth21SessionStore;
  store: CredentialStore;
  close(): Promise<void>;
}

const GOOGLE_USERINFO = 'https://openidconnect.googleapis.com/v1/userinfo';

/** Reads the configuration from environment variables (see .env.example). */
export function configFromEnv(env: Record<string, string | undefined> = process.env): ExampleServerConfig {
  const clientId = env.GOOGLE_OAUTH_CLIENT_ID;
  const clientSecret = env.GOOGLE_OAUTH_CLIENT_SECRET;
  if (!clientId || !clientSecret)
    throw new Error('set GOOGLE_OAUTH_CLIENT_ID and GOOGLE_OAUTH_CLIENT_SECRET');
  return {
    clientId,
    clientSecret,
    port: Number(env.PORT ?? 8000),
    host: env.HOST ?? '127.0.0.1',
    ...(env.PUBLIC_BASE_URL ? { publicBaseUrl: env.PUBLIC_BASE_URL } : {}),
    ...(env.CREDENTIAL_STORE ? { store: env.CREDENTIAL_STORE } : {}),
    ...(env.OAUTH_SCOPES ? { scopes: env.OAUTH_SCOPES.split(/\s+/).filter(Boolean) } : {}),
    ...(env.SERVER_SECRET ? { serverSecret: env.SERVER_SECRET } : {}),
    ...(env.ALLOWED_DOMAINS
      ? { access: { allowedDomains: env.ALLOWED_DOMAINS.split(',').filter(Boolean) } }
      : {}),
    authMode: env.MCP_AUTH_MODE === 'oauth' ? 'oauth' : 'bearer',
  };
}

/** Builds and starts the example server. */
export async function startExampleServer(config: ExampleServerConfig): Promise<ExampleServer> {
  const host = config.host ?? '127.0.0.1';
  const logger = config.logger;
  const store =
    typeof config.store === 'object'
      ? config.store
      : // The server's own directory: created (0700) on first use if missing.
        await createCredentialStore(config.store, {
          file: { createDirectory: true },
          ...(logger ? { logger } : {}),
        });
  // One backend for the session store and (oauth mode) the OAuth proxy provider's state.
  const backend =
    config.sessionBackend ?? new MemorySessionBackend(config.clock ? { clock: config.clock } : {});
  const sessionStore = new OAuth21SessionStore({
    backend,
    ...(config.clock ? { clock: config.clock } : {}),
    ...(logger ? { logger } : {}),
  });

  const app = createMcpExpressApp({ host });
  app.disable('x-powered-by');
  if (config.serverSecret === undefined) {
    logger?.warn({}, 'no SERVER_SECRET set: using a random one (single replica only; set it for replicas)');
  }
  const serverSecret = config.serverSecret ?? randomBytes(32).toString('base64url');
  const policy = config.access;
  const rateLimited = config.authRateLimit !== false;
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(config.port ?? 8000, host, () => resolve(listening));
  });
  const port = (server.address() as { port: number }).port;
  const url = config.publicBaseUrl ?? `http://${host}:${port}`;
  const redirectUri = `${url}/oauth/callback`;
  const mcpUrl = `${url}/mcp`;

  const manager = new CredentialManager({
    store,
    sessionStore,
    oauth: {
      clientId: config.clientId,
      clientSecret: config.clientSecret,
      redirectUri,
      ...(config.oauthEndpoints ? { endpoints: config.oauthEndpoints } : {}),
      ...(config.issuers ? { issuers: config.issuers } : {}),
    },
    ...(config.clock ? { clock: config.clock } : {}),
    ...(logger ? { logger } : {}),
  });

  const auth = createAuthHandlers({
    manager,
    sessionStore,
    redirectUri,
    serverSecret,
    scopes: config.scopes ?? ['profile'],
    mcpEndpoint: mcpUrl,
    ...(rateLimited ? {} : { rateLimit: false as const }),
    ...(policy ? { policy } : {}),
    ...(config.clock ? { clock: config.clock } : {}),
    ...(logger ? { logger } : {}),
    ...config.signIn,
  });
  let verifier: BearerTokenVerifier = sessionStore;
  let resourceMetadataUrl: string | undefined;
  if (config.authMode === 'oauth') {
    const provider = new GoogleOAuthProxyProvider({
      manager,
      sessionStore,
      backend,
      serverSecret,
      googleCallbackUrl: `${url}/oauth/google/callback`,
      resourceServerUrl: new URL(mcpUrl),
      googleScopes: config.scopes ?? ['profile'],
      resourceName: 'mcp-oauth-credentials example',
      ...(rateLimited ? {} : { rateLimits: false as const }),
      ...(policy ? { policy } : {}),
      ...(config.clock ? { clock: config.clock } : {}),
      ...(logger ? { logger } : {}),
      ...config.oauthServer,
    });
    // The package's own endpoints answer first; with `oauthRouter: 'sdk'` the SDK's router answers
    // metadata, token, registration and revocation through the provider (legacy wiring).
    if (config.oauthRouter === 'sdk') {
      app.get(provider.server.paths.authorize, provider.router);
      app.get(provider.server.paths.googleCallback, provider.googleCallbackHandler);
      app.all(provider.server.paths.consent, provider.router);
      const sdkLimit = rateLimited ? {} : { rateLimit: false as const };
      app.use(
        mcpAuthRouter({
          provider,
          issuerUrl: new URL(url),
          resourceServerUrl: new URL(mcpUrl),
          resourceName: 'mcp-oauth-credentials example',
          authorizationOptions: sdkLimit,
          tokenOptions: sdkLimit,
          clientRegistrationOptions: sdkLimit,
          revocationOptions: sdkLimit,
        }),
      );
    } else {
      app.use(provider.router);
    }
    verifier = provider.server;
    resourceMetadataUrl = provider.server.protectedResourceMetadataUrl;
  }
  const bearer = requireBearerAuth({
    verifier: bearerVerifier(verifier),
    ...(resourceMetadataUrl === undefined ? {} : { resourceMetadataUrl, expectedResource: new URL(mcpUrl) }),
  });
  const guard = createMcpSessionGuard({ sessionStore, ...(logger ? { logger } : {}) });
  const toolAuth = createToolAuth({ manager, sessionStore });
  const userinfoUrl = config.userinfoUrl ?? GOOGLE_USERINFO;
  const signInUrl = `${url}/auth/start`;

  app.get('/auth/start', auth.startAuthorization);
  app.get('/oauth/callback', auth.oauthCallback);
  app.post('/auth/revoke', bearer, auth.revoke);
  app.get('/auth/status', bearer, auth.status);

  const userOf = async (extra: ToolRequestExtra) => {
    if (config.authDisabled) return { userId: config.anonymousUser ?? 'anonymous@example.com', fetch };
    return toolAuth.forRequest(extra);
  };

  const buildMcpServer = () => {
    const mcp = new McpServer({ name: 'mcp-oauth-credentials-example', version: '1.0.0' });
    mcp.registerTool(
      'get_profile',
      { description: "Returns the signed-in Google user's profile (from the OpenID userinfo endpoint)." },
      async (extra) => {
        try {
          const user = await userOf(extra);
          const response = await user.fetch(userinfoUrl);
          if (!response.ok)
            return {
              isError: true,
              content: [{ type: 'text', text: `userinfo answered ${response.status}` }],
            };
          const profile = (await response.json()) as { email?: string; name?: string };
          return {
            content: [{ type: 'text', text: JSON.stringify({ email: profile.email, name: profile.name }) }],
          };
        } catch (error) {
          return { isError: true, content: [{ type: 'text', text: toolErrorMessage(error, signInUrl) }] };
        }
      },
    );
    mcp.registerTool(
      'list_scopes',
      {
        description:
          'Lists the Google scopes stored for the signed-in user, and when the access token expires.',
      },
      async (extra) => {
        try {
          const user = await userOf(extra);
          const summary = await manager.describe(user.userId);
          const text = JSON.stringify({
            user: user.userId,
            scopes: summary?.scopes ?? [],
            expiresAt: summary?.expiresAt ?? null,
          });
          return { content: [{ type: 'text', text }] };
        } catch (error) {
          return { isError: true, content: [{ type: 'text', text: toolErrorMessage(error, signInUrl) }] };
        }
      },
    );
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
    const bind = config.authDisabled ? async () => {} : guard.bindOnInitialize(req);
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: async (id) => {
        transports.set(id, transport);
        await bind(id);
      },
      onsessionclosed: async (id) => {
        transports.delete(id);
        await guard.unbind(id);
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) transports.delete(transport.sessionId);
    };
    await buildMcpServer().connect(transport);
    await transport.handleRequest(req, res, req.body);
  };
  const protectedMcp = config.authDisabled ? [] : [bearer, guard.middleware];
  for (const method of ['post', 'get', 'delete'] as const) {
    app[method]('/mcp', ...protectedMcp, (req: Request, res: Response, next: (error?: unknown) => void) => {
      handleMcp(req, res).catch(next);
    });
  }

  return {
    url,
    listenUrl: `http://${host}:${port}`,
    mcpUrl,
    manager,
    sessionStore,
    store,
    close: async () => {
      await Promise.allSettled([...transports.values()].map((transport) => transport.close()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const config = configFromEnv();
  const server = await startExampleServer({ ...config, logger: console });
  console.log(`MCP server on ${server.mcpUrl}; sign in at ${server.url}/auth/start`);
}
