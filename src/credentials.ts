/**
 * The credentials record ({@link StoredCredentials}), its schema, and the two codecs every store and
 * the refresh manager use:
 *
 * - google-auth-library's `Credentials` (`access_token`, `refresh_token`, `expiry_date` in ms,
 *   space-separated `scope`, `token_type`, `id_token`);
 * - the JSON document google_workspace_mcp writes (`token`, `refresh_token`, `token_uri`, `client_id`,
 *   `client_secret`, `scopes`, `expiry` as naive UTC ISO-8601, optionally `user_email`, `id_token`).
 *
 * @module
 */
import { CorruptCredentialsError } from './errors.js';
import {
  checkPythonDocument,
  checkStoredCredentials,
  describeShapeIssues,
  type PythonCredentialsDocument,
  type ShapeSchema,
  shapeSchema,
} from './internal/record-shape.js';
import type { StoredCredentials } from './stored-credentials.js';
import { normaliseUserId } from './user-id.js';

export type { StoredCredentials, VersionedCredentials } from './stored-credentials.js';

/**
 * The check every record read from storage passes: `safeParse(value)` or, for libraries that take
 * one, the Standard Schema v1 interface. Unknown keys are dropped and the user id normalised.
 */
export const storedCredentialsSchema: ShapeSchema<StoredCredentials> = shapeSchema(checkStoredCredentials);

/**
 * Validates an unknown value as {@link StoredCredentials}; throws {@link CorruptCredentialsError}
 * naming the user (never a value) when it does not fit.
 */
export function parseStoredCredentials(value: unknown, userId: string): StoredCredentials {
  const result = checkStoredCredentials(value);
  if (!result.ok) {
    throw new CorruptCredentialsError(
      `stored credentials for ${userId} do not match the schema (${describeShapeIssues(result.issues)})`,
      { userId },
    );
  }
  return result.value;
}

/** A summary that is safe to log or print: no tokens. */
export interface CredentialsSummary {
  userId: string;
  scopes: string[];
  /** When the access token expires, epoch milliseconds; `undefined` when unknown. */
  expiresAt: number | undefined;
  hasAccessToken: boolean;
  hasRefreshToken: boolean;
  clientId: string | undefined;
}

/** Returns what can be shown about a record without showing any secret. */
export function describeCredentials(credentials: StoredCredentials): CredentialsSummary {
  return {
    userId: credentials.userId,
    scopes: [...credentials.scopes],
    expiresAt: credentials.expiresAt,
    hasAccessToken: credentials.accessToken.length > 0,
    hasRefreshToken: credentials.refreshToken !== undefined,
    clientId: credentials.clientId,
  };
}

// ---------------------------------------------------------------------------------------------
// google-auth-library Credentials
// ---------------------------------------------------------------------------------------------

/**
 * The token shape google-auth-library uses (`Credentials` in its typings), declared here so the
 * package root does not import google-auth-library.
 */
export interface GoogleTokens {
  access_token?: string | null;
  refresh_token?: string | null;
  expiry_date?: number | null;
  scope?: string;
  token_type?: string | null;
  id_token?: string | null;
}

/** Converts a record to google-auth-library `Credentials`. */
export function toGoogleTokens(credentials: StoredCredentials): GoogleTokens {
  const tokens: GoogleTokens = {
    access_token: credentials.accessToken === '' ? null : credentials.accessToken,
    token_type: credentials.tokenType,
    scope: credentials.scopes.join(' '),
  };
  if (credentials.refreshToken !== undefined) tokens.refresh_token = credentials.refreshToken;
  if (credentials.expiresAt !== undefined) tokens.expiry_date = credentials.expiresAt;
  if (credentials.idToken !== undefined) tokens.id_token = credentials.idToken;
  return tokens;
}

/**
 * Converts google-auth-library `Credentials` to a record. Fields the tokens do not carry (client id,
 * token URI, extra document fields, and the refresh token or scopes when absent) come from `base`.
 */
export function fromGoogleTokens(
  userId: string,
  tokens: GoogleTokens,
  base?: Omit<StoredCredentials, 'userId'>,
): StoredCredentials {
  const record: StoredCredentials = {
    ...base,
    userId: normaliseUserId(userId),
    accessToken: tokens.access_token ?? '',
    scopes: tokens.scope === undefined ? [...(base?.scopes ?? [])] : splitScopes(tokens.scope),
    tokenType: tokens.token_type ?? base?.tokenType ?? 'Bearer',
  };
  if (tokens.refresh_token) record.refreshToken = tokens.refresh_token;
  if (typeof tokens.expiry_date === 'number') record.expiresAt = Math.trunc(tokens.expiry_date);
  else delete record.expiresAt;
  if (tokens.id_token) record.idToken = tokens.id_token;
  return record;
}

/**
 * Merges a provider's refresh response into the stored record: the access token, expiry and (when
 * present) scopes and id_token are replaced; the refresh token is replaced only when the provider
 * rotated it and kept otherwise; client id, token URI and extra fields are kept.
 */
export function mergeRefreshedTokens(previous: StoredCredentials, tokens: GoogleTokens): StoredCredentials {
  const merged: StoredCredentials = {
    ...previous,
    accessToken: tokens.access_token ?? '',
    scopes: tokens.scope ? splitScopes(tokens.scope) : [...previous.scopes],
    tokenType: tokens.token_type ?? previous.tokenType,
  };
  if (tokens.refresh_token) merged.refreshToken = tokens.refresh_token;
  if (typeof tokens.expiry_date === 'number') merged.expiresAt = Math.trunc(tokens.expiry_date);
  else delete merged.expiresAt;
  if (tokens.id_token) merged.idToken = tokens.id_token;
  return merged;
}

/**
 * The Google account a record belongs to: its `subject`, else the `sub` of its stored id_token (read,
 * not verified: it is this store's own data, as trusted as the refresh token next to it), else
 * `undefined` (a record written before subjects were kept).
 */
export function subjectOf(credentials: StoredCredentials): string | undefined {
  if (credentials.subject !== undefined) return credentials.subject;
  const payload = credentials.idToken?.split('.')[1];
  // Stryker disable next-line ConditionalExpression: without it Buffer.from(undefined) throws inside the try below, which answers undefined as well
  if (payload === undefined) return undefined;
  try {
    const sub = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { sub?: unknown }).sub;
    return typeof sub === 'string' && sub.length > 0 ? sub : undefined;
  } catch {
    // Not a JWT payload: no subject.
  }
  return undefined;
}

/** Splits a space-separated OAuth `scope` string, dropping empties and duplicates. */
export function splitScopes(scope: string): string[] {
  // Stryker disable next-line Regex: splitting on single whitespace leaves empty items, which the filter drops
  return [...new Set(scope.split(/\s+/).filter((item) => item.length > 0))];
}

// ---------------------------------------------------------------------------------------------
// google_workspace_mcp JSON document
// ---------------------------------------------------------------------------------------------

/** The google_workspace_mcp document check, as a schema (see {@link storedCredentialsSchema}). */
export const pythonCredentialsDocumentSchema: ShapeSchema<PythonCredentialsDocument> =
  shapeSchema(checkPythonDocument);

export type { PythonCredentialsDocument, ShapeIssue, ShapeSchema } from './internal/record-shape.js';

/**
 * A per-write random value some stores add to each document (S3 ETags are content hashes, so this is
 * what makes every write produce a new version). It carries no meaning and is dropped on decode.
 */
export const DOCUMENT_REVISION_KEY = 'mcp_revision';

const INTERPRETED_KEYS = new Set([
  DOCUMENT_REVISION_KEY,
  'token',
  'refresh_token',
  'token_uri',
  'client_id',
  'scopes',
  'expiry',
  'user_email',
  'id_token',
  'token_type',
  'subject',
]);

// YYYY-MM-DD[T ]HH:MM:SS[.f{1,9}][Z|±HH:MM|±HHMM]
const ISO_DATETIME =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:Z|([+-])(\d{2}):?(\d{2}))?$/;

/**
 * Parses an `expiry` as google_workspace_mcp writes it (naive UTC, `datetime.isoformat()`), also
 * accepting a `Z` or numeric offset. Returns epoch ms (sub-millisecond digits truncated) or
 * `undefined` when the text is not such a date.
 */
export function parsePythonExpiry(text: string): number | undefined {
  const match = ISO_DATETIME.exec(text);
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second, fraction, sign, offsetHours, offsetMinutes] = match;
  const ms = fraction === undefined ? 0 : Number(fraction.padEnd(3, '0').slice(0, 3));
  let epoch = Date.UTC(
    Number(year),
    Number(month) - 1,
    Number(day),
    Number(hour),
    Number(minute),
    Number(second),
    ms,
  );
  // No offset, or Z: UTC already.
  if (sign !== undefined) {
    const offsetMs = (Number(offsetHours) * 60 + Number(offsetMinutes)) * 60_000;
    epoch -= sign === '-' ? -offsetMs : offsetMs;
  }
  // Digits only (the pattern above), so the epoch is always finite; before 1970 is refused.
  if (epoch < 0) return undefined;
  const check = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)));
  // Stryker disable next-line ConditionalExpression: a day outside its month always moves the month as well, so each half alone refuses it
  if (check.getUTCDate() !== Number(day) || check.getUTCMonth() !== Number(month) - 1) return undefined;
  return epoch;
}

/**
 * Formats epoch ms the way Python's `datetime.isoformat()` renders a naive UTC datetime:
 * `2026-05-12T19:34:27` or, with a sub-second part, `2026-05-12T19:34:27.123000`.
 */
export function formatPythonExpiry(epochMs: number): string {
  const iso = new Date(epochMs).toISOString(); // 2026-05-12T19:34:27.123Z
  const seconds = iso.slice(0, 19);
  const ms = epochMs % 1000;
  return ms === 0 ? seconds : `${seconds}.${String(ms).padStart(3, '0')}000`;
}

/**
 * Decodes a google_workspace_mcp document into a record. `userId` is the user the document was
 * stored under; a `user_email` naming someone else makes the document corrupt (a file copied onto
 * another user's name). Unknown keys are kept in `extra`; so is the original `expiry` text when it
 * carries more precision than milliseconds, so re-encoding reproduces it.
 */
export function fromPythonDocument(document: unknown, userId: string): StoredCredentials {
  const parsed = checkPythonDocument(document);
  if (!parsed.ok) {
    throw new CorruptCredentialsError(
      `stored credentials for ${userId} are not a google_workspace_mcp credentials document (${describeShapeIssues(parsed.issues)})`,
      { userId },
    );
  }
  const doc = parsed.value;
  if (doc.user_email) {
    let owner: string | undefined;
    try {
      owner = normaliseUserId(doc.user_email);
    } catch {
      // Not a user id: it names nobody, so not this user either.
    }
    if (owner !== userId) {
      throw new CorruptCredentialsError(`stored credentials for ${userId} name a different user_email`, {
        userId,
      });
    }
  }
  const extra: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(doc)) {
    if (INTERPRETED_KEYS.has(key)) continue;
    // toPythonDocument always writes client_secret; a null one carries nothing to keep.
    if (key === 'client_secret' && value === null) continue;
    extra[key] = value;
  }
  const record: StoredCredentials = {
    userId,
    accessToken: doc.token ?? '',
    scopes: doc.scopes ? [...doc.scopes] : [],
    tokenType: doc.token_type || 'Bearer',
  };
  if (doc.refresh_token) record.refreshToken = doc.refresh_token;
  if (doc.expiry) {
    const expiresAt = parsePythonExpiry(doc.expiry);
    if (expiresAt === undefined) {
      throw new CorruptCredentialsError(`stored credentials for ${userId} have an unreadable expiry`, {
        userId,
      });
    }
    record.expiresAt = expiresAt;
    if (formatPythonExpiry(expiresAt) !== doc.expiry) extra.expiry = doc.expiry;
  }
  // Stryker disable next-line ConditionalExpression: an undefined field is dropped by parseStoredCredentials below
  if (doc.id_token) record.idToken = doc.id_token;
  // Stryker disable next-line ConditionalExpression: as above
  if (doc.subject) record.subject = doc.subject;
  if (doc.client_id) record.clientId = doc.client_id;
  if (doc.token_uri) record.tokenUri = doc.token_uri;
  if (Object.keys(extra).length > 0) record.extra = extra;
  return parseStoredCredentials(record, userId);
}

/**
 * Encodes a record as a google_workspace_mcp document that the Python server loads: the seven keys
 * it reads (`token`, `refresh_token`, `token_uri`, `client_id`, `client_secret`, `scopes`, `expiry`),
 * then `user_email`, `id_token` (when present), `token_type` and every key kept in `extra`.
 */
export function toPythonDocument(credentials: StoredCredentials): Record<string, unknown> {
  const { expiry: originalExpiry, client_secret: clientSecret, ...rest } = credentials.extra ?? {};
  let expiry: string | null = null;
  if (credentials.expiresAt !== undefined) {
    expiry =
      // Stryker disable next-line ConditionalExpression: parsePythonExpiry reads no number as an expiry either; the type test keeps the types honest
      typeof originalExpiry === 'string' && parsePythonExpiry(originalExpiry) === credentials.expiresAt
        ? originalExpiry
        : formatPythonExpiry(credentials.expiresAt);
  }
  const document: Record<string, unknown> = {
    token: credentials.accessToken === '' ? null : credentials.accessToken,
    refresh_token: credentials.refreshToken ?? null,
    token_uri: credentials.tokenUri ?? null,
    client_id: credentials.clientId ?? null,
    client_secret: clientSecret ?? null,
    scopes: [...credentials.scopes],
    expiry,
    user_email: credentials.userId,
  };
  if (credentials.idToken !== undefined) document.id_token = credentials.idToken;
  document.token_type = credentials.tokenType;
  if (credentials.subject !== undefined) document.subject = credentials.subject;
  for (const [key, value] of Object.entries(rest)) {
    if (!(key in document)) document[key] = value;
  }
  return document;
}
