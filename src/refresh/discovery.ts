/**
 * {@link discoverOidcProvider}: reads an OpenID Connect provider's discovery document
 * (`<issuer>/.well-known/openid-configuration`) and returns the `oauth` settings of
 * `CredentialManager` for it, so any standard provider (a local test provider, Keycloak, a company
 * IdP in front of Google) works without hand-written endpoint lists.
 *
 * @module
 */
import { z } from 'zod';
import { ConfigurationError, ProviderError } from '../errors.js';

/** Endpoints of the OAuth provider. Default: Google's. */
export interface OAuthEndpoints {
  /** The authorization endpoint. */
  oauth2AuthBaseUrl?: string | URL;
  /** The token endpoint. */
  oauth2TokenUrl?: string | URL;
  /** The revocation endpoint (RFC 7009; Google's takes the token as a query parameter). */
  oauth2RevokeUrl?: string | URL;
  /**
   * The provider's signing keys as a JWKS document (`{ keys: [...] }`): the `jwks_uri` of OpenID
   * Connect discovery. Checked first.
   */
  jwksUri?: string | URL;
  /** Google's name for its JWKS URL (`https://www.googleapis.com/oauth2/v3/certs`); used when `jwksUri` is not set. */
  oauth2FederatedSignonJwkCertsUrl?: string | URL;
  /** Google's `{ kid: PEM }` certificates URL; used when neither JWKS URL is set. */
  oauth2FederatedSignonPemCertsUrl?: string | URL;
  /** Google's token info endpoint (kept for google-auth-library). */
  tokenInfoUrl?: string | URL;
}

/** Google's JWKS, used when no keys URL is configured. */
export const GOOGLE_JWKS_URL = 'https://www.googleapis.com/oauth2/v3/certs';

/** What {@link discoverOidcProvider} returns: spread it into `CredentialManager`'s `oauth` options. */
export interface DiscoveredOidcProvider {
  /** The provider's endpoints and key set URL. */
  endpoints: OAuthEndpoints;
  /** The accepted id_token issuer (exactly the discovered `issuer`). */
  issuers: string[];
  /** The userinfo endpoint, when the provider has one. */
  userinfoUrl?: string;
}

const discoveryDocument = z.object({
  issuer: z.string().min(1),
  authorization_endpoint: z.string().url(),
  token_endpoint: z.string().url(),
  jwks_uri: z.string().url(),
  revocation_endpoint: z.string().url().optional(),
  userinfo_endpoint: z.string().url().optional(),
});

/** Options of {@link discoverOidcProvider}. */
export interface DiscoverOidcProviderOptions {
  /** Request timeout, ms. Default 10000. */
  requestTimeoutMs?: number;
}

/**
 * Fetches `<issuer>/.well-known/openid-configuration` and returns the provider's endpoints and
 * issuer. The document's `issuer` must equal `issuer` (OpenID Connect Discovery §4.3), and every
 * endpoint must be https (or http on a loopback address, for local test providers).
 *
 * ```ts
 * const manager = new CredentialManager({
 *   store,
 *   oauth: { clientId, clientSecret, redirectUri, ...(await discoverOidcProvider('https://idp.example.com')) },
 * });
 * ```
 *
 * @throws ProviderError when the document cannot be fetched (try again); ConfigurationError when it
 *   is not a valid discovery document for `issuer`.
 */
export async function discoverOidcProvider(
  issuer: string,
  options: DiscoverOidcProviderOptions = {},
): Promise<DiscoveredOidcProvider> {
  const base = checkUrl(issuer, 'issuer');
  const url = `${base.href.replace(/\/$/, '')}/.well-known/openid-configuration`;
  let response: Response;
  try {
    response = await fetch(url, {
      signal: AbortSignal.timeout(options.requestTimeoutMs ?? 10_000),
      headers: { accept: 'application/json' },
    });
  } catch (error) {
    throw new ProviderError(
      `could not reach the OpenID Connect discovery document of ${base.origin}; try again`,
      {
        cause: error,
        providerCode: 'discovery-unavailable',
      },
    );
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => {});
    throw new ProviderError(`the discovery document of ${base.origin} answered HTTP ${response.status}`, {
      providerCode: `HTTP ${response.status}`,
    });
  }
  let parsed: z.infer<typeof discoveryDocument>;
  try {
    parsed = discoveryDocument.parse(await response.json());
  } catch (error) {
    throw new ConfigurationError(`${url} is not an OpenID Connect discovery document`, {
      cause: error,
      hint: 'check the issuer URL',
    });
  }
  if (parsed.issuer !== issuer && parsed.issuer !== issuer.replace(/\/$/, '')) {
    throw new ConfigurationError(`the discovery document names issuer ${parsed.issuer}, not ${issuer}`, {
      hint: 'use the issuer exactly as the provider names it',
    });
  }
  return {
    endpoints: {
      oauth2AuthBaseUrl: checkUrl(parsed.authorization_endpoint, 'authorization_endpoint').href,
      oauth2TokenUrl: checkUrl(parsed.token_endpoint, 'token_endpoint').href,
      jwksUri: checkUrl(parsed.jwks_uri, 'jwks_uri').href,
      ...(parsed.revocation_endpoint === undefined
        ? {}
        : { oauth2RevokeUrl: checkUrl(parsed.revocation_endpoint, 'revocation_endpoint').href }),
    },
    issuers: [parsed.issuer],
    ...(parsed.userinfo_endpoint === undefined
      ? {}
      : { userinfoUrl: checkUrl(parsed.userinfo_endpoint, 'userinfo_endpoint').href }),
  };
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

function checkUrl(value: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigurationError(`${what} is not a URL`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
    throw new ConfigurationError(`${what} must be https (http only on a loopback address): ${url.origin}`);
  }
  return url;
}
