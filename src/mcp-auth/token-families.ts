/**
 * {@link TokenFamilies}: the MCP authorization server's own opaque tokens. An authorization code
 * starts a family; each refresh spends its refresh token exactly once (an atomic claim on every
 * backend) and issues a new pair in the same family. Only SHA-256 digests are stored.
 *
 * - Reuse of a spent refresh token within `reuseGraceMs` by the same client (a client that refreshes
 *   from several requests at once) gets a fresh pair; later reuse revokes the whole family.
 * - Revocation is a marker nothing ever clears, checked on every refresh and verification and once
 *   more after issuing, so a thief racing a revocation keeps nothing that works.
 * - The refresh lifetime slides with each rotation (bounded by an optional absolute maximum), and
 *   the user's session slides with it; every token dies when the user signs out (its session
 *   generation is gone).
 *
 * @module
 */
import { LRUCache } from 'lru-cache';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import { randomToken, sha256 } from '../secrets.js';
import type { SessionBackend } from '../session/backend.js';
import type { OAuth21SessionStore } from '../session/session-store.js';
import type { SessionInfo } from '../session/types.js';
import { isTokenShaped, RecentVerifications } from '../session/verified-tokens.js';
import { OAuthFailure } from './oauth-error.js';

/** Backend namespaces of the token families. */
const NS = {
  family: 'mcp-family',
  revoked: 'mcp-family-revoked',
  access: 'mcp-access',
  refresh: 'mcp-refresh',
  code: 'mcp-code',
  usedCode: 'mcp-code-used',
} as const;

/** What a family grants: to whom, which client, which scopes, for which resource. */
export interface Grant {
  clientId: string;
  userId: string;
  /** The user's session generation when the grant was made; a sign-out ends it. */
  generation: string;
  scopes: string[];
  /** The RFC 8707 resource, normalised. */
  resource: string;
}

interface FamilyRecord extends Grant {
  createdAt: number;
  /** With `maxRefreshTokenLifetimeMs`: when the family ends however active, epoch ms. */
  endsAt?: number;
}

interface TokenRecord extends Grant {
  familyId: string;
  expiresAt: number;
}

/** An authorization code's record (single use, short-lived). */
export interface CodeRecord extends Grant {
  redirectUri: string;
  codeChallenge: string;
  expiresAt: number;
}

/** A verified access token: who, which client, scopes, expiry. */
export interface VerifiedAccess {
  token: string;
  clientId: string;
  userId: string;
  scopes: readonly string[];
  /** Epoch ms. */
  expiresAt: number;
  resource: string;
}

/** The token response (RFC 6749 §5.1). */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token: string;
  scope?: string;
}

/** Lifetimes and policy of {@link TokenFamilies}. */
export interface TokenFamiliesOptions {
  backend: SessionBackend;
  sessionStore: OAuth21SessionStore;
  clock: Clock;
  logger: Logger;
  accessTokenTtlMs: number;
  refreshTokenTtlMs: number;
  maxRefreshTokenLifetimeMs: number | undefined;
  refreshReuseGraceMs: number;
  authorizationCodeTtlMs: number;
  /** In-process memory of verified access tokens (see the authorization server's option). */
  verifiedTokenCache?: { max: number; ttlMs: number } | false;
}

interface RememberedAccess {
  access: VerifiedAccess;
  familyId: string;
  generation: string;
  verifiedAt: number;
}

// Spent and expired refresh tokens are kept this long past their expiry, so a late presentation is
// recognised (reuse, or "expired") rather than answered as unknown.
const RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

/** See the module documentation. */
export class TokenFamilies {
  readonly #o: TokenFamiliesOptions;
  readonly #verified: RecentVerifications<RememberedAccess> | undefined;
  // Families revoked by this replica, for as long as a remembered verification could outlive them.
  readonly #revokedHere: LRUCache<string, true> | undefined;

  constructor(options: TokenFamiliesOptions) {
    this.#o = options;
    const cache = options.verifiedTokenCache;
    if (cache) {
      this.#verified = new RecentVerifications<RememberedAccess>(cache);
      this.#revokedHere = new LRUCache<string, true>({
        max: cache.max,
        ttl: cache.ttlMs,
        // Stryker disable next-line ArrowFunction: a remembered verification expires at the same ttlMs, so a marker outliving it is never consulted
        perf: { now: () => options.clock.now() },
      });
    }
  }

  // -------------------------------------------------------------------------------------------
  // Authorization codes
  // -------------------------------------------------------------------------------------------

  /** Issues a single-use authorization code for a grant. */
  async issueCode(grant: Omit<CodeRecord, 'expiresAt'>): Promise<string> {
    const code = randomToken();
    const record: CodeRecord = { ...grant, expiresAt: this.#o.clock.now() + this.#o.authorizationCodeTtlMs };
    // Kept a minute past its expiry, so a late exchange is told the code expired.
    await this.#o.backend.set(NS.code, sha256(code), record, {
      ttlMs: this.#o.authorizationCodeTtlMs + 60_000,
    });
    return code;
  }

  /** The PKCE challenge of a live code for this client, without spending it. */
  async challengeFor(clientId: string, code: string): Promise<string> {
    const record = await this.#o.backend.get<CodeRecord>(NS.code, sha256(code));
    if (!record || record.clientId !== clientId || record.expiresAt <= this.#o.clock.now()) {
      throw new OAuthFailure('invalid_grant', 'invalid authorization code');
    }
    return record.codeChallenge;
  }

  /**
   * Spends a code and starts a family. `check` runs on the code's record before anything is issued
   * (client, redirect URI, PKCE, resource); a replayed code revokes what its first exchange issued.
   */
  async exchangeCode(
    code: string,
    check: (record: CodeRecord) => void | Promise<void>,
  ): Promise<{ tokens: TokenResponse; grant: Grant }> {
    const codeHash = sha256(code);
    const record = await this.#o.backend.take<CodeRecord>(NS.code, codeHash);
    if (!record) {
      const used = await this.#o.backend.get<{ familyId: string; clientId: string; userId: string }>(
        NS.usedCode,
        codeHash,
      );
      if (used) {
        this.#o.logger.warn(
          { clientId: used.clientId, userId: used.userId },
          'SECURITY: authorization code replayed; revoking what it issued',
        );
        await this.revokeFamily(used.familyId);
      }
      throw new OAuthFailure('invalid_grant', 'invalid authorization code');
    }
    if (record.expiresAt <= this.#o.clock.now())
      throw new OAuthFailure('invalid_grant', 'the authorization code expired');
    await check(record);
    await this.#liveSession(record, undefined);
    const familyId = randomToken(16);
    const now = this.#o.clock.now();
    const grant: Grant = {
      clientId: record.clientId,
      userId: record.userId,
      generation: record.generation,
      scopes: record.scopes,
      resource: record.resource,
    };
    const family: FamilyRecord = {
      ...grant,
      createdAt: now,
      ...(this.#o.maxRefreshTokenLifetimeMs === undefined
        ? {}
        : { endsAt: now + this.#o.maxRefreshTokenLifetimeMs }),
    };
    await this.#o.backend.set(
      NS.usedCode,
      codeHash,
      { familyId, clientId: grant.clientId, userId: grant.userId },
      { ttlMs: this.#o.refreshTokenTtlMs },
    );
    return { tokens: await this.#issue(familyId, family, grant), grant };
  }

  // -------------------------------------------------------------------------------------------
  // Refresh
  // -------------------------------------------------------------------------------------------

  /**
   * Rotates a refresh token. The request is validated (client, scopes, resource) before the token is
   * spent, so a refused request leaves it usable.
   */
  async refresh(
    clientId: string,
    refreshToken: string,
    request: { scopes?: string[]; resource?: string },
  ): Promise<{ tokens: TokenResponse; grant: Grant }> {
    const tokenHash = sha256(refreshToken);
    const record = await this.#o.backend.get<TokenRecord>(NS.refresh, tokenHash);
    if (!record) throw new OAuthFailure('invalid_grant', 'invalid refresh token');
    const who = { clientId, userId: record.userId };
    if (record.clientId !== clientId) {
      this.#o.logger.warn(
        { ...who, ownerClientId: record.clientId },
        'SECURITY: a refresh token was presented by another client; revoking its family',
      );
      await this.revokeFamily(record.familyId);
      throw new OAuthFailure('invalid_grant', 'the refresh token was issued to another client');
    }
    if (request.resource !== undefined && request.resource !== record.resource) {
      throw new OAuthFailure('invalid_target', 'resource does not match the original grant');
    }
    const scopes = request.scopes !== undefined && request.scopes.length > 0 ? request.scopes : record.scopes;
    if (scopes.some((scope) => !record.scopes.includes(scope))) {
      throw new OAuthFailure('invalid_scope', 'a refresh may only narrow the granted scopes');
    }
    const now = this.#o.clock.now();
    if (await this.#isRevoked(record.familyId))
      throw new OAuthFailure('invalid_grant', 'the refresh token was revoked');
    if (record.expiresAt <= now)
      throw new OAuthFailure('invalid_grant', 'the refresh token expired; sign in again');
    const family = await this.#o.backend.get<FamilyRecord>(NS.family, record.familyId);
    if (!family) throw new OAuthFailure('invalid_grant', 'the refresh token was revoked');
    if ((family.endsAt ?? Number.POSITIVE_INFINITY) <= now) {
      throw new OAuthFailure(
        'invalid_grant',
        'the grant expired (its maximum lifetime passed); sign in again',
      );
    }
    await this.#liveSession(record, record.familyId);

    const claim = await this.#o.backend.claim<TokenRecord>(
      NS.refresh,
      tokenHash,
      String(now),
      Math.max(1, record.expiresAt - now) + RETENTION_MS,
    );
    if (!claim) throw new OAuthFailure('invalid_grant', 'invalid refresh token');
    if (!claim.first) {
      const firstUsedAt = Number(claim.firstMarker);
      if (!(now - firstUsedAt <= this.#o.refreshReuseGraceMs)) {
        this.#o.logger.warn(
          { ...who, secondsSinceFirstUse: Math.round((now - firstUsedAt) / 1000) },
          'SECURITY: refresh token reuse outside the grace window; revoking its whole family',
        );
        await this.revokeFamily(record.familyId);
        throw new OAuthFailure('invalid_grant', 'the refresh token was already used');
      }
      this.#o.logger.debug(
        who,
        'refresh token presented again within the grace window; issuing a fresh pair',
      );
    }
    const grant: Grant = {
      clientId,
      userId: record.userId,
      generation: record.generation,
      scopes,
      resource: record.resource,
    };
    const tokens = await this.#issue(record.familyId, family, grant);
    await this.#o.sessionStore.touchSession(record.userId);
    // A revocation that landed while this pair was issued must win: the pair is dead already
    // (verification checks the marker), and the caller must not get it.
    if (await this.#isRevoked(record.familyId))
      throw new OAuthFailure('invalid_grant', 'the refresh token was revoked');
    return { tokens, grant };
  }

  async #issue(familyId: string, family: FamilyRecord, grant: Grant): Promise<TokenResponse> {
    const now = this.#o.clock.now();
    const accessToken = `mcpat_${randomToken()}`;
    const refreshToken = `mcprt_${randomToken()}`;
    const refreshExpiresAt = Math.min(
      now + this.#o.refreshTokenTtlMs,
      family.endsAt ?? Number.POSITIVE_INFINITY,
    );
    const familyTtl = refreshExpiresAt - now + RETENTION_MS;
    await this.#o.backend.set(NS.family, familyId, family, { ttlMs: familyTtl });
    await this.#o.backend.set(
      NS.access,
      sha256(accessToken),
      { ...grant, familyId, expiresAt: now + this.#o.accessTokenTtlMs } satisfies TokenRecord,
      { ttlMs: this.#o.accessTokenTtlMs },
    );
    await this.#o.backend.set(
      NS.refresh,
      sha256(refreshToken),
      { ...grant, familyId, expiresAt: refreshExpiresAt } satisfies TokenRecord,
      { ttlMs: familyTtl },
    );
    return {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: Math.floor(this.#o.accessTokenTtlMs / 1000),
      refresh_token: refreshToken,
      ...(grant.scopes.length > 0 ? { scope: grant.scopes.join(' ') } : {}),
    };
  }

  /** The grant's user must still be signed in, in the same session generation. */
  async #liveSession(grant: Grant, familyId: string | undefined): Promise<SessionInfo> {
    const session = await this.#o.sessionStore.getSession(grant.userId);
    if (!session || session.generation !== grant.generation) {
      if (familyId !== undefined) await this.revokeFamily(familyId);
      throw new OAuthFailure('invalid_grant', 'the user signed out; sign in again');
    }
    return session;
  }

  async #isRevoked(familyId: string): Promise<boolean> {
    return (await this.#o.backend.get(NS.revoked, familyId)) !== undefined;
  }

  /** Revokes a family for good: a marker nothing clears, for as long as any of its tokens could live. */
  async revokeFamily(familyId: string): Promise<void> {
    const lifetime = this.#o.maxRefreshTokenLifetimeMs ?? this.#o.refreshTokenTtlMs;
    await this.#o.backend.set(NS.revoked, familyId, 1, { ttlMs: lifetime + RETENTION_MS });
    // Stryker disable next-line BooleanLiteral: only the key's presence is read (has)
    this.#revokedHere?.set(familyId, true);
  }

  // -------------------------------------------------------------------------------------------
  // Verification and revocation
  // -------------------------------------------------------------------------------------------

  /**
   * Verifies an access token; throws `invalid_token` for unknown, expired or revoked ones. `seen`
   * receives the user's live session that was read to decide it.
   */
  async verify(token: string, seen?: (session: SessionInfo) => void): Promise<VerifiedAccess> {
    if (!isTokenShaped(token)) throw new OAuthFailure('invalid_token', 'invalid access token');
    const now = this.#o.clock.now();
    const remembered = this.#verified?.recall(token, now);
    if (
      remembered !== undefined &&
      remembered.access.expiresAt > now &&
      // Stryker disable next-line OptionalChaining: a remembered entry exists only when the cache (and this map with it) does
      !this.#revokedHere?.has(remembered.familyId)
    ) {
      // Remembered: only the session, which a sign-out ends at once on every replica.
      const session = await this.#o.sessionStore.getSession(remembered.access.userId);
      if (session && session.generation === remembered.generation) {
        seen?.(session);
        return remembered.access;
      }
      // Stryker disable next-line OptionalChaining,CallExpression: forgetting frees the entry early; a kept one is refused the same way (its generation is gone) until it expires
      this.#verified?.forget(token);
      throw new OAuthFailure('invalid_token', 'the user signed out');
    }
    const record = await this.#o.backend.get<TokenRecord>(NS.access, sha256(token));
    if (!record) {
      this.#verified?.forget(token);
      throw new OAuthFailure('invalid_token', 'unknown or revoked access token');
    }
    if (record.expiresAt <= now) throw new OAuthFailure('invalid_token', 'the access token expired');
    const [revoked, session] = await Promise.all([
      this.#isRevoked(record.familyId),
      this.#o.sessionStore.getSession(record.userId),
    ]);
    if (revoked) throw new OAuthFailure('invalid_token', 'the access token was revoked');
    if (!session || session.generation !== record.generation) {
      throw new OAuthFailure('invalid_token', 'the user signed out');
    }
    seen?.(session);
    const access: VerifiedAccess = {
      token,
      clientId: record.clientId,
      userId: record.userId,
      scopes: record.scopes,
      expiresAt: record.expiresAt,
      resource: record.resource,
    };
    this.#verified?.remember(token, {
      access,
      familyId: record.familyId,
      generation: record.generation,
      verifiedAt: now,
    });
    return access;
  }

  /**
   * RFC 7009 revocation by a client. An access token: that token. A refresh token: its family.
   * Tokens of other clients and unknown tokens are ignored (the RFC asks for a 200 either way).
   * Resolves what was revoked.
   */
  async revoke(
    clientId: string,
    token: string,
  ): Promise<{ kind: 'access' | 'refresh'; userId: string } | undefined> {
    // Stryker disable next-line ConditionalExpression: only saves two reads; a malformed token's hash matches nothing either
    if (!isTokenShaped(token)) return undefined;
    const tokenHash = sha256(token);
    const access = await this.#o.backend.get<TokenRecord>(NS.access, tokenHash);
    if (access) {
      if (access.clientId !== clientId) return this.#foreign(clientId, access);
      await this.#o.backend.delete(NS.access, tokenHash);
      this.#verified?.forget(token);
      return { kind: 'access', userId: access.userId };
    }
    const refresh = await this.#o.backend.get<TokenRecord>(NS.refresh, tokenHash);
    if (!refresh) return undefined;
    if (refresh.clientId !== clientId) return this.#foreign(clientId, refresh);
    await this.revokeFamily(refresh.familyId);
    return { kind: 'refresh', userId: refresh.userId };
  }

  #foreign(clientId: string, record: TokenRecord): undefined {
    this.#o.logger.warn(
      { clientId, ownerClientId: record.clientId, userId: record.userId },
      'SECURITY: a client tried to revoke another client’s token; ignored',
    );
    return undefined;
  }
}
