/**
 * {@link ClientRegistry}: OAuth clients of the MCP authorization server. Dynamic registrations
 * (RFC 7591) are validated and trimmed (at most 10 redirect URIs, every field capped, `jwks` and
 * unknown fields dropped) and kept in a namespace of their own until they first obtain a token, so a
 * flood of registrations can only evict other registrations that never did; those expire after 24
 * hours. A client that obtained a token moves to the active namespace, whose lifetime slides with use.
 *
 * @module
 */
import { z } from 'zod';
import type { Clock } from '../clock.js';
import { randomToken } from '../secrets.js';
import type { SessionBackend } from '../session/backend.js';
import { OAuthFailure } from './oauth-error.js';

/** Backend namespaces of the registry. */
const NS = { pending: 'mcp-client-pending', active: 'mcp-client' } as const;

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

let schema: ReturnType<typeof buildSchema> | undefined;

// Built on first use, so importing the package costs no schema construction.
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
  schema ??= buildSchema();
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') || 'body';
    const redirect = String(issue?.path[0]) === 'redirect_uris' && issue?.path.length === 2;
    throw new OAuthFailure(
      redirect ? 'invalid_redirect_uri' : 'invalid_client_metadata',
      `${field}: ${issue?.message ?? 'invalid'}`.slice(0, 200),
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

  /** Registers a client (public: `token_endpoint_auth_method` `none`); resolves what to answer. */
  async register(body: unknown): Promise<ClientRecord> {
    const metadata = parseRegistration(body);
    const now = this.#options.clock.now();
    const record: ClientRecord = {
      ...stripUndefined(metadata),
      client_id: `mcpc_${randomToken(18)}`,
      grant_types: metadata.grant_types ?? ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      client_id_issued_at: Math.floor(now / 1000),
      firstSeenAt: now,
    };
    await this.#options.backend.set(NS.pending, record.client_id, record, {
      ttlMs: this.#options.pendingTtlMs,
    });
    return record;
  }

  /** A registered client, pending or active; `undefined` when unknown or expired. */
  async get(clientId: unknown): Promise<ClientRecord | undefined> {
    if (typeof clientId !== 'string' || clientId.length === 0 || clientId.length > 256) return undefined;
    return (
      (await this.#options.backend.get<ClientRecord>(NS.active, clientId)) ??
      (await this.#options.backend.get<ClientRecord>(NS.pending, clientId))
    );
  }

  /**
   * Records that a client obtained a token: a pending registration becomes active (out of reach of a
   * registration flood) and an active one's lifetime slides (written at most once a day per client).
   */
  async markUsed(client: ClientRecord): Promise<void> {
    const now = this.#options.clock.now();
    if (client.lastTokenAt !== undefined && now - client.lastTokenAt < 24 * 60 * 60 * 1000) return;
    const active: ClientRecord = { ...client, lastTokenAt: now };
    await this.#options.backend.set(NS.active, client.client_id, active, {
      ttlMs: this.#options.activeTtlMs,
    });
    if (client.lastTokenAt === undefined) await this.#options.backend.delete(NS.pending, client.client_id);
  }
}

/** The registration response (RFC 7591 §3.2.1): the client's metadata, no bookkeeping. */
export function registrationResponse(record: ClientRecord): Record<string, unknown> {
  const { firstSeenAt: _seen, lastTokenAt: _used, ...response } = record;
  return response;
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}
