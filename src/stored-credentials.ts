/**
 * The record every store persists ({@link StoredCredentials}) and the versioned form a store reads
 * ({@link VersionedCredentials}). Alone in this file so the shape check can name them without
 * importing the codecs that use it.
 *
 * @module
 */

/**
 * One user's OAuth credentials, the single internal shape every store persists.
 *
 * Times are epoch milliseconds. An empty `accessToken` means "no access token yet" (a refresh is
 * needed); a missing `expiresAt` means "expiry unknown" and is treated as expired.
 */
export interface StoredCredentials {
  /** The Google account email, lower case (see `normaliseUserId`). */
  userId: string;
  /**
   * Google's stable account id (the id_token's `sub`), when known. An email can move to another
   * Google account; the subject cannot, so a sign-in whose `sub` differs never inherits this grant.
   */
  subject?: string;
  /** The OAuth access token; `''` when there is none. */
  accessToken: string;
  /** The long-lived refresh token, when the grant included offline access. */
  refreshToken?: string;
  /** When the access token expires, epoch milliseconds. */
  expiresAt?: number;
  /** Scopes actually granted. */
  scopes: string[];
  /** Token type, normally `Bearer`. */
  tokenType: string;
  /** The OpenID Connect id_token from the last code exchange or refresh, if any. */
  idToken?: string;
  /** The OAuth client the tokens were issued to. */
  clientId?: string;
  /** The token endpoint the refresh token belongs to. */
  tokenUri?: string;
  /**
   * Fields of the stored document this package does not interpret (for example `client_secret` or
   * `universe_domain` in a google_workspace_mcp file). Kept verbatim so round trips lose nothing.
   */
  extra?: Record<string, unknown>;
}

/** A record as read from a store, with the opaque version a compare-and-swap write needs. */
export interface VersionedCredentials {
  credentials: StoredCredentials;
  /** Opaque, changes on every write (an ETag for S3). */
  version: string;
}
