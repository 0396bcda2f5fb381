/**
 * Signing users in and out: the authorization-code exchange (with the id_token checks and the
 * sign-in policy), saving the new record without losing a concurrent write, and revocation.
 * {@link CredentialManager.completeAuthorization} and {@link CredentialManager.revoke} call these.
 *
 * @module
 */
import type { Clock } from '../clock.js';
import { type StoredCredentials, splitScopes, subjectOf, type VersionedCredentials } from '../credentials.js';
import {
  AccessDeniedError,
  ConflictError,
  CorruptCredentialsError,
  InvalidInputError,
  ProviderError,
} from '../errors.js';
import { compareAndSwap } from '../internal/retry.js';
import type { Logger } from '../logger.js';
import type { OAuth21SessionStore } from '../session/session-store.js';
import type { CredentialStore } from '../stores/types.js';
import { normaliseUserId } from '../user-id.js';
import type { ManagerEvents } from './events.js';
import type { IdTokenVerifier } from './id-token.js';
import type { CredentialManagerOAuthOptions } from './options.js';
import type { ProviderClient } from './provider-client.js';
import { classifyProviderFailure, toPublicError } from './provider-errors.js';

/** What {@link CredentialManager.completeAuthorization} takes. */
export interface CompleteAuthorizationInput {
  /** The authorization code from the callback. */
  code: string;
  /** The PKCE verifier of this flow. */
  codeVerifier: string;
  /** The redirect URI the authorization request used. Default: `oauth.redirectUri`. */
  redirectUri?: string;
  /** Refuse (and store nothing) unless the signed-in account is this user. */
  expectedUser?: string;
  /**
   * Refuse (and store nothing) unless the signed-in Google account has this `sub`: an incremental
   * authorization for a known user must not come back as another account with the same address.
   */
  expectedSubject?: string | undefined;
  /** Scopes requested; used only if the provider's response omits `scope` (RFC 6749 §5.1). */
  requestedScopes?: string[];
  /** Who may sign in; refused accounts get {@link AccessDeniedError} and nothing is stored. */
  policy?: SignInPolicy | undefined;
}

/**
 * Who may sign in. With neither list set, any Google account with a verified email may. With either,
 * an account is admitted when its id_token's hosted domain (`hd`) is in `allowedDomains` or its email
 * is in `allowedUsers`. The email's domain alone never admits anyone (a consumer account can carry
 * any address); Google Workspace accounts carry `hd`.
 */
export interface SignInPolicy {
  /** Google Workspace domains (the id_token's `hd`), lower case. Default: no restriction. */
  allowedDomains?: readonly string[];
  /** Emails admitted whatever their domain. Default: no restriction. */
  allowedUsers?: readonly string[];
}

/** Whether `policy` admits the account (see {@link SignInPolicy}). */
export function admittedBy(policy: SignInPolicy, userId: string, hostedDomain: unknown): boolean {
  const domains = policy.allowedDomains ?? [];
  const users = policy.allowedUsers ?? [];
  if (domains.length === 0 && users.length === 0) return true;
  if (
    typeof hostedDomain === 'string' &&
    domains.some((domain) => domain.toLowerCase() === hostedDomain.toLowerCase())
  ) {
    return true;
  }
  return users.some((user) => user.toLowerCase() === userId);
}

/** The outcome of an authorization. No tokens. */
export interface AuthorizationResult {
  userId: string;
  /** Scopes actually granted. */
  scopes: string[];
  /** When the access token expires, epoch ms; `undefined` when the provider did not say. */
  expiresAt: number | undefined;
  /** Whether a refresh token is on file after this authorization (new, or kept from the same account). */
  hasRefreshToken: boolean;
  /**
   * Whether a record of another Google account (another `sub`) was on file for this address and was
   * replaced: its grant was revoked and its sessions ended.
   */
  replacedAccount: boolean;
  /** Claims of the verified id_token. */
  profile: { sub: string; email: string; name?: string; picture?: string; hd?: string; iss?: string };
}

/** The outcome of {@link CredentialManager.revoke}. */
export interface RevokeResult {
  userId: string;
  /** Whether credentials were in the store and are now removed. */
  removed: boolean;
  /** Whether the provider confirmed the revocation. */
  providerRevoked: boolean;
  /** Why the provider revocation failed (`HTTP 503`, `network error`...), when it did. */
  providerError?: string;
}

/** What signing in and out needs from the manager. */
export interface AuthorizationContext {
  store: CredentialStore;
  sessionStore: OAuth21SessionStore | undefined;
  provider: ProviderClient;
  idTokens: IdTokenVerifier;
  events: ManagerEvents;
  logger: Logger;
  clock: Clock;
  oauth: CredentialManagerOAuthOptions;
  maxConflictRetries: number;
  persistClientSecret: boolean;
  /** Drops what the manager keeps in memory for the user (credentials, API clients). */
  forget(userId: string): void;
  /** Caches a just-saved record as the user's current credentials. */
  remember(userId: string, credentials: StoredCredentials): void;
}

interface IdTokenClaims {
  sub?: unknown;
  email?: unknown;
  email_verified?: unknown;
  hd?: unknown;
  name?: unknown;
  picture?: unknown;
  iss?: unknown;
}

/** See {@link CredentialManager.completeAuthorization}. */
export async function completeAuthorization(
  context: AuthorizationContext,
  input: CompleteAuthorizationInput,
): Promise<AuthorizationResult> {
  const startedAt = context.clock.now();
  if (typeof input?.code !== 'string' || input.code.length === 0 || input.code.length > 2048) {
    throw new InvalidInputError('authorization code is missing or malformed');
  }
  const tokens = await exchange(context, input);
  if (!tokens.access_token || !tokens.id_token) {
    throw new ProviderError(
      'the token response lacks an access token or id_token (request the openid and email scopes)',
    );
  }
  // ProviderError when the keys cannot be fetched (try again); AccessDeniedError when it is forged.
  const payload = (await context.idTokens.verify(tokens.id_token)) as IdTokenClaims;
  const { userId, subject } = admit(context, input, payload);
  const scopes = tokens.scope ? splitScopes(tokens.scope) : [...(input.requestedScopes ?? [])];
  const fresh = {
    accessToken: tokens.access_token,
    idToken: tokens.id_token,
    scopes,
    tokenType: tokens.token_type ?? 'Bearer',
    // An empty string is no refresh token: the one on file (same account) is kept.
    refreshToken: tokens.refresh_token || undefined,
    expiresAt: typeof tokens.expiry_date === 'number' ? Math.trunc(tokens.expiry_date) : undefined,
  };

  const { saved, replaced } = await compareAndSwap(
    {
      retries: context.maxConflictRetries,
      exhausted: () =>
        new ConflictError(`could not save credentials of ${userId}: the record kept changing`, { userId }),
    },
    async () => {
      let existing: VersionedCredentials | undefined;
      let corrupt = false;
      try {
        existing = await context.store.get(userId);
      } catch (error) {
        if (!(error instanceof CorruptCredentialsError)) throw error;
        corrupt = true; // a fresh login replaces an unreadable record
      }
      const record = newRecord(context, userId, subject, fresh, existing?.credentials);
      await context.store.put(
        userId,
        record,
        corrupt ? {} : { ifVersion: existing ? existing.version : null },
      );
      const previous = existing?.credentials;
      return {
        saved: record,
        replaced: previous !== undefined && subjectOf(previous) !== subject ? previous : undefined,
      };
    },
  );
  context.forget(userId);
  context.remember(userId, saved);
  if (replaced !== undefined) await endReplacedAccount(context, userId, replaced);
  if (saved.refreshToken === undefined) {
    context.logger.info({ userId }, 'no refresh token granted in this sign-in');
  }
  const result: AuthorizationResult = {
    userId,
    scopes,
    expiresAt: saved.expiresAt,
    hasRefreshToken: saved.refreshToken !== undefined,
    replacedAccount: replaced !== undefined,
    profile: {
      sub: subject,
      email: userId,
      ...(typeof payload.name === 'string' ? { name: payload.name } : {}),
      ...(typeof payload.picture === 'string' ? { picture: payload.picture } : {}),
      ...(typeof payload.hd === 'string' ? { hd: payload.hd } : {}),
      ...(typeof payload.iss === 'string' ? { iss: payload.iss } : {}),
    },
  };
  context.events.emit('authorized', {
    userId,
    durationMs: context.clock.now() - startedAt,
    scopes,
    hasRefreshToken: result.hasRefreshToken,
  });
  return result;
}

async function exchange(context: AuthorizationContext, input: CompleteAuthorizationInput) {
  try {
    return await context.provider.exchangeCode(input);
  } catch (error) {
    const failure = classifyProviderFailure(error);
    if (failure.kind === 'invalid_grant') {
      throw new InvalidInputError('the authorization code is invalid, expired or already used', {
        cause: failure.sanitised,
      });
    }
    throw toPublicError(failure, undefined);
  }
}

/** The verified account, if it may sign in here; else {@link AccessDeniedError} with its reason. */
function admit(
  context: AuthorizationContext,
  input: CompleteAuthorizationInput,
  payload: IdTokenClaims,
): { userId: string; subject: string } {
  if (
    typeof payload.email !== 'string' ||
    payload.email_verified !== true ||
    typeof payload.sub !== 'string' ||
    payload.sub === ''
  ) {
    throw new AccessDeniedError('the id_token has no verified email', { reason: 'email-unverified' });
  }
  const userId = normaliseUserId(payload.email);
  const subject = payload.sub;
  if (input.expectedUser !== undefined && normaliseUserId(input.expectedUser) !== userId) {
    throw new AccessDeniedError(`signed in as ${userId}, not as the expected user`, {
      userId,
      reason: 'unexpected-user',
    });
  }
  if (input.expectedSubject !== undefined && input.expectedSubject !== subject) {
    context.logger.warn(
      { userId },
      'SECURITY: a sign-in bound to one Google account came back as another; refused',
    );
    throw new AccessDeniedError(`signed in with another Google account than ${userId}'s`, {
      userId,
      reason: 'unexpected-account',
    });
  }
  if (input.policy !== undefined && !admittedBy(input.policy, userId, payload.hd)) {
    context.logger.warn({ userId }, 'sign-in refused: the account is not in the allowed domains or users');
    throw new AccessDeniedError(`${userId} may not sign in to this server`, {
      userId,
      reason: 'not-allowed',
    });
  }
  return { userId, subject };
}

/**
 * The record a sign-in saves. A refresh token on file carries over only to the same Google account:
 * an address can move to another account, whose sign-in must not inherit the old grant.
 */
function newRecord(
  context: AuthorizationContext,
  userId: string,
  subject: string,
  fresh: {
    accessToken: string;
    idToken: string;
    scopes: string[];
    tokenType: string;
    refreshToken: string | undefined;
    expiresAt: number | undefined;
  },
  existing: StoredCredentials | undefined,
): StoredCredentials {
  // Only the same Google account keeps what is on file.
  const kept = existing !== undefined && subjectOf(existing) === subject ? existing : undefined;
  const record: StoredCredentials = {
    ...(kept?.extra ? { extra: { ...kept.extra } } : {}),
    userId,
    subject,
    accessToken: fresh.accessToken,
    scopes: fresh.scopes,
    tokenType: fresh.tokenType,
    idToken: fresh.idToken,
    clientId: context.oauth.clientId,
    tokenUri: context.provider.tokenUrl,
  };
  const refreshToken = fresh.refreshToken ?? kept?.refreshToken;
  // Stryker disable next-line ConditionalExpression: a refreshToken key holding undefined is no refresh token to every reader (the stores' parser drops it)
  if (refreshToken !== undefined) record.refreshToken = refreshToken;
  if (fresh.expiresAt !== undefined) record.expiresAt = fresh.expiresAt;
  if (context.persistClientSecret)
    record.extra = { ...record.extra, client_secret: context.oauth.clientSecret };
  if (record.extra) delete record.extra.expiry;
  return record;
}

/**
 * The address now belongs to another Google account: the old account's grant is revoked at the
 * provider (best effort) and its sessions, bindings and tokens end.
 */
async function endReplacedAccount(
  context: AuthorizationContext,
  userId: string,
  previous: StoredCredentials,
): Promise<void> {
  context.logger.warn(
    { userId },
    'this address now signs in as another Google account; the previous account’s grant was replaced and its sessions ended',
  );
  const token = previous.refreshToken ?? (previous.accessToken || undefined);
  if (token !== undefined) {
    try {
      await context.provider.revoke(token);
    } catch (error) {
      context.logger.warn(
        { userId, providerCode: classifyProviderFailure(error).providerCode },
        'could not revoke the previous account’s grant at the provider',
      );
    }
  }
  await context.sessionStore?.removeSession(userId);
}

/** See {@link CredentialManager.revoke}. */
export async function revokeUser(context: AuthorizationContext, userId: string): Promise<RevokeResult> {
  const startedAt = context.clock.now();
  let entry: VersionedCredentials | undefined;
  try {
    entry = await context.store.get(userId);
  } catch (error) {
    if (!(error instanceof CorruptCredentialsError)) throw error;
  }
  let providerRevoked = false;
  let providerError: string | undefined;
  const token = entry?.credentials.refreshToken ?? (entry?.credentials.accessToken || undefined);
  if (token !== undefined) {
    try {
      await context.provider.revoke(token);
      providerRevoked = true;
    } catch (error) {
      const failure = classifyProviderFailure(error);
      // The provider no longer knows the token: it is as revoked as it gets.
      providerRevoked = failure.providerCode === 'invalid_token';
      providerError = providerRevoked ? undefined : failure.providerCode;
      if (!providerRevoked) {
        context.logger.warn({ userId, providerCode: failure.providerCode }, 'provider revoke failed');
      }
    }
  }
  let removed: boolean;
  try {
    removed = await context.store.delete(userId);
  } finally {
    await context.sessionStore?.removeSession(userId);
    context.forget(userId);
  }
  context.events.emit('revoked', {
    userId,
    durationMs: context.clock.now() - startedAt,
    removed,
    providerRevoked,
  });
  return { userId, removed, providerRevoked, ...(providerError === undefined ? {} : { providerError }) };
}
