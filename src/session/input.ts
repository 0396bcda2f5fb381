/**
 * Checks of what callers hand the session store: ids, OAuth states, session fields, lifetimes.
 * Each refusal is an `InvalidInputError` that names the field, never its value.
 *
 * @module
 */
import { InvalidInputError } from '../errors.js';
import type { StoreSessionInput } from './types.js';

export const MAX_ID_LENGTH = 256;
const PRINTABLE_ID = /^[\x21-\x7e]+$/;

/** A copy of the session fields of `input`, checked. */
export function sessionFields(input: StoreSessionInput): StoreSessionInput {
  const fields: StoreSessionInput = {};
  if (input.scopes !== undefined) {
    if (!Array.isArray(input.scopes) || input.scopes.some((scope) => typeof scope !== 'string')) {
      throw new InvalidInputError('scopes must be an array of strings');
    }
    fields.scopes = [...input.scopes];
  }
  if (input.expiresAt !== undefined) fields.expiresAt = input.expiresAt;
  if (input.issuer !== undefined) fields.issuer = input.issuer;
  if (input.clientId !== undefined) fields.clientId = input.clientId;
  if (input.mcpSessionId !== undefined) {
    checkId(input.mcpSessionId, 'MCP session id');
    fields.mcpSessionId = input.mcpSessionId;
  }
  return fields;
}

/** `value` rounded up, if a positive number of milliseconds; else `InvalidInputError` naming it. */
export function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0)
    throw new InvalidInputError(`${name} must be a positive number of milliseconds`);
  return Math.ceil(value);
}

/** Whether `value` is an id the store accepts as a key (printable ASCII, at most 256). */
export function isId(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_ID_LENGTH && PRINTABLE_ID.test(value);
}

/** Throws `InvalidInputError` unless {@link isId}. */
export function checkId(value: unknown, what: string): asserts value is string {
  if (!isId(value))
    throw new InvalidInputError(`${what} must be 1 to ${MAX_ID_LENGTH} printable ASCII characters`);
}

/** Throws `InvalidInputError` unless `state` is 16 to 256 printable ASCII characters. */
export function checkState(state: unknown): asserts state is string {
  if (
    typeof state !== 'string' ||
    state.length < 16 ||
    state.length > MAX_ID_LENGTH ||
    !PRINTABLE_ID.test(state)
  ) {
    throw new InvalidInputError(
      'OAuth state must be 16 to 256 printable ASCII characters (use randomToken())',
    );
  }
}
