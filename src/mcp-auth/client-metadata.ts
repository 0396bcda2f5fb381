/**
 * {@link ClientMetadataDocuments}: OAuth clients identified by an `https` URL (Client ID Metadata
 * Documents, the MCP spec's preferred registration). The document is fetched with a timeout and a
 * size cap, never following a redirect, over a connection whose address was checked: the guard runs
 * in the socket's own DNS lookup (and on IP literals), so DNS rebinding cannot reach a private,
 * loopback or link-local address. Its `client_id` must equal the URL; its redirect URIs are the only
 * ones accepted. Documents are cached as their `Cache-Control` says (clamped).
 *
 * @module
 */
import { lookup as dnsLookup } from 'node:dns';
import { type Agent, request as httpsRequest } from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { LRUCache } from 'lru-cache';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import { sha256 } from '../secrets.js';
import type { SessionBackend } from '../session/backend.js';
import { type ClientRecord, isClientMetadataUrl, parseRegistration } from './clients.js';
import { OAuthFailure } from './oauth-error.js';

/** Default time to fetch a metadata document, ms: 5 s. */
export const DEFAULT_CLIENT_METADATA_TIMEOUT_MS = 5_000;
/** Default largest metadata document, bytes: 16 KiB. */
export const DEFAULT_CLIENT_METADATA_MAX_BYTES = 16 * 1024;
/** Default cache lifetime of a document without `Cache-Control: max-age`, ms: 5 minutes. */
export const DEFAULT_CLIENT_METADATA_TTL_MS = 5 * 60_000;

/** Options of Client ID Metadata Documents (the `ClientMetadataDocuments` resolver of the authorization server). */
export interface ClientMetadataOptions {
  /** Time to connect and read the document, ms. Default {@link DEFAULT_CLIENT_METADATA_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** Largest document accepted, bytes. Default {@link DEFAULT_CLIENT_METADATA_MAX_BYTES}. */
  maxBytes?: number;
  /** Lifetime of a cached document without `max-age`, ms. Default {@link DEFAULT_CLIENT_METADATA_TTL_MS}. */
  defaultTtlMs?: number;
  /** `max-age` is clamped to at most this, ms. Default 24 hours. */
  maxTtlMs?: number;
  /** Most documents cached. Default 1,000. */
  maxCached?: number;
  /**
   * Decides whether the fetcher may connect to an address. Default: public unicast addresses only
   * (no loopback, private, link-local, CGNAT, multicast, unspecified or reserved ranges, IPv4 or
   * IPv6). Tests open it for 127.0.0.1 explicitly.
   */
  allowAddress?: (address: string, family: 4 | 6) => boolean;
  /** An HTTPS agent (a CA for a test server with a self-signed certificate, a proxy). Default: Node's. */
  agent?: Agent;
}

const PRIVATE = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  PRIVATE.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  PRIVATE.addSubnet(network, prefix, 'ipv6');
}

/** Whether an address is a public unicast one (the default guard). */
export function isPublicAddress(address: string, family: 4 | 6): boolean {
  // BlockList matches an IPv4-mapped IPv6 address (::ffff:7f00:1, ::ffff:127.0.0.1) against the IPv4 ranges.
  return !PRIVATE.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

class BlockedAddressError extends Error {
  constructor(readonly address: string) {
    super('the address is not allowed');
    this.name = 'BlockedAddressError';
  }
}

interface Cached {
  record: ClientRecord;
  expiresAt: number;
}

/** See the module documentation. */
export class ClientMetadataDocuments {
  readonly #timeoutMs: number;
  readonly #maxBytes: number;
  readonly #defaultTtlMs: number;
  readonly #maxTtlMs: number;
  readonly #allow: (address: string, family: 4 | 6) => boolean;
  readonly #agent: Agent | undefined;
  readonly #cache: LRUCache<string, Cached>;
  readonly #inFlight = new Map<string, Promise<ClientRecord>>();
  readonly #backend: SessionBackend;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #firstSeenTtlMs: number;

  constructor(
    options: ClientMetadataOptions,
    context: { backend: SessionBackend; clock: Clock; logger: Logger; firstSeenTtlMs: number },
  ) {
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_CLIENT_METADATA_TIMEOUT_MS;
    this.#maxBytes = options.maxBytes ?? DEFAULT_CLIENT_METADATA_MAX_BYTES;
    this.#defaultTtlMs = options.defaultTtlMs ?? DEFAULT_CLIENT_METADATA_TTL_MS;
    this.#maxTtlMs = options.maxTtlMs ?? 24 * 60 * 60_000;
    this.#allow = options.allowAddress ?? isPublicAddress;
    this.#agent = options.agent;
    this.#cache = new LRUCache({ max: options.maxCached ?? 1_000 });
    this.#backend = context.backend;
    this.#clock = context.clock;
    this.#logger = context.logger;
    this.#firstSeenTtlMs = context.firstSeenTtlMs;
  }

  /**
   * The client a metadata document URL describes; throws {@link OAuthFailure} `invalid_client` with
   * the reason when it cannot be fetched or used (nothing is stored then).
   */
  async resolve(clientId: string): Promise<ClientRecord> {
    const now = this.#clock.now();
    const cached = this.#cache.get(clientId);
    if (cached !== undefined && cached.expiresAt > now) return cached.record;
    const running = this.#inFlight.get(clientId);
    if (running) return running;
    const work = this.#load(clientId).finally(() => this.#inFlight.delete(clientId));
    this.#inFlight.set(clientId, work);
    return work;
  }

  async #load(clientId: string): Promise<ClientRecord> {
    const refuse = (reason: string): never => {
      this.#logger.warn({ clientId, reason }, 'refused a client metadata document');
      throw new OAuthFailure(
        'invalid_client',
        `the client metadata document at ${clientId} cannot be used: ${reason}`,
      );
    };
    if (!isClientMetadataUrl(clientId)) return refuse('the client id must be an https URL with a path');
    const url = new URL(clientId);
    let fetched: { body: string; maxAgeMs: number | undefined };
    try {
      fetched = await this.#fetch(url);
    } catch (error) {
      return refuse(error instanceof FetchRefusal ? error.message : 'it could not be fetched');
    }
    let document: unknown;
    try {
      document = JSON.parse(fetched.body);
    } catch {
      return refuse('it is not JSON');
    }
    if (typeof document !== 'object' || document === null || Array.isArray(document))
      return refuse('it is not a JSON object');
    const fields = document as Record<string, unknown>;
    if (fields.client_id !== clientId) return refuse('its client_id is not the URL it was fetched from');
    const method = fields.token_endpoint_auth_method ?? 'none';
    if (method !== 'none')
      return refuse(`token_endpoint_auth_method ${String(method).slice(0, 40)} is not supported (use none)`);
    let metadata: ReturnType<typeof parseRegistration>;
    try {
      metadata = parseRegistration(document);
    } catch (error) {
      return refuse(error instanceof OAuthFailure ? error.message : 'its metadata is invalid');
    }
    const now = this.#clock.now();
    const firstSeenAt = await this.#firstSeen(clientId, now);
    const record: ClientRecord = {
      // Stryker disable next-line MethodExpression,ConditionalExpression: a field holding undefined is absent to every reader (records are stored as JSON)
      ...Object.fromEntries(Object.entries(metadata).filter(([, value]) => value !== undefined)),
      client_id: clientId,
      redirect_uris: metadata.redirect_uris,
      grant_types: metadata.grant_types ?? ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      client_id_issued_at: Math.floor(firstSeenAt / 1000),
      firstSeenAt,
    };
    const ttl = Math.min(fetched.maxAgeMs ?? this.#defaultTtlMs, this.#maxTtlMs);
    // Stryker disable next-line EqualityOperator,ConditionalExpression: an entry cached for 0 ms is expired when read (expiresAt > now), so caching it changes nothing
    if (ttl > 0) this.#cache.set(clientId, { record, expiresAt: now + ttl });
    return record;
  }

  /** When this server first saw the document's client (kept across restarts in the backend). */
  async #firstSeen(clientId: string, now: number): Promise<number> {
    const key = sha256(clientId);
    await this.#backend.set(
      'mcp-client-seen',
      key,
      { firstSeenAt: now },
      { ttlMs: this.#firstSeenTtlMs, onlyIfAbsent: true },
    );
    const seen = await this.#backend.get<{ firstSeenAt: number }>('mcp-client-seen', key);
    // Stryker disable next-line OptionalChaining: the entry was written just before; only a backend losing it at once would make it undefined
    return seen?.firstSeenAt ?? now;
  }

  #fetch(url: URL): Promise<{ body: string; maxAgeMs: number | undefined }> {
    // Stryker disable next-line Regex: a URL's hostname has brackets only around an IPv6 literal, so each variant strips the same two
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const literal = isIP(host);
    if (literal !== 0 && !this.#allow(host, literal as 4 | 6)) {
      return Promise.reject(new FetchRefusal('its address is not a public one'));
    }
    const allow = this.#allow;
    // The guard runs inside the socket's own lookup: the address checked is the address connected to.
    const lookup: LookupFunction = (hostname, options, callback) => {
      dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) => {
        if (error) return callback(error, '', 4);
        const allowed = addresses.filter((entry) => allow(entry.address, entry.family as 4 | 6));
        if (allowed.length === 0)
          // Stryker disable next-line OptionalChaining,LogicalOperator: the address only names the refusal in the error, which is not shown
          return callback(new BlockedAddressError(addresses[0]?.address ?? hostname), '', 4);
        if ((options as { all?: boolean }).all)
          return (callback as (e: null, a: typeof allowed) => void)(null, allowed);
        callback(null, allowed[0]!.address, allowed[0]!.family);
      });
    };
    return new Promise((resolve, reject) => {
      const request = httpsRequest(
        url,
        {
          method: 'GET',
          headers: { accept: 'application/json' },
          lookup,
          agent: this.#agent,
        },
        (response) => {
          const status = response.statusCode ?? 0;
          if (status >= 300 && status < 400) {
            // Stryker disable next-line CallExpression: draining frees the socket at once; otherwise the deadline destroys the request
            response.resume();
            return reject(new FetchRefusal('it redirects (redirects are not followed)'));
          }
          if (status !== 200) {
            // Stryker disable next-line CallExpression: draining frees the socket at once; otherwise the deadline destroys the request
            response.resume();
            return reject(new FetchRefusal(`it answered HTTP ${status}`));
          }
          const type = String(response.headers['content-type'] ?? '');
          if (!/^application\/(?:[\w.+-]+\+)?json\b/i.test(type)) {
            // Stryker disable next-line CallExpression: draining frees the socket at once; otherwise the deadline destroys the request
            response.resume();
            return reject(new FetchRefusal('it is not served as application/json'));
          }
          const declared = Number(response.headers['content-length'] ?? 0);
          if (declared > this.#maxBytes) {
            // Stryker disable next-line CallExpression: the body is never read; otherwise the deadline destroys the request
            response.destroy();
            return reject(new FetchRefusal(`it is larger than ${this.#maxBytes} bytes`));
          }
          const chunks: Buffer[] = [];
          let total = 0;
          response.on('data', (chunk: Buffer) => {
            total += chunk.length;
            if (total > this.#maxBytes) {
              // Stryker disable next-line CallExpression: what arrives after the cap is dropped unread (bounded memory); this only stops it early
              response.destroy();
              reject(new FetchRefusal(`it is larger than ${this.#maxBytes} bytes`));
              return;
            }
            chunks.push(chunk);
          });
          response.on('end', () =>
            resolve({
              body: Buffer.concat(chunks).toString('utf8'),
              maxAgeMs: maxAgeOf(String(response.headers['cache-control'] ?? '')),
            }),
          );
          response.on('error', () => reject(new FetchRefusal('the connection failed')));
        },
      );
      const deadline = setTimeout(
        () => request.destroy(new FetchRefusal(`it took longer than ${this.#timeoutMs} ms`)),
        this.#timeoutMs,
      );
      // Stryker disable next-line ArrowFunction,CallExpression: a deadline left to fire destroys a finished request, which does nothing; clearing it only frees the timer early
      request.on('close', () => clearTimeout(deadline));
      request.on('error', (error) => {
        if (error instanceof FetchRefusal) return reject(error);
        if (
          error instanceof BlockedAddressError ||
          (error as { cause?: unknown }).cause instanceof BlockedAddressError
        ) {
          return reject(new FetchRefusal('its host resolves to an address that is not a public one'));
        }
        reject(new FetchRefusal('it could not be fetched'));
      });
      request.end();
    });
  }
}

class FetchRefusal extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'FetchRefusal';
  }
}

/** Cache lifetime from `Cache-Control`, ms: 0 for no-store/no-cache, undefined without max-age. */
function maxAgeOf(cacheControl: string): number | undefined {
  const directives = cacheControl.toLowerCase();
  if (/\b(?:no-store|no-cache|private)\b/.test(directives)) return 0;
  const match = /\bmax-age=(\d+)/.exec(directives);
  return match ? Number(match[1]) * 1000 : undefined;
}
