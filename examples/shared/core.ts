/**
 * What the three example servers (SDK v1 + Express, SDK v2 + Express, SDK v2 + Hono) share: their
 * configuration, the package's components wired together (store, sessions, manager, sign-in, the
 * MCP authorization server, the session guard, the tool helper), and the tools themselves, written
 * once against the tool helper (which takes v1's `extra` and v2's `ctx` alike).
 */
import { randomBytes } from 'node:crypto';
import {
  type BearerTokenVerifier,
  type Clock,
  type CredentialStore,
  createCredentialStore,
  isCredentialError,
  type Logger,
} from 'mcp-oauth-credentials';
import {
  createMcpSessionGuard,
  createSignInHandlers,
  createToolAuth,
  ElicitationCompletions,
  type HealthHandlerOptions,
  McpAuthorizationServer,
  type McpAuthorizationServerOptions,
  type McpSessionGuardCore,
  type SignInHandlers,
  type SignInHandlersOptions,
  type ToolAuth,
  type ToolRequestExtra,
  toolErrorMessage,
} from 'mcp-oauth-credentials/http';
import { CredentialManager, discoverOidcProvider, type OAuthEndpoints } from 'mcp-oauth-credentials/manager';
import {
  MemorySessionBackend,
  OAuth21SessionStore,
  type SessionBackend,
} from 'mcp-oauth-credentials/session';

/** Configuration of an example server. `configFromEnv()` reads it from the environment. */
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
  /**
   * Any OpenID Connect provider instead of Google, by its issuer URL (`OAUTH_ISSUER`): endpoints,
   * keys and issuer come from its discovery document. Overrides `oauthEndpoints` and `issuers`.
   */
  oauthIssuer?: string;
  /** The provider's endpoints and id_token issuers. Default: Google's. */
  oauthEndpoints?: OAuthEndpoints;
  issuers?: string[];
  /** The OpenID userinfo endpoint get_profile calls. Default: Google's. */
  userinfoUrl?: string;
  /** Scopes to request besides openid and email. Default: profile. */
  scopes?: string[];
  /**
   * `bearer` (default): users sign in at /auth/start and paste a bearer token into their MCP client.
   * `oauth`: MCP clients log in by themselves (MCP authorization: discovery, registration by a
   * metadata document or dynamically, PKCE, consent), this server being the authorization server.
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
  signIn?: Partial<Omit<SignInHandlersOptions, 'manager' | 'sessionStore' | 'redirectUri' | 'serverSecret'>>;
  /** Extra options of the MCP authorization server (oauth mode). */
  oauthServer?: Partial<Omit<McpAuthorizationServerOptions, 'manager' | 'sessionStore' | 'serverSecret'>>;
  clock?: Clock;
  logger?: Logger;
}

/** Reads the configuration from environment variables (see examples/express/.env.example). */
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
    ...(env.OAUTH_ISSUER ? { oauthIssuer: env.OAUTH_ISSUER } : {}),
    ...(env.ALLOWED_DOMAINS
      ? { access: { allowedDomains: env.ALLOWED_DOMAINS.split(',').filter(Boolean) } }
      : {}),
    authMode: env.MCP_AUTH_MODE === 'oauth' ? 'oauth' : 'bearer',
  };
}

/** What every example server exposes (tests and the demo drive it). */
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

/** A tool of the examples, independent of the MCP SDK that serves it. */
export interface ExampleTool {
  name: string;
  description: string;
  run(
    extra: ToolRequestExtra,
  ): Promise<{ isError?: boolean; content: Array<{ type: 'text'; text: string }> }>;
}

/** The components an example server mounts. */
export interface ExampleCore {
  url: string;
  mcpUrl: string;
  signInUrl: string;
  store: CredentialStore;
  backend: SessionBackend;
  sessionStore: OAuth21SessionStore;
  manager: CredentialManager;
  signIn: SignInHandlers;
  /** oauth mode only. */
  authServer: McpAuthorizationServer | undefined;
  /** Verifies bearer tokens: the authorization server's in oauth mode, the session store's otherwise. */
  verifier: BearerTokenVerifier;
  /** oauth mode: the protected-resource metadata URL for `WWW-Authenticate` challenges. */
  resourceMetadataUrl: string | undefined;
  guard: McpSessionGuardCore;
  toolAuth: ToolAuth;
  tools: ExampleTool[];
  /** What `/healthz` checks: the store, the session backend and the provider's signing keys. */
  health: HealthHandlerOptions;
  /** The MCP sessions to tell when a connect link's authorization is done (track each session's server). */
  completions: ElicitationCompletions;
}

/** The Google Calendar read-only scope, which `read_calendar` asks for on first use. */
export const CALENDAR_READONLY = 'https://www.googleapis.com/auth/calendar.readonly';

/** A tool's error result for the MCP client: what happened and what to do, never a token. */
export function toolFailure(error: unknown, signInUrl?: string) {
  return { isError: true, content: [{ type: 'text' as const, text: toolErrorMessage(error, signInUrl) }] };
}

const GOOGLE_USERINFO = 'https://openidconnect.googleapis.com/v1/userinfo';

/** Wires the package's components for a server reachable at `url`. */
export async function buildExampleCore(config: ExampleServerConfig, url: string): Promise<ExampleCore> {
  const logger = config.logger;
  const common = { ...(config.clock ? { clock: config.clock } : {}), ...(logger ? { logger } : {}) };
  const store =
    typeof config.store === 'object'
      ? config.store
      : // The server's own directory: created (0700) on first use if missing.
        await createCredentialStore(config.store, {
          file: { createDirectory: true },
          ...(logger ? { logger } : {}),
        });
  // One backend for sessions and (oauth mode) the authorization server's state.
  const backend =
    config.sessionBackend ?? new MemorySessionBackend(config.clock ? { clock: config.clock } : {});
  const sessionStore = new OAuth21SessionStore({ backend, ...common });
  if (config.serverSecret === undefined) {
    logger?.warn({}, 'no SERVER_SECRET set: using a random one (single replica only; set it for replicas)');
  }
  const serverSecret = config.serverSecret ?? randomBytes(32).toString('base64url');
  const rateLimited = config.authRateLimit !== false;
  const redirectUri = `${url}/oauth/callback`;
  const mcpUrl = `${url}/mcp`;
  const signInUrl = `${url}/auth/start`;
  const discovered = config.oauthIssuer ? await discoverOidcProvider(config.oauthIssuer) : undefined;
  const manager = new CredentialManager({
    store,
    sessionStore,
    oauth: {
      clientId: config.clientId,
      clientSecret: config.clientSecret,
      redirectUri,
      ...(config.oauthEndpoints ? { endpoints: config.oauthEndpoints } : {}),
      ...(config.issuers ? { issuers: config.issuers } : {}),
      ...(discovered ? { endpoints: discovered.endpoints, issuers: discovered.issuers } : {}),
    },
    ...common,
  });
  // Incremental authorization: a tool needing scopes the user has not granted gets a connect link,
  // which clients with URL elicitation open; the callback tells the MCP session (completions).
  const completions = new ElicitationCompletions(logger ? { logger } : {});
  const signIn = createSignInHandlers({
    manager,
    sessionStore,
    redirectUri,
    serverSecret,
    scopes: config.scopes ?? ['profile'],
    mcpEndpoint: mcpUrl,
    connectUrl: `${url}/auth/connect`,
    onConnected: completions.notify,
    ...(rateLimited ? {} : { rateLimit: false as const }),
    ...(config.access ? { policy: config.access } : {}),
    ...common,
    ...config.signIn,
  });
  const authServer =
    config.authMode === 'oauth'
      ? new McpAuthorizationServer({
          manager,
          sessionStore,
          backend,
          serverSecret,
          issuerUrl: `${url}/`,
          resourceServerUrl: mcpUrl,
          googleScopes: config.scopes ?? ['profile'],
          resourceName: 'mcp-oauth-credentials example',
          ...(rateLimited ? {} : { rateLimits: false as const }),
          ...(config.access ? { policy: config.access } : {}),
          ...common,
          ...config.oauthServer,
        })
      : undefined;
  const guard = createMcpSessionGuard({ sessionStore, ...(logger ? { logger } : {}) });
  const toolAuth = createToolAuth({ manager, sessionStore, connect: signIn, ...(logger ? { logger } : {}) });
  const userinfoUrl = config.userinfoUrl ?? discovered?.userinfoUrl ?? GOOGLE_USERINFO;
  const failed = (error: unknown) => {
    // Left to the SDK-specific wrapper: URL elicitation where the client supports it.
    if (isCredentialError(error, 'AUTHORIZATION_REQUIRED')) throw error;
    return toolFailure(error, signInUrl);
  };
  const tools: ExampleTool[] = [
    {
      name: 'get_profile',
      description: "Returns the signed-in Google user's profile (from the OpenID userinfo endpoint).",
      async run(extra) {
        try {
          const user = await toolAuth.forRequest(extra);
          const response = await user.fetch(userinfoUrl);
          if (!response.ok) {
            return {
              isError: true,
              content: [{ type: 'text', text: `userinfo answered ${response.status}` }],
            };
          }
          const profile = (await response.json()) as { email?: string; name?: string };
          return {
            content: [{ type: 'text', text: JSON.stringify({ email: profile.email, name: profile.name }) }],
          };
        } catch (error) {
          return failed(error);
        }
      },
    },
    {
      name: 'read_calendar',
      description:
        'Needs Google Calendar read access (an extra scope): asks for it through the MCP client when missing.',
      async run(extra) {
        try {
          const user = await toolAuth.forRequest(extra, { scopes: [CALENDAR_READONLY] });
          const response = await user.fetch(userinfoUrl); // a real API call with the broadened token
          const text = JSON.stringify({
            user: user.userId,
            calendarAccess: response.ok,
            scopes: user.scopes,
          });
          return { content: [{ type: 'text', text }] };
        } catch (error) {
          return failed(error);
        }
      },
    },
    {
      name: 'list_scopes',
      description:
        'Lists the Google scopes stored for the signed-in user, and when the access token expires.',
      async run(extra) {
        try {
          const user = await toolAuth.forRequest(extra);
          const summary = await manager.describe(user.userId);
          const text = JSON.stringify({
            user: user.userId,
            scopes: summary?.scopes ?? [],
            expiresAt: summary?.expiresAt ?? null,
          });
          return { content: [{ type: 'text', text }] };
        } catch (error) {
          return failed(error);
        }
      },
    },
  ];
  return {
    url,
    mcpUrl,
    signInUrl,
    store,
    backend,
    sessionStore,
    manager,
    signIn,
    authServer,
    verifier: authServer ?? sessionStore,
    resourceMetadataUrl: authServer?.protectedResourceMetadataUrl,
    guard,
    toolAuth,
    tools,
    completions,
    health: { store, sessions: sessionStore, provider: manager.keysUrl, ...common },
  };
}
