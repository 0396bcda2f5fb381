/**
 * What a failed provider request means for the manager, as pure functions: which failures are worth
 * retrying, which mean the grant is dead, which mean the OAuth client itself is misconfigured, and
 * the typed, sanitised error a caller sees.
 *
 * @module
 */
import { ConfigurationError, CredentialError, ProviderError } from '../errors.js';

/** How the manager treats a provider failure. */
export type ProviderFailureKind =
  /** The refresh token or code is revoked, expired or used: the user must sign in again. */
  | 'invalid_grant'
  /** The provider refused the OAuth client (`invalid_client`, `unauthorized_client`). */
  | 'invalid_client'
  /** Worth another attempt: network error, timeout, 408, 429, 5xx, `temporarily_unavailable`. */
  | 'transient'
  /** Any other refusal (a 4xx with another OAuth error): retrying would not help. */
  | 'rejected';

/** A provider failure reduced to what is safe to keep (internal; callers see typed errors). */
export class ProviderFailureError extends Error {
  constructor(
    readonly kind: ProviderFailureKind,
    /** The OAuth `error` field, else `HTTP <status>`, else the network error's code. */
    readonly providerCode: string,
    /** A stand-in for the raw error that carries only {@link providerCode}. */
    readonly sanitised: Error,
  ) {
    super(`provider failure (${providerCode})`, { cause: sanitised });
  }
}

/**
 * Reduces a google-auth-library / gaxios error to what is safe to keep: the HTTP status and the OAuth
 * `error` field. The raw error holds the request body (refresh token, client secret) and must never
 * be kept as a cause or logged.
 */
export function classifyProviderFailure(error: unknown): ProviderFailureError {
  if (error instanceof ProviderFailureError) return error;
  const response = (error as { response?: { status?: number; data?: unknown } } | undefined)?.response;
  const status = typeof response?.status === 'number' ? response.status : undefined;
  const data = response?.data;
  const oauthError =
    typeof data === 'object' && data !== null && typeof (data as { error?: unknown }).error === 'string'
      ? (data as { error: string }).error
      : undefined;
  const code =
    oauthError ??
    (status !== undefined
      ? `HTTP ${status}`
      : (((error as { code?: unknown } | undefined)?.code as string | undefined) ?? 'network error'));
  const sanitised = new Error(code);
  sanitised.name = 'ProviderResponse';
  return new ProviderFailureError(kindOf(status, oauthError), code, sanitised);
}

function kindOf(status: number | undefined, oauthError: string | undefined): ProviderFailureKind {
  if (oauthError === 'invalid_grant') return 'invalid_grant';
  if (oauthError === 'invalid_client' || oauthError === 'unauthorized_client') return 'invalid_client';
  if (
    status === undefined ||
    status === 408 ||
    status === 429 ||
    status >= 500 ||
    oauthError === 'temporarily_unavailable'
  ) {
    return 'transient';
  }
  return 'rejected';
}

/**
 * The error a caller of the manager sees for `error`: a {@link CredentialError} passes through; a
 * provider failure becomes a {@link ConfigurationError} (the client was refused) or a
 * {@link ProviderError}, whose cause holds only the provider's code.
 */
export function toPublicError(error: unknown, userId: string | undefined): Error {
  if (error instanceof CredentialError) return error;
  const failure = classifyProviderFailure(error);
  const who = userId === undefined ? '' : ` for ${userId}`;
  const options = {
    cause: failure.sanitised,
    providerCode: failure.providerCode,
    ...(userId ? { userId } : {}),
  };
  if (failure.kind === 'invalid_client') {
    return new ConfigurationError(`the provider refused the OAuth client (${failure.providerCode})`, {
      ...options,
      hint: 'check oauth.clientId and oauth.clientSecret',
    });
  }
  return new ProviderError(
    failure.kind === 'transient'
      ? `the OAuth provider failed${who} after retries (${failure.providerCode})`
      : `the OAuth provider refused the request${who} (${failure.providerCode})`,
    options,
  );
}
