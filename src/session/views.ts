/**
 * The views {@link OAuth21SessionStore} hands out of its records (`AuthInfo`, `SessionInfo`,
 * `ValidatedAccess`), and how records are frozen so an in-process backend can keep them as given.
 *
 * @module
 */
import type { AuthInfo } from '../auth-info.js';
import { deepFreeze } from '../internal/freeze.js';
import type { SharedValues } from '../internal/shared-values.js';
import type { BindingRecord, SessionRecord, TokenRecord } from './records.js';
import type { SessionInfo, ValidatedAccess } from './types.js';

/** The SDK's view of a verified token; frozen, so one object can answer every request with that token. */
export function toAuthInfo(token: string, record: TokenRecord): AuthInfo {
  const info: AuthInfo = {
    token,
    clientId: record.clientId,
    scopes: frozenCopy(record.scopes),
    expiresAt: Math.floor(record.expiresAt / 1000),
    extra: Object.freeze({ userId: record.userId }),
  };
  if (record.resource !== undefined) info.resource = new URL(record.resource);
  return Object.freeze(info);
}

/**
 * An allowed access, built per request: one small object whose `session` view is made only when
 * read (the tool helper never reads it), so nothing per user is kept for it.
 */
export class AccessView implements ValidatedAccess {
  readonly userId: string;
  readonly via: ValidatedAccess['via'];
  readonly #record: SessionRecord;
  #session: SessionInfo | undefined;

  constructor(record: SessionRecord, via: ValidatedAccess['via']) {
    this.userId = record.userId;
    this.via = via;
    this.#record = record;
  }

  get session(): SessionInfo {
    this.#session ??= toSessionInfo(this.#record);
    return this.#session;
  }

  /** What `JSON.stringify` shows: the session too, although it is built only when read. */
  toJSON(): ValidatedAccess {
    return { userId: this.userId, via: this.via, session: this.session };
  }
}

export function toValidatedAccess(session: SessionRecord, via: ValidatedAccess['via']): ValidatedAccess {
  return new AccessView(session, via);
}

// The record behind a view getSession handed out (shared backends), so a session read by another
// verifier can be carried through its request without trusting an object that only looks like one.
export const recordOfInfo = new WeakMap<SessionInfo, SessionRecord>();

export function toSessionInfo(record: SessionRecord): SessionInfo {
  const info: SessionInfo = {
    userId: record.userId,
    scopes: frozenCopy(record.scopes),
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    generation: record.epoch,
  };
  if (record.expiresAt !== undefined) info.expiresAt = record.expiresAt;
  if (record.issuer !== undefined) info.issuer = record.issuer;
  if (record.clientId !== undefined) info.clientId = record.clientId;
  if (record.mcpSessionId !== undefined) info.mcpSessionId = record.mcpSessionId;
  return Object.freeze(info);
}

/**
 * A deep-frozen copy of `record` holding exactly its fields (a spread leaves slack), sharing what
 * sessions have in common (the scope set, issuer and client id) through `shared`: an in-process
 * backend keeps it as is, so each signed-in user does not carry their own copy of those strings.
 */
export function compactSession(record: SessionRecord, shared: SharedValues): SessionRecord {
  const copy = structuredClone(record);
  copy.scopes = shared.scopes(copy.scopes);
  // Stryker disable next-line ConditionalExpression: skipping the sharing is not observable (strings compare by value); it costs memory only, which the benchmark measures
  if (copy.issuer !== undefined) copy.issuer = shared.text(copy.issuer);
  // Stryker disable next-line ConditionalExpression: as above
  if (copy.clientId !== undefined) copy.clientId = shared.text(copy.clientId);
  return deepFreeze(copy);
}

/** `values` itself when it is frozen already (records of an in-process backend are), else a frozen copy. */
export function frozenCopy(values: readonly string[]): string[] {
  return (Object.isFrozen(values) ? values : Object.freeze([...values])) as string[];
}

/**
 * A token record parsed from a shared backend, its scope list and client id shared through `shared`:
 * remembered as is, every active user would hold a copy of the same few values. A frozen
 * (in-process) record shares them already and is returned as is.
 */
export function sharingValues(record: TokenRecord, shared: SharedValues): TokenRecord {
  // Stryker disable next-line ConditionalExpression: a frozen in-process record shares its values already; copying it again costs memory only
  if (Object.isFrozen(record)) return record;
  return { ...record, scopes: shared.scopes([...record.scopes]), clientId: shared.text(record.clientId) };
}

/**
 * A binding read from a shared backend, as remembered: its three fields only (a record written by an
 * older version may carry more), holding the user id string of the request's token when it is the
 * same user, so an active user's id is kept once, not once per remembered read.
 */
export function compactBinding(binding: BindingRecord, verified: AuthInfo | undefined): BindingRecord {
  // Stryker disable next-line ConditionalExpression: either way the same three values are remembered; only memory differs
  if (Object.isFrozen(binding)) return binding;
  // Stryker disable next-line OptionalChaining: an AuthInfo this store made always has extra
  const tokenUser = verified?.extra?.userId;
  // Stryker disable next-line ConditionalExpression,EqualityOperator: the same user id either way (strings compare by value); only memory differs, which the benchmark measures
  const userId = tokenUser === binding.userId ? tokenUser : binding.userId;
  return { userId, epoch: binding.epoch, liveUntil: binding.liveUntil };
}
