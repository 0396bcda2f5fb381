/**
 * The records {@link OAuth21SessionStore} keeps in its backend. Internal: none of them leaves the
 * package; the store hands out views of them (`SessionInfo`, `AuthInfo`, `ValidatedAccess`).
 *
 * @module
 */
import type { AuthInfo } from '../auth-info.js';
import type { OAuthStateData, SessionInfo } from './types.js';

/** What the backend holds for a session: the public view plus bookkeeping that never leaves the store. */
export interface SessionRecord extends Omit<SessionInfo, 'generation'> {
  // Checked against the injected clock, so expiry does not depend on the backend's own clock.
  liveUntil: number;
  // Changes when a session is removed and created again; tokens and bindings of an older epoch die.
  epoch: string;
}

/** An MCP session bound to a user's session (by its epoch). */
export interface BindingRecord {
  userId: string;
  epoch: string;
  liveUntil: number;
}

/** An opaque bearer token, kept under its SHA-256. */
export interface TokenRecord {
  userId: string;
  epoch: string;
  scopes: string[];
  clientId: string;
  resource?: string;
  issuedAt: number;
  expiresAt: number;
}

// A remembered verification: the AuthInfo handed out, and what deciding the next one needs.
export interface VerifiedToken {
  info: AuthInfo;
  epoch: string;
  expiresAt: number;
  verifiedAt: number;
}

/** A pending OAuth state. */
export interface StateRecord extends OAuthStateData {
  // Binds the state to the browser session that started the flow; never handed back.
  sessionIdHash?: string;
}
