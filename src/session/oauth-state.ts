/**
 * Single-use OAuth `state` for {@link OAuth21SessionStore}: stored under its SHA-256 with the flow's
 * PKCE verifier, consumed exactly once across replicas (the backend's atomic `take`).
 *
 * @module
 */
import type { Clock } from '../clock.js';
import { InvalidInputError } from '../errors.js';
import type { Logger } from '../logger.js';
import { isPkceVerifier, secretsEqual, sha256 } from '../secrets.js';
import type { SessionBackend } from './backend.js';
import { checkId, checkState, MAX_ID_LENGTH, positive } from './input.js';
import type { StateRecord } from './records.js';
import type { OAuthStateData, StoreOAuthStateInput } from './types.js';

/** The backend namespace of pending states. */
export const STATE_NAMESPACE = 'state';

/** What storing and consuming a state needs from the session store. */
export interface OAuthStateContext {
  backend: SessionBackend;
  clock: Clock;
  logger: Logger;
  /** The default lifetime of a state, ms. */
  ttlMs: number;
}

/** See `OAuth21SessionStore.storeOAuthState`. */
export async function storeOAuthState(
  context: OAuthStateContext,
  state: string,
  input: StoreOAuthStateInput,
): Promise<void> {
  checkState(state);
  if (!isPkceVerifier(input.codeVerifier)) {
    throw new InvalidInputError('codeVerifier must be 43 to 128 characters of [A-Za-z0-9-._~]');
  }
  if (input.sessionId !== undefined) checkId(input.sessionId, 'session id');
  const ttlMs = positive(input.ttlMs ?? context.ttlMs, 'ttlMs');
  const now = context.clock.now();
  const record: StateRecord = {
    codeVerifier: input.codeVerifier,
    createdAt: now,
    expiresAt: now + ttlMs,
    ...(input.sessionId === undefined ? {} : { sessionIdHash: sha256(input.sessionId) }),
    ...(input.redirectUri === undefined ? {} : { redirectUri: input.redirectUri }),
    ...(input.returnTo === undefined ? {} : { returnTo: input.returnTo }),
    ...(input.scopes === undefined ? {} : { scopes: [...input.scopes] }),
    ...(input.loginHint === undefined ? {} : { loginHint: input.loginHint }),
  };
  if (!(await context.backend.set(STATE_NAMESPACE, sha256(state), record, { ttlMs, onlyIfAbsent: true }))) {
    throw new InvalidInputError('this OAuth state is already pending; generate a new one');
  }
}

/** See `OAuth21SessionStore.consumeOAuthState`. */
export async function consumeOAuthState(
  context: OAuthStateContext,
  state: string,
  sessionId?: string,
): Promise<OAuthStateData> {
  if (typeof state !== 'string' || state.length < 16 || state.length > MAX_ID_LENGTH) {
    throw new InvalidInputError('unknown, expired or already used OAuth state');
  }
  const record = await context.backend.take<StateRecord>(STATE_NAMESPACE, sha256(state));
  if (!record) {
    context.logger.warn({}, 'SECURITY: OAuth callback with an unknown, expired or already used state');
    throw new InvalidInputError('unknown, expired or already used OAuth state');
  }
  if (record.expiresAt <= context.clock.now()) {
    throw new InvalidInputError('OAuth state expired; start the authorization again');
  }
  if (
    record.sessionIdHash !== undefined &&
    (sessionId === undefined || !secretsEqual(record.sessionIdHash, sha256(sessionId)))
  ) {
    context.logger.warn(
      {},
      'SECURITY: OAuth state presented by a different session than the one that started it',
    );
    throw new InvalidInputError('OAuth state does not belong to this session');
  }
  const { sessionIdHash: _hidden, ...data } = record;
  return structuredClone(data) as OAuthStateData;
}
