/**
 * An MCP client that logs in by itself, as real MCP clients do: the official SDK's OAuth support
 * (`auth()` through `StreamableHTTPClientTransport`'s `authProvider`) with an in-memory
 * `OAuthClientProvider`, and a "browser" that follows the authorization redirects (through the
 * server and the Google-like provider) and hands the code back.
 */

import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import { TestBrowser } from 'mcp-oauth-credentials/testing';

/**
 * An in-memory OAuthClientProvider whose "browser" (one profile, with its cookies) follows the
 * redirects and approves the server's consent page, as the user at the keyboard would.
 */
export class TestOAuthClientProvider implements OAuthClientProvider {
  readonly redirectUrl: string;
  #client: OAuthClientInformationMixed | undefined;
  #tokens: OAuthTokens | undefined;
  #verifier = '';
  /** Where the last authorization landed (holds `code` and `state`, or `error`). */
  lastCallback: URL | undefined;
  /** How many times the client sent its user to authorize (a new sign-in). */
  authorizations = 0;
  /** Every token set saved, oldest first. */
  readonly savedTokens: OAuthTokens[] = [];
  /** The user's browser. */
  readonly browser = new TestBrowser();

  /**
   * @param clientMetadataUrl an `https` URL serving this client's metadata document: the client then
   *   identifies itself by that URL (Client ID Metadata Document) when the server supports it.
   */
  constructor(
    readonly name: string,
    redirectUrl = 'http://127.0.0.1:43210/callback',
    readonly clientMetadataUrl?: string,
  ) {
    this.redirectUrl = redirectUrl;
  }

  /** The metadata document this client would serve at `clientMetadataUrl`. */
  metadataDocument(): Record<string, unknown> {
    return { client_id: this.clientMetadataUrl, ...this.clientMetadata };
  }

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: this.name,
      redirect_uris: [this.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }

  clientInformation() {
    return this.#client;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.#client = info;
  }
  tokens() {
    return this.#tokens;
  }
  saveTokens(tokens: OAuthTokens) {
    this.#tokens = tokens;
    this.savedTokens.push(tokens);
  }
  /** Discovery state kept with the code verifier (SDK v2 checks the callback against it). */
  #discovery: unknown;
  saveDiscoveryState(state: unknown) {
    this.#discovery = state;
  }
  discoveryState() {
    return this.#discovery as never;
  }
  saveCodeVerifier(verifier: string) {
    this.#verifier = verifier;
  }
  codeVerifier() {
    return this.#verifier;
  }
  async redirectToAuthorization(authorizationUrl: URL) {
    this.authorizations += 1;
    this.lastCallback = await this.browser.authorize(authorizationUrl, (url) =>
      url.href.startsWith(this.redirectUrl),
    );
  }
}

/** A connected MCP client for `mcpUrl`, logging in first if the server asks. */
export async function connectWithOAuth(
  mcpUrl: string,
  provider: TestOAuthClientProvider,
  capabilities: ConstructorParameters<typeof Client>[1] = {},
): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const open = () => {
    const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider });
    const client = new Client({ name: provider.name, version: '1.0.0' }, capabilities);
    return { client, transport };
  };
  let session = open();
  try {
    await session.client.connect(session.transport);
    return session;
  } catch (error) {
    if (!(error instanceof UnauthorizedError)) throw error;
  }
  const code = provider.lastCallback?.searchParams.get('code');
  if (!code) throw new Error(`authorization failed: ${provider.lastCallback?.search ?? 'no callback'}`);
  await session.transport.finishAuth(code);
  session = open();
  await session.client.connect(session.transport);
  return session;
}
