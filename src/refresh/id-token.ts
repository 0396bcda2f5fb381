/**
 * {@link IdTokenVerifier}: checks an id_token's signature, issuer, audience and lifetime with `jose`
 * against the provider's signing keys, which it fetches itself: a JWKS document (`{ keys: [...] }`,
 * any OpenID Connect provider, Google's `oauth2/v3/certs`) or Google's `{ kid: PEM }` certificates.
 *
 * The key set is kept as long as the response's `Cache-Control` allows (`max-age`, within 1 minute
 * and 24 hours; 1 hour without one) and fetched again early when a token names a key id it does not
 * hold (key rotation), at most once per {@link KEY_REFETCH_COOLDOWN_MS}. A provider that cannot be
 * reached is a {@link ProviderError} ("try again"); a token that does not verify is an
 * {@link AccessDeniedError}: an outage never looks like a forged token, nor the reverse.
 *
 * @module
 */
import {
  createLocalJWKSet,
  importSPKI,
  importX509,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose';
import type { Clock } from '../clock.js';
import { AccessDeniedError, ProviderError } from '../errors.js';
import { sanitiseCause } from '../internal/sanitise.js';
import type { Logger } from '../logger.js';

/** Shortest and longest time a fetched key set is kept, ms. */
const MIN_KEY_CACHE_MS = 60_000;
const MAX_KEY_CACHE_MS = 24 * 60 * 60 * 1000;
const DEFAULT_KEY_CACHE_MS = 60 * 60 * 1000;
/** The least time between two fetches caused by an unknown key id, ms. */
export const KEY_REFETCH_COOLDOWN_MS = 30_000;
/** Accepted clock difference between the provider and this server, seconds (google-auth-library's). */
const CLOCK_TOLERANCE_SECONDS = 300;
/** Largest key document read, bytes. */
const MAX_KEYS_BYTES = 256 * 1024;

/** Options of {@link IdTokenVerifier}. */
export interface IdTokenVerifierOptions {
  /** Where the provider publishes its keys: a JWKS URL or Google's PEM certificate URL. */
  keysUrl: string;
  /** Accepted `iss` values. */
  issuers: readonly string[];
  /** Accepted `aud`: the OAuth client id. */
  audience: string;
  /** Per-request timeout, ms. */
  requestTimeoutMs: number;
  clock: Clock;
  logger: Logger;
}

interface KeySet {
  getKey: JWTVerifyGetKey;
  fetchedAt: number;
  expiresAt: number;
}

/** Verifies id_tokens; see the module documentation. */
export class IdTokenVerifier {
  readonly #options: IdTokenVerifierOptions;
  #keys: KeySet | undefined;
  #fetching: Promise<KeySet> | undefined;

  constructor(options: IdTokenVerifierOptions) {
    this.#options = options;
  }

  /**
   * The verified claims of `idToken`.
   *
   * @throws ProviderError when the keys cannot be fetched (and none are held); AccessDeniedError
   *   (`reason: 'id-token-invalid'`) when the token does not verify.
   */
  async verify(idToken: string): Promise<JWTPayload> {
    let keys = await this.#current();
    try {
      return await this.#verifyWith(idToken, keys);
    } catch (error) {
      if (!isUnknownKey(error) || this.#options.clock.now() - keys.fetchedAt < KEY_REFETCH_COOLDOWN_MS) {
        throw denied(error);
      }
    }
    // A key id we do not hold: the provider may have rotated its keys since the last fetch.
    keys = await this.#refresh();
    try {
      return await this.#verifyWith(idToken, keys);
    } catch (error) {
      throw denied(error);
    }
  }

  async #verifyWith(idToken: string, keys: KeySet): Promise<JWTPayload> {
    const { payload } = await jwtVerify(idToken, keys.getKey, {
      issuer: [...this.#options.issuers],
      audience: this.#options.audience,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      currentDate: new Date(this.#options.clock.now()),
      algorithms: ['RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384', 'EdDSA'],
    });
    return payload;
  }

  async #current(): Promise<KeySet> {
    const keys = this.#keys;
    if (keys !== undefined && keys.expiresAt > this.#options.clock.now()) return keys;
    try {
      return await this.#refresh();
    } catch (error) {
      if (keys === undefined) throw error;
      // Expired keys still verify tokens signed with them; an outage of the key endpoint should not
      // stop sign-ins that a cached key can check. Rotated-away keys fail as unknown keys anyway.
      this.#options.logger.warn(
        { keysUrl: this.#options.keysUrl, cause: sanitiseCause(error).message },
        'could not refresh the provider’s signing keys; using the cached ones',
      );
      return keys;
    }
  }

  #refresh(): Promise<KeySet> {
    this.#fetching ??= this.#fetch().finally(() => {
      this.#fetching = undefined;
    });
    return this.#fetching;
  }

  async #fetch(): Promise<KeySet> {
    const { keysUrl, requestTimeoutMs, clock } = this.#options;
    let response: Response;
    try {
      response = await fetch(keysUrl, {
        signal: AbortSignal.timeout(requestTimeoutMs),
        headers: { accept: 'application/json' },
      });
    } catch (error) {
      throw unreachable(`could not reach the provider’s signing keys (${reasonOf(error)})`, error);
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => {});
      throw unreachable(
        `the provider’s signing keys answered HTTP ${response.status}`,
        undefined,
        response.status,
      );
    }
    let document: unknown;
    try {
      const text = await response.text();
      if (text.length > MAX_KEYS_BYTES) throw new Error('key document too large');
      document = JSON.parse(text);
    } catch (error) {
      throw unreachable('the provider’s signing keys are not a JSON document', error);
    }
    const getKey = await keyResolver(document);
    const now = clock.now();
    const keys = {
      getKey,
      fetchedAt: now,
      expiresAt: now + cacheLifetime(response.headers.get('cache-control')),
    };
    this.#keys = keys;
    return keys;
  }
}

/** Builds the key lookup of a JWKS document or of Google's `{ kid: PEM }` certificates. */
async function keyResolver(document: unknown): Promise<JWTVerifyGetKey> {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw unreachable('the provider’s signing keys are not a key set');
  }
  if (Array.isArray((document as { keys?: unknown }).keys)) {
    try {
      return createLocalJWKSet(document as JSONWebKeySet);
    } catch (error) {
      throw unreachable('the provider’s JWKS is malformed', error);
    }
  }
  const byKid = new Map<string, Awaited<ReturnType<typeof importSPKI>>>();
  for (const [kid, pem] of Object.entries(document)) {
    // Stryker disable next-line ConditionalExpression: a non-string entry fails the import below and is skipped all the same
    if (typeof pem !== 'string') continue;
    try {
      byKid.set(
        kid,
        pem.includes('BEGIN CERTIFICATE') ? await importX509(pem, 'RS256') : await importSPKI(pem, 'RS256'),
      );
    } catch {
      // A key in a format or algorithm we do not take: tokens signed with it fail as unknown keys.
    }
  }
  if (byKid.size === 0) throw unreachable('the provider’s signing keys hold no usable key');
  return async (header) => {
    // Stryker disable next-line ConditionalExpression: no certificate is filed under an undefined key id, so the lookup answers undefined all the same
    const key = header.kid === undefined ? undefined : byKid.get(header.kid);
    if (key === undefined) {
      const error = new Error('no key matches the token’s key id');
      (error as { code?: string }).code = 'ERR_JWKS_NO_MATCHING_KEY';
      throw error;
    }
    return key;
  };
}

/** How long a key set may be kept, from `Cache-Control` (`max-age`, `s-maxage`; `no-store` = minimum). */
export function cacheLifetime(cacheControl: string | null): number {
  // Stryker disable next-line ConditionalExpression: without a header neither pattern below matches, which gives the default all the same
  if (!cacheControl) return DEFAULT_KEY_CACHE_MS;
  if (/\b(no-store|no-cache)\b/i.test(cacheControl)) return MIN_KEY_CACHE_MS;
  const seconds = /\b(?:s-maxage|max-age)\s*=\s*"?(\d+)/i.exec(cacheControl)?.[1];
  if (seconds === undefined) return DEFAULT_KEY_CACHE_MS;
  return Math.min(MAX_KEY_CACHE_MS, Math.max(MIN_KEY_CACHE_MS, Number(seconds) * 1000));
}

function isUnknownKey(error: unknown): boolean {
  // Stryker disable next-line OptionalChaining: what jose and fetch throw is always an object
  return (error as { code?: unknown } | undefined)?.code === 'ERR_JWKS_NO_MATCHING_KEY';
}

function reasonOf(error: unknown): string {
  // Stryker disable next-line OptionalChaining: what fetch throws is always an object
  const name = (error as { name?: unknown } | undefined)?.name;
  // Stryker disable next-line ConditionalExpression,LogicalOperator: Node 20 reports a timed-out fetch as TimeoutError; AbortError is kept for runtimes that report it so, and nothing here aborts otherwise
  if (name === 'TimeoutError' || name === 'AbortError') return 'timed out';
  // Stryker disable next-line OptionalChaining: as above; a fetch error without a cause is read by the next line
  const code = (error as { cause?: { code?: unknown } } | undefined)?.cause?.code;
  return typeof code === 'string' ? code : 'network error';
}

function unreachable(message: string, cause?: unknown, status?: number): ProviderError {
  return new ProviderError(`${message}; try again`, {
    // Stryker disable next-line ConditionalExpression: `{ cause: undefined }` leaves the error without a cause as well
    ...(cause === undefined ? {} : { cause }),
    providerCode: status === undefined ? 'keys-unavailable' : `HTTP ${status}`,
  });
}

function denied(error: unknown): AccessDeniedError {
  // Stryker disable next-line OptionalChaining: what jose throws is always an object
  const code = (error as { code?: unknown } | undefined)?.code;
  return new AccessDeniedError('the id_token did not verify', {
    cause: sanitiseCause(error),
    reason: 'id-token-invalid',
    // Stryker disable next-line ConditionalExpression: `{ hint: undefined }` leaves the error without a hint as well
    ...(typeof code === 'string' ? { hint: code } : {}),
  });
}
