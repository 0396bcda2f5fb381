/**
 * The MCP authorization mode as an attacker and a real client meet it: the example server in `oauth`
 * mode on 127.0.0.1, the Google-like provider, and helpers that speak the OAuth endpoints by hand.
 */
import { randomBytes } from 'node:crypto';
import {
  type ExampleServer,
  type V1ServerConfig as ExampleServerConfig,
  startExampleServer,
} from '../../examples/express/server.js';
import { createPkcePair, type Logger, MemoryCredentialStore } from '../../src/index.js';
import type { SessionBackend } from '../../src/session/index.js';
import { type BrowserPage, TestBrowser } from '../../src/testing/browser.js';
import { type GoogleLikeProvider, startGoogleLikeProvider } from '../../src/testing/index.js';

export const CLIENT_REDIRECT = 'http://127.0.0.1:43210/callback';
export const ATTACKER_REDIRECT = 'https://attacker.example/cb';

/** A clock the server reads; tests move it (nobody sleeps). */
export class OffsetClock {
  offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

export interface LogLine {
  level: string;
  message: string;
  fields: Record<string, unknown>;
}

export function recordingLogger(): { lines: LogLine[]; logger: Logger } {
  const lines: LogLine[] = [];
  const at =
    (level: string) =>
    (fields: Record<string, unknown>, message = '') =>
      lines.push({ level, message, fields });
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

export interface Harness {
  provider: GoogleLikeProvider;
  server: ExampleServer;
  clock: OffsetClock;
  log: LogLine[];
  close(): Promise<void>;
  register(
    metadata?: Record<string, unknown>,
    init?: { headers?: Record<string, string> },
  ): Promise<{ status: number; body: Record<string, unknown> }>;
  /** The server's /authorize URL for a client, with a fresh PKCE pair. */
  authorizeUrl(
    clientId: string,
    options?: { redirectUri?: string; scope?: string; resource?: string; method?: string; state?: string },
  ): { url: URL; verifier: string };
  token(body: Record<string, string>): Promise<{ status: number; body: Record<string, string> }>;
  refresh(
    clientId: string,
    refreshToken: string,
    extra?: Record<string, string>,
  ): Promise<{ status: number; body: Record<string, string> }>;
  /** POSTs an MCP initialize with the token; resolves the HTTP status. */
  callMcp(accessToken: string): Promise<number>;
  /**
   * Signs `user` in through a browser for `clientId`: /authorize, Google, the consent page (approved)
   * and the redirect to the client. Resolves the code and verifier (and the browser used).
   */
  signIn(
    clientId: string,
    user: string,
    options?: { browser?: TestBrowser; scope?: string; redirectUri?: string },
  ): Promise<{ code: string; verifier: string; browser: TestBrowser; consentShown: boolean }>;
  /** Registers a client and signs `user` in; resolves the first token response. */
  loggedIn(
    user: string,
    options?: { scope?: string },
  ): Promise<{ clientId: string; tokens: Record<string, string> }>;
}

export async function startHarness(
  config: Partial<ExampleServerConfig> & { sessionBackend?: SessionBackend } = {},
): Promise<Harness> {
  const provider = await startGoogleLikeProvider();
  const clock = new OffsetClock();
  const recorded = recordingLogger();
  const server = await startExampleServer({
    ...provider.clientSettings(),
    port: 0,
    store: new MemoryCredentialStore(),
    clock,
    authMode: 'oauth',
    authRateLimit: false,
    logger: recorded.logger,
    serverSecret: randomBytes(32).toString('base64url'),
    ...config,
  } as ExampleServerConfig);

  const isClientRedirect = (redirectUri: string) => (url: URL) => url.href.startsWith(redirectUri);

  const harness: Harness = {
    provider,
    server,
    clock,
    log: recorded.lines,
    async close() {
      await server.close();
      await provider.close();
    },
    async register(metadata = {}, init = {}) {
      const response = await fetch(`${server.url}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...init.headers },
        body: JSON.stringify({
          client_name: 'test client',
          redirect_uris: [CLIENT_REDIRECT],
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          token_endpoint_auth_method: 'none',
          ...metadata,
        }),
      });
      return {
        status: response.status,
        body: (await response.json().catch(() => ({}))) as Record<string, unknown>,
      };
    },
    authorizeUrl(clientId, options = {}) {
      const pkce = createPkcePair();
      const url = new URL(`${server.url}/authorize`);
      url.search = new URLSearchParams({
        client_id: clientId,
        redirect_uri: options.redirectUri ?? CLIENT_REDIRECT,
        response_type: 'code',
        code_challenge: pkce.codeChallenge,
        code_challenge_method: options.method ?? 'S256',
        state: options.state ?? 'client-state-123',
        resource: options.resource ?? server.mcpUrl,
        ...(options.scope === undefined ? {} : { scope: options.scope }),
      }).toString();
      return { url, verifier: pkce.codeVerifier };
    },
    async token(body) {
      const response = await fetch(`${server.url}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(body),
      });
      return { status: response.status, body: (await response.json()) as Record<string, string> };
    },
    refresh(clientId, refreshToken, extra = {}) {
      return harness.token({
        grant_type: 'refresh_token',
        client_id: clientId,
        refresh_token: refreshToken,
        ...extra,
      });
    },
    async callMcp(accessToken) {
      const response = await fetch(server.mcpUrl, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${accessToken}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: {
            protocolVersion: '2025-06-18',
            capabilities: {},
            clientInfo: { name: 't', version: '1' },
          },
        }),
      });
      await response.body?.cancel();
      return response.status;
    },
    async signIn(clientId, user, options = {}) {
      const browser = options.browser ?? new TestBrowser();
      const redirectUri = options.redirectUri ?? CLIENT_REDIRECT;
      provider.setDefaultUser(user);
      const { url, verifier } = harness.authorizeUrl(clientId, {
        redirectUri,
        ...(options.scope === undefined ? {} : { scope: options.scope }),
      });
      let result = await browser.navigate(url, isClientRedirect(redirectUri));
      let consentShown = false;
      if (result.page) {
        const page: BrowserPage = result.page;
        if (page.status !== 200 || !page.html.includes('name="decision"')) {
          throw new Error(
            `sign-in stopped at ${page.url.pathname} (${page.status}): ${page.html.slice(0, 300)}`,
          );
        }
        consentShown = true;
        const answer = await browser.submit(page, { button: 'approve' });
        const location = answer.headers.get('location');
        if (!location) throw new Error(`consent answered ${answer.status} without a redirect`);
        result = { stoppedAt: new URL(location, page.url) };
      }
      const code = result.stoppedAt?.searchParams.get('code');
      if (!code) throw new Error(`no code: ${result.stoppedAt?.search}`);
      return { code, verifier, browser, consentShown };
    },
    async loggedIn(user, options = {}) {
      const client = await harness.register();
      const clientId = String(client.body.client_id);
      const { code, verifier } = await harness.signIn(clientId, user, options);
      const tokens = await harness.token({
        grant_type: 'authorization_code',
        client_id: clientId,
        code,
        code_verifier: verifier,
        redirect_uri: CLIENT_REDIRECT,
        resource: server.mcpUrl,
      });
      if (tokens.status !== 200)
        throw new Error(`token exchange answered ${tokens.status}: ${JSON.stringify(tokens.body)}`);
      return { clientId, tokens: tokens.body };
    },
  };
  return harness;
}
