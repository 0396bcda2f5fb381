/**
 * Options of the MCP authorization server, with every default exported and validated at
 * construction (a bad option throws {@link ConfigurationError} naming it).
 *
 * @module
 */
import { type Clock, systemClock } from '../clock.js';
import { ConfigurationError } from '../errors.js';
import { checkRateLimit, type RateLimit } from '../http/rate-limit.js';
import type { SealingKeySource } from '../internal/seal.js';
import { type Logger, silentLogger } from '../logger.js';
import type { SignInPolicy } from '../refresh/authorization.js';
import type { CredentialManager } from '../refresh/manager.js';
import type { SessionBackend } from '../session/backend.js';
import type { OAuth21SessionStore } from '../session/session-store.js';
import { resolveVerifiedTokenCache } from '../session/verified-tokens.js';
import type { ClientMetadataOptions } from './client-metadata.js';

export {
  DEFAULT_VERIFIED_TOKEN_CACHE_MAX,
  DEFAULT_VERIFIED_TOKEN_CACHE_TTL_MS,
} from '../session/verified-tokens.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Default lifetime of issued access tokens: 1 hour. */
export const DEFAULT_ACCESS_TOKEN_TTL_MS = HOUR;
/** Default lifetime of a refresh token from its issue (each rotation starts it again): 30 days. */
export const DEFAULT_REFRESH_TOKEN_TTL_MS = 30 * DAY;
/** Default window in which a spent refresh token presented again by its client gets a fresh pair: 10 s. */
export const DEFAULT_REFRESH_REUSE_GRACE_MS = 10_000;
/** Default lifetime of an authorization code: 5 minutes. */
export const DEFAULT_AUTHORIZATION_CODE_TTL_MS = 5 * MINUTE;
/** Default time from /authorize to the consent decision: 10 minutes. */
export const DEFAULT_TRANSACTION_TTL_MS = 10 * MINUTE;
/** Default lifetime of a remembered consent per (user, client): 90 days. */
export const DEFAULT_CONSENT_TTL_MS = 90 * DAY;
/** Default lifetime of a registration that never obtained a token: 24 hours. */
export const DEFAULT_PENDING_CLIENT_TTL_MS = DAY;
/** Default lifetime of a client after its last token: 90 days (slides with use). */
export const DEFAULT_CLIENT_TTL_MS = 90 * DAY;
/** Default cap on pending registrations kept in process (memory backend): 10,000. */
export const DEFAULT_MAX_PENDING_CLIENTS = 10_000;
/** Default budget of /register per client address: 20 per hour. */
export const DEFAULT_REGISTER_RATE_LIMIT: RateLimit = Object.freeze({ limit: 20, windowMs: HOUR });
/** Default budget of /authorize per client address: 60 per 10 minutes. */
export const DEFAULT_AUTHORIZE_RATE_LIMIT: RateLimit = Object.freeze({ limit: 60, windowMs: 10 * MINUTE });

/** Options of `McpAuthorizationServer`. */
export interface McpAuthorizationServerOptions {
  /** Does the Google side: authorization URL, code exchange, storage, refresh, revocation. */
  manager: CredentialManager;
  /** Sessions: issued tokens die with the user's session generation. */
  sessionStore: OAuth21SessionStore;
  /**
   * Where registrations, codes, tokens and approvals live. Default: the session store's backend (use
   * Redis for replicas, so every replica sees the same clients and tokens).
   */
  backend?: SessionBackend;
  /** This authorization server's issuer, e.g. `https://mcp.example.com/` (its endpoints hang below it). */
  issuerUrl: string | URL;
  /** The protected MCP resource (the MCP endpoint URL). A `resource` parameter must name it. */
  resourceServerUrl: string | URL;
  /**
   * Seals browser-bound flow and consent cookies and signs anti-CSRF tokens: a random string of at
   * least 32 characters, the same on every replica (several: the first seals, all open), or the
   * encrypted store's keyring. Required.
   */
  serverSecret: SealingKeySource;
  /** Google scopes to request (`openid` and `email` are always added). */
  googleScopes: readonly string[];
  /** Path of the Google callback below the issuer. Default `/oauth/google/callback`. */
  googleCallbackPath?: string;
  /** Path of the consent page below the issuer. Default `/oauth/consent`. */
  consentPath?: string;
  /**
   * The MCP scopes clients may ask for (advertised as `scopes_supported`). Default: none, so any
   * requested scope is `invalid_scope`.
   */
  mcpScopes?: readonly string[];
  /** The scopes a request without `scope` gets (a subset of `mcpScopes`). Default: none. */
  defaultMcpScopes?: readonly string[];
  /** Who may sign in (Google Workspace domains by `hd`, single users). Default: anyone. */
  policy?: SignInPolicy;
  /** Lifetime of issued access tokens, ms. Default {@link DEFAULT_ACCESS_TOKEN_TTL_MS}. */
  accessTokenTtlMs?: number;
  /**
   * Lifetime of a refresh token, ms, started again at each rotation (an active client stays signed
   * in). Default {@link DEFAULT_REFRESH_TOKEN_TTL_MS}.
   */
  refreshTokenTtlMs?: number;
  /**
   * An absolute end of a grant, ms after the code exchange, however active the client (refresh
   * tokens never outlive it). Default: none (the lifetime only slides).
   */
  maxRefreshTokenLifetimeMs?: number;
  /**
   * How long a spent refresh token presented again by the same client gets a fresh pair instead of
   * revoking its family (clients refresh from parallel requests without coordination), ms. 0 turns
   * the grace off. Default {@link DEFAULT_REFRESH_REUSE_GRACE_MS}.
   */
  refreshReuseGraceMs?: number;
  /** Lifetime of authorization codes, ms. Default {@link DEFAULT_AUTHORIZATION_CODE_TTL_MS}. */
  authorizationCodeTtlMs?: number;
  /**
   * Remembers verified access tokens in process for `ttlMs`, so a request costs no SHA-256 and no
   * read of the token or its family; the user's session is still read on every request, so a
   * sign-out ends every token at once everywhere. A token or family revoked on this replica stops at
   * once here; on other replicas within `ttlMs`. `false` turns it off. Default: `{ max: 100000, ttlMs:
   * 60000 }` when the backend is in process (memory), `ttlMs` 5000 otherwise (Redis, PostgreSQL).
   */
  verifiedTokenCache?: { max?: number; ttlMs?: number } | false;
  /** Time from /authorize to the consent decision, ms. Default {@link DEFAULT_TRANSACTION_TTL_MS}. */
  transactionTtlMs?: number;
  /** How long an approval per (user, client) is remembered, ms. Default {@link DEFAULT_CONSENT_TTL_MS}. */
  consentTtlMs?: number;
  /** Lifetime of a registration that never obtained a token, ms. Default {@link DEFAULT_PENDING_CLIENT_TTL_MS}. */
  pendingClientTtlMs?: number;
  /** Lifetime of a client after its last token, ms. Default {@link DEFAULT_CLIENT_TTL_MS}. */
  clientTtlMs?: number;
  /** Most pending registrations kept in process (memory backend). Default {@link DEFAULT_MAX_PENDING_CLIENTS}. */
  maxPendingClients?: number;
  /**
   * Budgets per client address (per process). `false` turns all off; a `false` entry turns one off.
   * Defaults: {@link DEFAULT_REGISTER_RATE_LIMIT}, {@link DEFAULT_AUTHORIZE_RATE_LIMIT}; token: none.
   */
  rateLimits?:
    | { register?: RateLimit | false; authorize?: RateLimit | false; token?: RateLimit | false }
    | false;
  /**
   * Revoking one of our refresh tokens also revokes the user's Google grant and signs them out
   * everywhere (through the manager). Default true.
   */
  fullSignOutOnRefreshTokenRevocation?: boolean;
  /**
   * Client ID Metadata Documents (an `https` URL as `client_id`, the MCP spec's preferred
   * registration): fetch limits, cache, and the address guard. `false` turns them off (only dynamic
   * registration). Default: on, with the limits of `ClientMetadataOptions`.
   */
  clientMetadataDocuments?: ClientMetadataOptions | false;
  /** Shown on the consent page and in protected-resource metadata. Default `this MCP server`. */
  resourceName?: string;
  /** Mark cookies `Secure` with the `__Host-` prefix. Default: true when the issuer is https. */
  secureCookies?: boolean;
  clock?: Clock;
  /** Default: silent. SECURITY lines carry client and user ids, never tokens. */
  logger?: Logger;
}

/** The options with defaults applied and checked. */
export interface ResolvedOptions {
  manager: CredentialManager;
  sessionStore: OAuth21SessionStore;
  backend: SessionBackend;
  issuer: string;
  basePath: string;
  origin: string;
  resource: string;
  serverSecret: SealingKeySource;
  googleScopes: readonly string[];
  googleCallbackPath: string;
  consentPath: string;
  mcpScopes: readonly string[];
  defaultMcpScopes: readonly string[];
  policy: SignInPolicy | undefined;
  accessTokenTtlMs: number;
  refreshTokenTtlMs: number;
  maxRefreshTokenLifetimeMs: number | undefined;
  refreshReuseGraceMs: number;
  authorizationCodeTtlMs: number;
  verifiedTokenCache: { max: number; ttlMs: number } | false;
  transactionTtlMs: number;
  consentTtlMs: number;
  pendingClientTtlMs: number;
  clientTtlMs: number;
  maxPendingClients: number;
  rateLimits: {
    register: RateLimit | undefined;
    authorize: RateLimit | undefined;
    token: RateLimit | undefined;
  };
  fullSignOut: boolean;
  clientMetadataDocuments: ClientMetadataOptions | false;
  resourceName: string;
  secureCookies: boolean;
  clock: Clock;
  logger: Logger;
}

function duration(value: number | undefined, fallback: number, name: string, allowZero = false): number {
  const chosen = value ?? fallback;
  if (!Number.isFinite(chosen) || chosen < 0 || (!allowZero && chosen === 0)) {
    throw new ConfigurationError(
      `${name} must be a ${allowZero ? 'non-negative' : 'positive'} number of milliseconds`,
    );
  }
  return chosen;
}

/** Normalises a resource URL for comparison (no fragment, no trailing slash). */
export function comparableResource(value: string | URL): string {
  const url = new URL(String(value));
  url.hash = '';
  return url.href.replace(/\/$/, '');
}

function path(value: string | undefined, fallback: string, name: string): string {
  const chosen = value ?? fallback;
  if (!/^\/[A-Za-z0-9._~\-/]*$/.test(chosen))
    throw new ConfigurationError(`${name} must be a path starting with /`);
  return chosen.replace(/\/$/, '');
}

/** Applies defaults and validates; throws `ConfigurationError` naming the bad option. */
export function resolveOptions(options: McpAuthorizationServerOptions): ResolvedOptions {
  if (!options?.manager || !options.sessionStore) {
    throw new ConfigurationError('McpAuthorizationServer needs manager and sessionStore');
  }
  let issuerUrl: URL;
  try {
    issuerUrl = new URL(String(options.issuerUrl));
  } catch {
    throw new ConfigurationError('issuerUrl must be an absolute URL');
  }
  if (issuerUrl.search || issuerUrl.hash)
    throw new ConfigurationError('issuerUrl must have no query or fragment');
  let resource: string;
  try {
    resource = comparableResource(options.resourceServerUrl);
  } catch {
    throw new ConfigurationError('resourceServerUrl must be an absolute URL');
  }
  const mcpScopes = [...new Set(options.mcpScopes ?? [])];
  const defaultMcpScopes = [...new Set(options.defaultMcpScopes ?? [])];
  const unknownDefault = defaultMcpScopes.find((scope) => !mcpScopes.includes(scope));
  if (unknownDefault !== undefined) {
    throw new ConfigurationError(`defaultMcpScopes contains "${unknownDefault}", which is not in mcpScopes`);
  }
  type Limits = { register?: RateLimit | false; authorize?: RateLimit | false; token?: RateLimit | false };
  const limits: Limits =
    options.rateLimits === false
      ? { register: false, authorize: false, token: false }
      : (options.rateLimits ?? {});
  const limit = (value: RateLimit | false | undefined, fallback: RateLimit | undefined, name: string) =>
    value === false
      ? undefined
      : value === undefined
        ? fallback
        : checkRateLimit(value, `rateLimits.${name}`);
  const refreshTokenTtlMs = duration(
    options.refreshTokenTtlMs,
    DEFAULT_REFRESH_TOKEN_TTL_MS,
    'refreshTokenTtlMs',
  );
  const maxRefreshTokenLifetimeMs =
    options.maxRefreshTokenLifetimeMs === undefined
      ? undefined
      : duration(options.maxRefreshTokenLifetimeMs, 0, 'maxRefreshTokenLifetimeMs');
  const maxPendingClients = options.maxPendingClients ?? DEFAULT_MAX_PENDING_CLIENTS;
  if (!Number.isInteger(maxPendingClients) || maxPendingClients < 1) {
    throw new ConfigurationError('maxPendingClients must be a positive integer');
  }
  return {
    manager: options.manager,
    sessionStore: options.sessionStore,
    backend: options.backend ?? options.sessionStore.backend,
    issuer: issuerUrl.href,
    basePath: issuerUrl.pathname.replace(/\/$/, ''),
    origin: issuerUrl.origin,
    resource,
    serverSecret: options.serverSecret,
    googleScopes: options.googleScopes,
    googleCallbackPath: path(options.googleCallbackPath, '/oauth/google/callback', 'googleCallbackPath'),
    consentPath: path(options.consentPath, '/oauth/consent', 'consentPath'),
    mcpScopes,
    defaultMcpScopes,
    policy: options.policy,
    accessTokenTtlMs: duration(options.accessTokenTtlMs, DEFAULT_ACCESS_TOKEN_TTL_MS, 'accessTokenTtlMs'),
    refreshTokenTtlMs,
    maxRefreshTokenLifetimeMs,
    refreshReuseGraceMs: duration(
      options.refreshReuseGraceMs,
      DEFAULT_REFRESH_REUSE_GRACE_MS,
      'refreshReuseGraceMs',
      true,
    ),
    authorizationCodeTtlMs: duration(
      options.authorizationCodeTtlMs,
      DEFAULT_AUTHORIZATION_CODE_TTL_MS,
      'authorizationCodeTtlMs',
    ),
    verifiedTokenCache: resolveVerifiedTokenCache(
      options.verifiedTokenCache,
      options.backend ?? options.sessionStore.backend,
    ),
    transactionTtlMs: duration(options.transactionTtlMs, DEFAULT_TRANSACTION_TTL_MS, 'transactionTtlMs'),
    consentTtlMs: duration(options.consentTtlMs, DEFAULT_CONSENT_TTL_MS, 'consentTtlMs'),
    pendingClientTtlMs: duration(
      options.pendingClientTtlMs,
      DEFAULT_PENDING_CLIENT_TTL_MS,
      'pendingClientTtlMs',
    ),
    clientTtlMs: Math.max(
      duration(options.clientTtlMs, DEFAULT_CLIENT_TTL_MS, 'clientTtlMs'),
      refreshTokenTtlMs,
    ),
    maxPendingClients,
    rateLimits: {
      register: limit(limits.register, DEFAULT_REGISTER_RATE_LIMIT, 'register'),
      authorize: limit(limits.authorize, DEFAULT_AUTHORIZE_RATE_LIMIT, 'authorize'),
      token: limit(limits.token, undefined, 'token'),
    },
    fullSignOut: options.fullSignOutOnRefreshTokenRevocation ?? true,
    clientMetadataDocuments: options.clientMetadataDocuments ?? {},
    resourceName: options.resourceName ?? 'this MCP server',
    secureCookies: options.secureCookies ?? issuerUrl.protocol === 'https:',
    clock: options.clock ?? systemClock,
    logger: options.logger ?? silentLogger,
  };
}
