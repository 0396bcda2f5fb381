/**
 * Typed errors. Every error this package throws is a {@link CredentialError} with a stable `code`,
 * so callers can branch on `error.code` (or `instanceof` a subclass) instead of parsing messages.
 *
 * Messages name users and operations, never tokens, secrets, codes or signed URLs.
 *
 * @module
 */
import { SanitisedCause, sanitiseCause } from './internal/sanitise.js';

export { SanitisedCause } from './internal/sanitise.js';

/** The stable machine-readable reason of a {@link CredentialError}. */
export type CredentialErrorCode =
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'CORRUPT'
  | 'REAUTH_REQUIRED'
  | 'ACCESS_DENIED'
  | 'STORAGE_UNAVAILABLE'
  | 'INVALID_INPUT'
  | 'CONFIGURATION'
  | 'PROVIDER_ERROR'
  | 'INVALID_TOKEN'
  | 'STORAGE_FORBIDDEN'
  | 'AUTHORIZATION_REQUIRED';

/**
 * The stable reasons of an {@link AccessDeniedError}.
 *
 * The access rules (`getCredentialsWithValidation`): `token-user-mismatch` (the token is another
 * user's), `session-bound-to-other-user`, `unbound-session` (an MCP session id alone, not bound),
 * `no-identity` (neither a token user nor an MCP session), `no-session` (the user is signed out),
 * `invalid-token-user`, `invalid-session-id` (malformed). Binding: `bind-contention`. Requests:
 * `no-verified-user` (the guard or the tool helper got a request no verifier authenticated).
 * Sign-in: `id-token-invalid`, `email-unverified`, `unexpected-user`, `unexpected-account` (same
 * address, another Google account), `not-allowed` (the sign-in policy). Tools: `missing-scopes`.
 */
export type AccessDeniedReason =
  | 'token-user-mismatch'
  | 'session-bound-to-other-user'
  | 'unbound-session'
  | 'no-identity'
  | 'no-session'
  | 'invalid-token-user'
  | 'invalid-session-id'
  | 'bind-contention'
  | 'no-verified-user'
  | 'id-token-invalid'
  | 'email-unverified'
  | 'unexpected-user'
  | 'unexpected-account'
  | 'not-allowed'
  | 'missing-scopes';

/** Options shared by every {@link CredentialError} constructor. */
export interface CredentialErrorOptions {
  /**
   * The underlying error (a backend or provider error). Kept reduced to its name, code, HTTP status
   * and message (a {@link SanitisedCause}); an error of this package is kept as is.
   */
  cause?: unknown;
  /** The normalised user id the error is about, when there is one. Never a token. */
  userId?: string;
  /** A short, actionable hint for the operator (which IAM action is missing, which env var to set...). */
  hint?: string;
}

/**
 * The brand every {@link CredentialError} carries, registered globally (`Symbol.for`), so errors are
 * recognised across ESM and CommonJS copies and duplicated installs of this package.
 */
export const CREDENTIAL_ERROR_BRAND: unique symbol = Symbol.for(
  'mcp-oauth-credentials.CredentialError',
) as never;

function isBranded(value: unknown): value is CredentialError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[CREDENTIAL_ERROR_BRAND] === true &&
    typeof (value as { code?: unknown }).code === 'string'
  );
}

/**
 * Base class of every error thrown by this package.
 *
 * `name` is the subclass name, `code` is a {@link CredentialErrorCode}, `cause` keeps the
 * underlying error. `toJSON()` returns only `name`, `code`, `message`, `userId` and `hint`.
 *
 * `instanceof` works across copies of the package (ESM and CommonJS, two installs): it checks a
 * global brand and, for a subclass, the code.
 */
export class CredentialError extends Error {
  /** Set on every instance; see {@link CREDENTIAL_ERROR_BRAND}. */
  readonly [CREDENTIAL_ERROR_BRAND] = true as const;
  /** The code of a subclass (undefined on the base class). */
  static readonly code: CredentialErrorCode | undefined = undefined;

  /** `instanceof` by brand and code, so it holds across copies of the package (see the class documentation). */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (!isBranded(value)) return false;
    // biome-ignore lint/complexity/noThisInStatic: `this` is the subclass `instanceof` was asked about.
    const code = (this as { code?: CredentialErrorCode }).code;
    return code === undefined || value.code === code;
  }

  /** The stable reason; see {@link CredentialErrorCode}. */
  readonly code: CredentialErrorCode;
  /** The normalised user id the error is about, if any. */
  readonly userId: string | undefined;
  /** An operator hint, if any. */
  readonly hint: string | undefined;

  constructor(code: CredentialErrorCode, message: string, options: CredentialErrorOptions = {}) {
    // A third party's error is never kept whole: its command arguments, signed headers or request
    // body could hold secrets. Errors of this package, and already sanitised causes, are kept.
    const cause =
      options.cause === undefined || isBranded(options.cause) || options.cause instanceof SanitisedCause
        ? options.cause
        : sanitiseCause(options.cause);
    super(message, cause === undefined ? undefined : { cause });
    this.name = new.target.name;
    this.code = code;
    this.userId = options.userId;
    this.hint = options.hint;
  }

  /** A serialisable summary that never includes the cause (which may come from a third party). */
  toJSON(): { name: string; code: CredentialErrorCode; message: string; userId?: string; hint?: string } {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      ...(this.userId === undefined ? {} : { userId: this.userId }),
      ...(this.hint === undefined ? {} : { hint: this.hint }),
    };
  }
}

/**
 * A record or resource that must exist does not (for example, no credentials stored for a user).
 *
 * @example
 * ```ts
 * if (error instanceof NotFoundError) return signInLink(); // nothing stored for this user yet
 * ```
 */
export class NotFoundError extends CredentialError {
  static override readonly code = 'NOT_FOUND' as const;
  declare readonly code: 'NOT_FOUND';
  constructor(message: string, options?: CredentialErrorOptions) {
    super('NOT_FOUND', message, options);
  }
}

/**
 * A compare-and-swap write lost: someone else wrote the record first. Re-read and decide again.
 *
 * @example
 * ```ts
 * try {
 *   await store.put(userId, next, { ifVersion: current.version });
 * } catch (error) {
 *   if (error instanceof ConflictError) return retryFromAFreshRead(); // someone else wrote first
 *   throw error;
 * }
 * ```
 */
export class ConflictError extends CredentialError {
  static override readonly code = 'CONFLICT' as const;
  declare readonly code: 'CONFLICT';
  constructor(message: string, options?: CredentialErrorOptions) {
    super('CONFLICT', message, options);
  }
}

/**
 * A stored record cannot be read: invalid JSON, a schema violation, or (for encrypted stores) a wrong
 * key, a tampered or a truncated envelope. Other users' records are unaffected.
 *
 * @example
 * ```ts
 * if (error instanceof CorruptCredentialsError) log.error({ userId: error.userId, keyId: error.keyId }, 'unreadable record');
 * ```
 */
export class CorruptCredentialsError extends CredentialError {
  static override readonly code = 'CORRUPT' as const;
  declare readonly code: 'CORRUPT';
  /** The id of the encryption key involved, for encrypted stores. */
  readonly keyId: string | undefined;

  constructor(message: string, options?: CredentialErrorOptions & { keyId?: string }) {
    super('CORRUPT', message, options);
    this.keyId = options?.keyId;
  }
}

/**
 * The user must authorize again: the refresh token was revoked or expired (`invalid_grant`), or the
 * stored credentials have no refresh token and the access token expired.
 *
 * @example
 * ```ts
 * if (error instanceof ReauthRequiredError) return { isError: true, content: [{ type: 'text', text: 'Sign in again: ' + signInUrl }] };
 * ```
 */
export class ReauthRequiredError extends CredentialError {
  static override readonly code = 'REAUTH_REQUIRED' as const;
  declare readonly code: 'REAUTH_REQUIRED';
  constructor(message: string, options?: CredentialErrorOptions) {
    super('REAUTH_REQUIRED', message, options);
  }
}

/**
 * The caller may not do this: another user's credentials or session, a sign-in that is not allowed.
 *
 * @example
 * ```ts
 * if (error instanceof AccessDeniedError && error.reason === 'session-bound-to-other-user') res.status(404).end();
 * ```
 */
export class AccessDeniedError extends CredentialError {
  static override readonly code = 'ACCESS_DENIED' as const;
  declare readonly code: 'ACCESS_DENIED';
  /** Why, when the denial has a stable reason (see {@link AccessDeniedReason}). */
  readonly reason: AccessDeniedReason | undefined;

  constructor(message: string, options?: CredentialErrorOptions & { reason?: AccessDeniedReason }) {
    super('ACCESS_DENIED', message, options);
    this.reason = options?.reason;
  }
}

/**
 * The storage backend failed or timed out after its retries. Nothing was lost; try again later.
 *
 * @example
 * ```ts
 * if (error instanceof StorageUnavailableError) res.status(503).set('Retry-After', '5').end(); // nothing was lost
 * ```
 */
export class StorageUnavailableError extends CredentialError {
  static override readonly code = 'STORAGE_UNAVAILABLE' as const;
  declare readonly code: 'STORAGE_UNAVAILABLE';
  constructor(message: string, options?: CredentialErrorOptions) {
    super('STORAGE_UNAVAILABLE', message, options);
  }
}

/**
 * The storage backend refused this process (S3 `AccessDenied`, a KMS key it may not use, a file
 * permission): an operator problem, not the caller's. The `hint` names what to grant; HTTP clients
 * get a generic 503 with no bucket, path or user.
 *
 * @example
 * ```ts
 * if (error instanceof StorageForbiddenError) log.error({ hint: error.hint }, 'grant the missing permission');
 * ```
 */
export class StorageForbiddenError extends CredentialError {
  static override readonly code = 'STORAGE_FORBIDDEN' as const;
  declare readonly code: 'STORAGE_FORBIDDEN';
  constructor(message: string, options?: CredentialErrorOptions) {
    super('STORAGE_FORBIDDEN', message, options);
  }
}

/**
 * An argument was refused: an invalid user id, a malformed spec, an expired or unknown OAuth state.
 *
 * @example
 * ```ts
 * await store.get('../etc/passwd'); // rejects with InvalidInputError before storage is touched
 * ```
 */
export class InvalidInputError extends CredentialError {
  static override readonly code = 'INVALID_INPUT' as const;
  declare readonly code: 'INVALID_INPUT';
  constructor(message: string, options?: CredentialErrorOptions) {
    super('INVALID_INPUT', message, options);
  }
}

/**
 * The package is set up wrongly: a missing bucket, a missing key, an unsupported option combination.
 *
 * @example
 * ```ts
 * new CredentialManager({ store, oauth, refreshSkewMs: -1 }); // throws ConfigurationError naming refreshSkewMs
 * ```
 */
export class ConfigurationError extends CredentialError {
  static override readonly code = 'CONFIGURATION' as const;
  declare readonly code: 'CONFIGURATION';
  constructor(message: string, options?: CredentialErrorOptions) {
    super('CONFIGURATION', message, options);
  }
}

/**
 * The OAuth provider failed in a way that is not `invalid_grant` (network, 5xx, after retries).
 *
 * @example
 * ```ts
 * if (error instanceof ProviderError) log.warn({ providerCode: error.providerCode }, 'Google failed; try again');
 * ```
 */
export class ProviderError extends CredentialError {
  static override readonly code = 'PROVIDER_ERROR' as const;
  declare readonly code: 'PROVIDER_ERROR';
  /** The OAuth `error` field or the HTTP status, when the provider sent one. */
  readonly providerCode: string | undefined;

  constructor(message: string, options?: CredentialErrorOptions & { providerCode?: string }) {
    super('PROVIDER_ERROR', message, options);
    this.providerCode = options?.providerCode;
  }
}

/**
 * A bearer token was refused: unknown, expired, revoked, or its user signed out. HTTP 401 with a
 * `WWW-Authenticate` challenge; the SDK adapters turn it into each MCP SDK's own error.
 *
 * @example
 * ```ts
 * await sessionStore.verifyBearerToken('mcpoc_unknown'); // rejects with InvalidTokenError (HTTP 401)
 * ```
 */
export class InvalidTokenError extends CredentialError {
  static override readonly code = 'INVALID_TOKEN' as const;
  declare readonly code: 'INVALID_TOKEN';
  constructor(message: string, options?: CredentialErrorOptions) {
    super('INVALID_TOKEN', message, options);
  }
}

/**
 * The user must grant Google access first (no credentials, or a grant without scopes a tool needs),
 * and a single-use link to do so was made: `url` (open it in the user's browser), `elicitationId`
 * (for MCP URL elicitation) and the missing `scopes`. The SDK adapters turn it into the MCP
 * URL-elicitation-required error (-32042) for clients that support it; `toolErrorMessage` words it
 * for the others.
 *
 * @example
 * ```ts
 * if (error instanceof AuthorizationRequiredError) return toolErrorMessage(error); // the link to grant the missing scopes
 * ```
 */
export class AuthorizationRequiredError extends CredentialError {
  static override readonly code = 'AUTHORIZATION_REQUIRED' as const;
  declare readonly code: 'AUTHORIZATION_REQUIRED';
  /** Where the user grants access: single use, expiring within minutes, bound to this user. */
  readonly url: string;
  /** The id of this authorization, for MCP URL elicitation and its completion notification. */
  readonly elicitationId: string;
  /** The scopes asked for (the missing ones). */
  readonly scopes: readonly string[];

  constructor(
    message: string,
    options: CredentialErrorOptions & { url: string; elicitationId: string; scopes: readonly string[] },
  ) {
    super('AUTHORIZATION_REQUIRED', message, options);
    this.url = options.url;
    this.elicitationId = options.elicitationId;
    this.scopes = Object.freeze([...options.scopes]);
  }
}

/**
 * Every error this package throws, as a union discriminated by `code`: after
 * `if (isCredentialError(e))`, `switch (e.code)` narrows to the class with that code and its fields.
 *
 * @example
 * ```ts
 * function status(error: AnyCredentialError): number {
 *   switch (error.code) {
 *     case 'INVALID_TOKEN': return 401;
 *     case 'ACCESS_DENIED': return error.reason === 'missing-scopes' ? 403 : 404; // `reason` is typed
 *     case 'PROVIDER_ERROR': return 502; // `error.providerCode` is typed here
 *     default: return 500;
 *   }
 * }
 * ```
 */
export type AnyCredentialError =
  | NotFoundError
  | ConflictError
  | CorruptCredentialsError
  | ReauthRequiredError
  | AccessDeniedError
  | StorageUnavailableError
  | StorageForbiddenError
  | InvalidInputError
  | ConfigurationError
  | ProviderError
  | InvalidTokenError
  | AuthorizationRequiredError;

/**
 * True when `error` is an error of this package (from any copy of it: ESM, CommonJS, two installs),
 * optionally with the given code; narrows to {@link AnyCredentialError}, or to the class of `code`.
 *
 * @example
 * ```ts
 * if (isCredentialError(error, 'CONFLICT')) return retry(); // error: ConflictError
 * ```
 */
export function isCredentialError(error: unknown): error is AnyCredentialError;
export function isCredentialError<C extends CredentialErrorCode>(
  error: unknown,
  code: C,
): error is Extract<AnyCredentialError, { code: C }>;
export function isCredentialError(error: unknown, code?: CredentialErrorCode): boolean {
  return isBranded(error) && (code === undefined || error.code === code);
}
