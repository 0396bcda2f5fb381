/**
 * The machine-facing endpoints of the MCP authorization server: RFC 8414 and RFC 9728 metadata,
 * the token endpoint (authorization code with PKCE S256, refresh token), dynamic registration
 * (RFC 7591) and revocation (RFC 7009). All answer JSON with CORS, `no-store`.
 *
 * @module
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { RateLimiter } from '../http/rate-limit.js';
import { jsonResponse, readBodyText, tooManyRequests } from '../http/responses.js';
import type { RequestContext } from '../http/sign-in-handlers.js';
import type { ClientRecord, ClientRegistry } from './clients.js';
import { registrationResponse } from './clients.js';
import { OAuthFailure } from './oauth-error.js';
import { comparableResource, type ResolvedOptions } from './options.js';
import type { TokenFamilies } from './token-families.js';

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, OPTIONS',
  'access-control-allow-headers': 'authorization, content-type, mcp-protocol-version',
  'access-control-max-age': '86400',
};

/** Largest body the token, registration and revocation endpoints read, bytes. */
export const MAX_ENDPOINT_BODY_BYTES = 16 * 1024;

interface Paths {
  authorize: string;
  token: string;
  register: string;
  revoke: string;
  authorizationServerMetadata: string;
  protectedResourceMetadata: string;
}

/** See the module documentation. */
export class TokenEndpoints {
  readonly #o: ResolvedOptions;
  readonly #clients: ClientRegistry;
  readonly #families: TokenFamilies;
  readonly #paths: Paths;
  readonly #registerLimiter: RateLimiter | undefined;
  readonly #tokenLimiter: RateLimiter | undefined;

  constructor(options: ResolvedOptions, clients: ClientRegistry, families: TokenFamilies, paths: Paths) {
    this.#o = options;
    this.#clients = clients;
    this.#families = families;
    this.#paths = paths;
    this.#registerLimiter =
      options.rateLimits.register && new RateLimiter(options.rateLimits.register, { clock: options.clock });
    this.#tokenLimiter =
      options.rateLimits.token && new RateLimiter(options.rateLimits.token, { clock: options.clock });
  }

  isCorsPath(pathname: string): boolean {
    const p = this.#paths;
    return [
      p.token,
      p.register,
      p.revoke,
      p.authorizationServerMetadata,
      p.protectedResourceMetadata,
    ].includes(pathname);
  }

  preflight(): Response {
    return new Response(null, { status: 204, headers: CORS });
  }

  #json(status: number, body: unknown): Response {
    return jsonResponse(status, body, { headers: CORS });
  }

  #failure(failure: OAuthFailure, request?: Request): Response {
    const headers = new Headers(CORS);
    // RFC 6749 §5.2: a client that tried Basic authentication gets a Basic challenge with its 401.
    if (failure.error === 'invalid_client' && /^basic /i.test(request?.headers.get('authorization') ?? '')) {
      headers.set('www-authenticate', 'Basic realm="token"');
    }
    return failure.toResponse({ headers });
  }

  /** RFC 8414 authorization server metadata. */
  metadata(): Response {
    const o = this.#o;
    const url = (path: string) => `${o.origin}${path}`;
    return this.#json(200, {
      issuer: o.issuer,
      authorization_endpoint: url(this.#paths.authorize),
      token_endpoint: url(this.#paths.token),
      registration_endpoint: url(this.#paths.register),
      revocation_endpoint: url(this.#paths.revoke),
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_methods_supported: ['none', 'client_secret_post', 'client_secret_basic'],
      revocation_endpoint_auth_methods_supported: ['none', 'client_secret_post', 'client_secret_basic'],
      client_id_metadata_document_supported: o.clientMetadataDocuments !== false,
      code_challenge_methods_supported: ['S256'],
      scopes_supported: [...o.mcpScopes],
      authorization_response_iss_parameter_supported: true,
    });
  }

  /** RFC 9728 protected resource metadata of the MCP endpoint. */
  resourceMetadata(): Response {
    const o = this.#o;
    return this.#json(200, {
      resource: o.resource,
      authorization_servers: [o.issuer],
      scopes_supported: [...o.mcpScopes],
      bearer_methods_supported: ['header'],
      resource_name: o.resourceName,
    });
  }

  async #form(request: Request): Promise<Record<string, string>> {
    const text = await readBodyText(request, MAX_ENDPOINT_BODY_BYTES);
    if (text === undefined) throw new OAuthFailure('invalid_request', 'the request body is too large');
    const type = request.headers.get('content-type') ?? '';
    if (!type.includes('application/x-www-form-urlencoded')) {
      throw new OAuthFailure('invalid_request', 'the body must be application/x-www-form-urlencoded');
    }
    const fields: Record<string, string> = {};
    for (const [name, value] of new URLSearchParams(text)) {
      if (name in fields) throw new OAuthFailure('invalid_request', `parameter ${name} is repeated`);
      fields[name] = value;
    }
    return fields;
  }

  /** The calling client, authenticated as it registered (`none`, `client_secret_post`, `client_secret_basic`). */
  #client(request: Request, fields: Record<string, string>): Promise<ClientRecord> {
    return this.#clients.authenticate(request, fields);
  }

  /** POST token. */
  async token(request: Request, context: RequestContext): Promise<Response> {
    if (this.#tokenLimiter) {
      const decision = this.#tokenLimiter.take(context.clientAddress ?? 'unknown');
      if (!decision.allowed) return tooManyRequests(request, decision.retryAfterSeconds);
    }
    try {
      const fields = await this.#form(request);
      const client = await this.#client(request, fields);
      const grantType = fields.grant_type;
      if (grantType === 'authorization_code')
        return this.#json(200, await this.#exchangeCode(client, fields));
      if (grantType === 'refresh_token') return this.#json(200, await this.#refresh(client, fields));
      throw new OAuthFailure(
        'unsupported_grant_type',
        'grant_type must be authorization_code or refresh_token',
      );
    } catch (error) {
      if (error instanceof OAuthFailure) return this.#failure(error, request);
      throw error;
    }
  }

  async #exchangeCode(client: ClientRecord, fields: Record<string, string>) {
    const { code, code_verifier: verifier, redirect_uri: redirectUri, resource } = fields;
    if (!code || !verifier) throw new OAuthFailure('invalid_request', 'code and code_verifier are required');
    if (!/^[A-Za-z0-9\-._~]{43,128}$/.test(verifier))
      throw new OAuthFailure('invalid_grant', 'malformed code_verifier');
    const { tokens } = await this.#families.exchangeCode(code, (record) => {
      if (record.clientId !== client.client_id) {
        this.#o.logger.warn(
          { clientId: client.client_id, ownerClientId: record.clientId, userId: record.userId },
          'SECURITY: an authorization code was presented by another client; refused',
        );
        throw new OAuthFailure('invalid_grant', 'the code was issued to another client');
      }
      if (redirectUri !== record.redirectUri) {
        throw new OAuthFailure('invalid_grant', 'redirect_uri does not match the authorization request');
      }
      if (!pkceMatches(verifier, record.codeChallenge)) {
        throw new OAuthFailure('invalid_grant', 'code_verifier does not match the challenge');
      }
      if (resource !== undefined && comparableResourceOrUndefined(resource) !== record.resource) {
        throw new OAuthFailure('invalid_target', 'resource does not match the authorization request');
      }
    });
    await this.#clients.markUsed(client);
    return tokens;
  }

  async #refresh(client: ClientRecord, fields: Record<string, string>) {
    if (!fields.refresh_token) throw new OAuthFailure('invalid_request', 'refresh_token is required');
    const resource =
      fields.resource === undefined ? undefined : comparableResourceOrUndefined(fields.resource);
    if (fields.resource !== undefined && resource === undefined) {
      throw new OAuthFailure('invalid_target', 'resource is not a URL');
    }
    const { tokens } = await this.#families.refresh(client.client_id, fields.refresh_token, {
      ...(fields.scope === undefined ? {} : { scopes: fields.scope.split(' ').filter(Boolean) }),
      ...(resource === undefined ? {} : { resource }),
    });
    await this.#clients.markUsed(client);
    return tokens;
  }

  /** POST register (RFC 7591). */
  async register(request: Request, context: RequestContext): Promise<Response> {
    if (this.#registerLimiter) {
      const decision = this.#registerLimiter.take(context.clientAddress ?? 'unknown');
      if (!decision.allowed) return tooManyRequests(request, decision.retryAfterSeconds);
    }
    const text = await readBodyText(request, MAX_ENDPOINT_BODY_BYTES);
    if (text === undefined) {
      return this.#json(413, {
        error: 'invalid_client_metadata',
        error_description: 'the registration is too large',
      });
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return this.#failure(new OAuthFailure('invalid_client_metadata', 'the body must be JSON'));
    }
    try {
      const record = await this.#clients.register(body);
      this.#o.logger.info({ clientId: record.client_id }, 'MCP client registered');
      return this.#json(201, registrationResponse(record));
    } catch (error) {
      if (error instanceof OAuthFailure) return this.#failure(error);
      throw error;
    }
  }

  /**
   * Revokes a token for a client (RFC 7009 semantics): an access token alone, or a refresh token's
   * family and, with `fullSignOutOnRefreshTokenRevocation`, the user's Google grant and sessions.
   */
  async revokeFor(clientId: string, token: string): Promise<void> {
    const revoked = await this.#families.revoke(clientId, token);
    if (revoked?.kind === 'refresh' && this.#o.fullSignOut) {
      const result = await this.#o.manager.revoke(revoked.userId);
      this.#o.logger.info(
        { clientId, userId: revoked.userId, providerRevoked: result.providerRevoked },
        'full sign-out on refresh token revocation',
      );
    }
  }

  /** POST revoke (RFC 7009). */
  async revoke(request: Request, _context: RequestContext): Promise<Response> {
    try {
      const fields = await this.#form(request);
      const client = await this.#client(request, fields);
      if (!fields.token) throw new OAuthFailure('invalid_request', 'token is required');
      await this.revokeFor(client.client_id, fields.token);
      return this.#json(200, {});
    } catch (error) {
      if (error instanceof OAuthFailure) return this.#failure(error, request);
      throw error;
    }
  }
}

function comparableResourceOrUndefined(value: string): string | undefined {
  try {
    return comparableResource(value);
  } catch {
    return undefined;
  }
}

/** RFC 7636 S256, compared in constant time. */
function pkceMatches(verifier: string, challenge: string): boolean {
  const computed = createHash('sha256').update(verifier, 'ascii').digest();
  const expected = Buffer.from(challenge, 'base64url');
  return expected.length === computed.length && timingSafeEqual(expected, computed);
}
