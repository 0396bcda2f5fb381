/**
 * Shape checks for the two documents every store reads on every `get`: the credentials record and
 * the google_workspace_mcp JSON document. Hand-written rather than zod so that importing the package
 * root does not load a validation library (zod alone took longer to import than google-auth-library),
 * and so the per-read check allocates nothing beyond the copy it returns. Issues carry a path and a
 * code, never the offending value (it could be a token).
 *
 * @module
 */
// A type-only import: erased at runtime, so credentials.ts can import this module without a cycle.
import type { StoredCredentials } from '../stored-credentials.js';
import { normaliseUserId } from '../user-id.js';

/** What is wrong with one field: its dotted path (or `(root)`) and a code. */
export interface ShapeIssue {
  path: string;
  code: 'invalid_type' | 'too_small' | 'too_big' | 'invalid_value';
}

/** The outcome of a shape check: a validated copy, or the issues found. */
export type ShapeResult<T> = { ok: true; value: T } | { ok: false; issues: ShapeIssue[] };

type Fields = Record<string, unknown>;

/** An object literal (or null-prototype object): not an array, a class instance or a primitive. */
export function isPlainObject(value: unknown): value is Fields {
  // An array's prototype is Array.prototype, so the prototype check refuses it too.
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

class Checker {
  readonly issues: ShapeIssue[] = [];
  constructor(readonly input: Fields) {}

  fail(path: string, code: ShapeIssue['code']): undefined {
    this.issues.push({ path, code });
    return undefined;
  }

  /** A string of `min`..`max` characters; `optional` accepts undefined (and `nullable`, null). */
  string(
    key: string,
    { min = 0, max = Number.POSITIVE_INFINITY, optional = false, nullable = false } = {},
  ): string | null | undefined {
    const value = this.input[key];
    if (value === undefined && optional) return undefined;
    if (value === null && nullable) return null;
    if (typeof value !== 'string') return this.fail(key, 'invalid_type');
    if (value.length < min) return this.fail(key, 'too_small');
    if (value.length > max) return this.fail(key, 'too_big');
    return value;
  }

  stringArray(key: string, { nullable = false, optional = false } = {}): string[] | null | undefined {
    const value = this.input[key];
    if (value === undefined && optional) return undefined;
    if (value === null && nullable) return null;
    if (!Array.isArray(value)) return this.fail(key, 'invalid_type');
    for (let i = 0; i < value.length; i++) {
      if (typeof value[i] !== 'string') return this.fail(`${key}.${i}`, 'invalid_type');
    }
    return [...(value as string[])];
  }
}

/** Checks a {@link StoredCredentials}-shaped value; unknown keys are dropped, the user id normalised. */
export function checkStoredCredentials(value: unknown): ShapeResult<StoredCredentials> {
  if (!isPlainObject(value)) return { ok: false, issues: [{ path: '(root)', code: 'invalid_type' }] };
  const c = new Checker(value);
  let userId: string | undefined;
  if (typeof value.userId !== 'string') c.fail('userId', 'invalid_type');
  else {
    try {
      userId = normaliseUserId(value.userId);
    } catch {
      c.fail('userId', 'invalid_value');
    }
  }
  const subject = c.string('subject', { min: 1, max: 255, optional: true });
  const accessToken = c.string('accessToken');
  const refreshToken = c.string('refreshToken', { min: 1, optional: true });
  const expiresAt = value.expiresAt;
  if (expiresAt !== undefined) {
    if (!Number.isSafeInteger(expiresAt)) c.fail('expiresAt', 'invalid_type');
    else if ((expiresAt as number) < 0) c.fail('expiresAt', 'too_small');
  }
  const scopes = c.stringArray('scopes');
  const tokenType = c.string('tokenType', { min: 1 });
  const idToken = c.string('idToken', { min: 1, optional: true });
  const clientId = c.string('clientId', { min: 1, optional: true });
  const tokenUri = c.string('tokenUri', { min: 1, optional: true });
  const extra = value.extra;
  if (extra !== undefined && !isPlainObject(extra)) c.fail('extra', 'invalid_type');
  if (c.issues.length > 0) return { ok: false, issues: c.issues };

  // Keys in one fixed order, whatever order they came in: documents written from it are stable.
  const record = { userId: userId! } as StoredCredentials;
  if (subject != null) record.subject = subject;
  record.accessToken = accessToken!;
  if (refreshToken != null) record.refreshToken = refreshToken;
  if (expiresAt !== undefined) record.expiresAt = expiresAt as number;
  record.scopes = scopes!;
  record.tokenType = tokenType!;
  if (idToken != null) record.idToken = idToken;
  if (clientId != null) record.clientId = clientId;
  if (tokenUri != null) record.tokenUri = tokenUri;
  if (extra !== undefined) record.extra = { ...(extra as Fields) };
  return { ok: true, value: record };
}

/** The google_workspace_mcp document: the interpreted keys (each may be null or absent), and any others. */
export interface PythonCredentialsDocument {
  token?: string | null;
  refresh_token?: string | null;
  token_uri?: string | null;
  client_id?: string | null;
  client_secret?: unknown;
  scopes?: string[] | null;
  expiry?: string | null;
  user_email?: string | null;
  id_token?: string | null;
  token_type?: string | null;
  subject?: string | null;
  [key: string]: unknown;
}

const NULLABLE_STRING_KEYS = [
  'token',
  'refresh_token',
  'token_uri',
  'client_id',
  'expiry',
  'user_email',
  'id_token',
  'token_type',
  'subject',
] as const;

/** Checks a google_workspace_mcp document; unknown keys are kept. */
export function checkPythonDocument(value: unknown): ShapeResult<PythonCredentialsDocument> {
  if (!isPlainObject(value)) return { ok: false, issues: [{ path: '(root)', code: 'invalid_type' }] };
  const c = new Checker(value);
  const document: PythonCredentialsDocument = { ...value };
  for (const key of NULLABLE_STRING_KEYS) c.string(key, { optional: true, nullable: true });
  const scopes = c.stringArray('scopes', { optional: true, nullable: true });
  if (c.issues.length > 0) return { ok: false, issues: c.issues };
  // Stryker disable next-line ConditionalExpression: document is a copy of value, whose scopes are these already when null or absent
  if (scopes != null) document.scopes = scopes;
  return { ok: true, value: document };
}

/** `path: code` for the first three issues: enough to find the field, never its value. */
export function describeShapeIssues(issues: readonly ShapeIssue[]): string {
  return issues
    .slice(0, 3)
    .map((issue) => `${issue.path}: ${issue.code}`)
    .join('; ');
}

/**
 * A check wrapped as a schema: `safeParse` (zod's calling convention) and the Standard Schema v1
 * interface (`~standard`), so it plugs into libraries that accept either.
 */
export interface ShapeSchema<T> {
  /** Checks `value`: a validated copy, or every issue found (paths, never values). */
  safeParse(value: unknown): { success: true; data: T } | { success: false; issues: ShapeIssue[] };
  readonly '~standard': {
    readonly version: 1;
    readonly vendor: 'mcp-oauth-credentials';
    /** The Standard Schema v1 check: `{ value }` or `{ issues }`. */
    validate(value: unknown): { value: T } | { issues: Array<{ message: string; path: string[] }> };
  };
}

/** Wraps a shape check as a {@link ShapeSchema}. */
export function shapeSchema<T>(check: (value: unknown) => ShapeResult<T>): ShapeSchema<T> {
  return {
    safeParse(value) {
      const result = check(value);
      return result.ok ? { success: true, data: result.value } : { success: false, issues: result.issues };
    },
    '~standard': {
      version: 1,
      vendor: 'mcp-oauth-credentials',
      validate(value) {
        const result = check(value);
        if (result.ok) return { value: result.value };
        return {
          issues: result.issues.map((issue) => ({
            message: issue.code,
            path: issue.path === '(root)' ? [] : issue.path.split('.'),
          })),
        };
      },
    },
  };
}
