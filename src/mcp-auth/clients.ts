/**
 * {@link ClientRegistry}: OAuth clients of the MCP authorization server. Dynamic registrations
 * (RFC 7591) are validated and trimmed (at most 10 redirect URIs, every field capped, `jwks` and
 * unknown fields dropped) and kept in a namespace of their own until they first obtain a token, so a
 * flood of registrations can only evict other registrations that never did; those expire after 24
 * hours. A client that obtained a token moves to the active namespace, whose lifetime slides with use.
 *
 * @module
 */
import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { Clock } from '../clock.js';
import { randomToken, sha256 } from '../secrets.js';
import type { SessionBackend } from '../session/backend.js';
import { OAuthFailure } from './oauth-error.js';

/** Backend namespaces of the registry. */
const NS = { pending: 'mcp-client-pending', active: 'mcp-client' } as const;

/**
 * What the registry needs from Client ID Metadata Documents (`ClientMetadataDocuments` in
 * `client-metadata.ts`): the client a document URL describes, or `undefined`.
 */
export interface ClientMetadataResolver {
  resolve(clientId: string): Promise<ClientRecord | undefined>;
}

/** Whether a client id is a Client ID Metadata Document URL (https, with a path). */
export function isClientMetadataUrl(clientId: string): boolean {
  if (!clientId.startsWith('https://')) return false;
  try {
    const url = new URL(clientId);
    return url.pathname !== '/' && url.hash === '' && url.username === '' && url.password === '';
  } catch {
    return false;
  }
}

/** How a client authenticates at the token endpoint. */
export type TokenEndpointAuthMethod = 'none' | 'client_secret_post' | 'client_secret_basic';

/** A client as this server keeps it (the registration response's fields, plus bookkeeping). */
export interface ClientRecord {
  client_id: string;
  client_name?: string;
  redirect_uris: string[];
  grant_types: string[];
  response_types: string[];
  token_endpoint_auth_method: TokenEndpointAuthMethod;
  scope?: string;
  client_uri?: string;
  logo_uri?: string;
  tos_uri?: string;
  policy_uri?: string;
  contacts?: string[];
  software_id?: string;
  software_version?: string;
  /** Seconds since the epoch (RFC 7591). */
  client_id_issued_at: number;
  /** When this server first saw the client, epoch ms (shown on the consent page). */
  firstSeenAt: number;
  /** When the client last obtained a token, epoch ms; undefined while pending. */
  lastTokenAt?: number;
  /** SHA-256 of the client secret (confidential clients); the secret itself is never stored. */
  clientSecretHash?: string;
}

/** A registration response: the record's metadata, and the secret once for confidential clients. */
export interface RegisteredClient extends ClientRecord {
  /** Shown once, in the registration response; only its hash is kept. */
  client_secret?: string;
  client_secret_expires_at?: number;
}

/** Limits and lifetimes of the registry. */
export interface ClientRegistryOptions {
  backend: SessionBackend;
  clock: Clock;
  /** Lifetime of a registration that never obtained a token, milliseconds. */
  pendingTtlMs: number;
  /** Lifetime of a client after its last token, milliseconds (slides with use). */
  activeTtlMs: number;
  /** Most pending registrations kept in process (memory backend); the oldest go first. */
  maxPending: number;
  /** Resolves `https` client ids (Client ID Metadata Documents); undefined turns them off. */
  metadataDocuments?: ClientMetadataResolver | undefined;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Checks a redirect URI: https, or http on a loopback host; no fragment, no credentials. */
export function isAcceptableRedirectUri(uri: string): boolean {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return false;
  }
  if (url.hash !== '' || url.username !== '' || url.password !== '') return false;
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
}

const MAX_REDIRECT_URIS = 10;
const MAX_URI_LENGTH = 2000;

// Built per call: importing the package costs no schema construction, and registrations are rare
// (rate-limited) while a cached schema would hide its bounds from mutation testing.
function buildSchema() {
  const uri = z.string().max(MAX_URI_LENGTH);
  const text = z.string().max(200);
  return z.object({
    redirect_uris: z
      .array(
        uri.refine(
          isAcceptableRedirectUri,
          'must use https, or http on a loopback address, without a fragment',
        ),
      )
      .min(1)
      .max(MAX_REDIRECT_URIS),
    client_name: text.optional(),
    grant_types: z
      .array(z.enum(['authorization_code', 'refresh_token']))
      .min(1)
      .max(2)
      .optional(),
    response_types: z.array(z.literal('code')).min(1).max(1).optional(),
    token_endpoint_auth_method: z.enum(['none', 'client_secret_post', 'client_secret_basic']).optional(),
    scope: z.string().max(1000).optional(),
    client_uri: uri.optional(),
    logo_uri: uri.optional(),
    tos_uri: uri.optional(),
    policy_uri: uri.optional(),
    contacts: z.array(z.string().max(254)).max(5).optional(),
    software_id: text.optional(),
    software_version: text.optional(),
  });
}

/** Validates a registration request; unknown fields and `jwks`/`jwks_uri` are dropped. */
export function parseRegistration(body: unknown): z.infer<ReturnType<typeof buildSchema>> {
  const parsed = buildSchema().safeParse(body);
  if (!parsed.success) {
    // zod reports at least one issue with every failure.
    const issue = parsed.error.issues[0]!;
    const field = issue.path.join('.') || 'body';
    const redirect = issue.path[0] === 'redirect_uris' && issue.path.length === 2;
    throw new OAuthFailure(
      redirect ? 'invalid_redirect_uri' : 'invalid_client_metadata',
      // Stryker disable next-line MethodExpression: the schema's messages are short; the cut only bounds what a client's field names could add
      `${field}: ${issue.message}`.slice(0, 200),
    );
  }
  return parsed.data;
}

/** See the module documentation. */
export class ClientRegistry {
  readonly #options: ClientRegistryOptions;

  constructor(options: ClientRegistryOptions) {
    this.#options = options;
    options.backend.limitNamespace?.(NS.pending, options.maxPending);
  }

  /**
   * Registers a client; resolves the registration response. A client asking for
   * `client_secret_post` or `client_secret_basic` gets a secret, shown once (only its SHA-256 is
   * kept); `publicOnly` registers every client as public (`none`).
   */
  async register(body: unknown, options: { publicOnly?: boolean } = {}): Promise<RegisteredClient> {
    const metadata = parseRegistration(body);
    const now = this.#options.clock.now();
    const method = options.publicOnly ? 'none' : (metadata.token_endpoint_auth_method ?? 'none');
    const secret = method === 'none' ? undefined : `mcpcs_${randomToken(32)}`;
    const record: ClientRecord = {
      ...stripUndefined(metadata),
      client_id: `mcpc_${randomToken(18)}`,
      grant_types: metadata.grant_types ?? ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: method,
      client_id_issued_at: Math.floor(now / 1000),
      firstSeenAt: now,
      ...(secret === undefined ? {} : { clientSecretHash: sha256(secret) }),
    };
    await this.#options.backend.set(NS.pending, record.client_id, record, {
      ttlMs: this.#options.pendingTtlMs,
    });
    return secret === undefined ? record : { ...record, client_secret: secret, client_secret_expires_at: 0 };
  }

  /**
   * A client: registered (pending or active), or described by its metadata document when the id is
   * an `https` URL. `undefined` when unknown or expired; {@link OAuthFailure} `invalid_client` with
   * the reason when a metadata document cannot be used.
   */
  async get(clientId: unknown): Promise<ClientRecord | undefined> {
    if (typeof clientId !== 'string' || clientId.length === 0 || clientId.length > 2000) return undefined;
    if (isClientMetadataUrl(clientId)) {
      if (this.#options.metadataDocuments === undefined) return undefined;
      return this.#options.metadataDocuments.resolve(clientId);
    }
    if (clientId.length > 256) return undefined;
    return (
      (await this.#options.backend.get<ClientRecord>(NS.active, clientId)) ??
      (await this.#options.backend.get<ClientRecord>(NS.pending, clientId))
    );
  }

  /**
   * Authenticates the client of a token or revocation request (RFC 6749 §2.3): `none` (the
   * `client_id` parameter), `client_secret_post` or `client_secret_basic`, as the client registered.
   * Secrets are compared as SHA-256 digests in constant time.
   *
   * @throws OAuthFailure `invalid_client` (401) or `invalid_request`.
   */
  async authenticate(request: Request, fields: Record<string, string>): Promise<ClientRecord> {
    const header = request.headers.get('authorization') ?? '';
    let clientId = fields.client_id;
    let secret = fields.client_secret;
    let method: TokenEndpointAuthMethod = secret === undefined ? 'none' : 'client_secret_post';
    if (/^basic /i.test(header)) {
      if (secret !== undefined)
        throw new OAuthFailure('invalid_request', 'use one client authentication method');
      // Base64 decoding skips whitespace, so `Basic   xyz ` needs no trimming.
      const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) throw new OAuthFailure('invalid_client', 'malformed Basic credentials');
      let basicId: string;
      try {
        basicId = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
        secret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' '));
      } catch {
        throw new OAuthFailure('invalid_client', 'malformed Basic credentials');
      }
      if (clientId !== undefined && clientId !== basicId) {
        throw new OAuthFailure('invalid_request', 'client_id does not match the Basic credentials');
      }
      clientId = basicId;
      method = 'client_secret_basic';
    }
    const client = await this.get(clientId);
    if (!client) throw new OAuthFailure('invalid_client', 'unknown client');
    if (client.token_endpoint_auth_method !== method) {
      throw new OAuthFailure(
        'invalid_client',
        `this client authenticates with ${client.token_endpoint_auth_method}`,
      );
    }
    if (method !== 'none' && !secretMatches(secret ?? '', client.clientSecretHash)) {
      throw new OAuthFailure('invalid_client', 'client authentication failed');
    }
    return client;
  }

  /**
   * Records that a client obtained a token: a pending registration becomes active (out of reach of a
   * registration flood) and an active one's lifetime slides (written at most once a day per client).
   */
  async markUsed(client: ClientRecord): Promise<void> {
    if (isClientMetadataUrl(client.client_id)) return; // described by its document, not stored
    const now = this.#options.clock.now();
    if (now - (client.lastTokenAt ?? Number.NEGATIVE_INFINITY) < 24 * 60 * 60 * 1000) return;
    const active: ClientRecord = { ...client, lastTokenAt: now };
    await this.#options.backend.set(NS.active, client.client_id, active, {
      ttlMs: this.#options.activeTtlMs,
    });
    if (client.lastTokenAt === undefined) await this.#options.backend.delete(NS.pending, client.client_id);
  }
}

/** The registration response (RFC 7591 §3.2.1): the client's metadata (and new secret), no bookkeeping. */
export function registrationResponse(record: RegisteredClient): Record<string, unknown> {
  const { firstSeenAt: _seen, lastTokenAt: _used, clientSecretHash: _hash, ...response } = record;
  return response;
}

function secretMatches(presented: string, expectedHash: string | undefined): boolean {
  if (expectedHash === undefined) return false;
  const a = Buffer.from(sha256(presented), 'base64url');
  const b = Buffer.from(expectedHash, 'base64url');
  return a.length === b.length && timingSafeEqual(a, b);
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}
