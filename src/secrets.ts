/**
 * Small helpers for the secrets this package handles: random tokens, SHA-256 digests for storage
 * keys, PKCE pairs and constant-time comparison.
 *
 * @module
 */
import { createHash, hash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A random URL-safe string carrying `bytes` bytes of entropy (default 32, i.e. 256 bits). */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/**
 * SHA-256 of a UTF-8 string, base64url-encoded: how secrets become storage keys. Uses the one-shot
 * `crypto.hash`, about twice as fast as `createHash` for short inputs (this runs on every request).
 */
export function sha256(value: string): string {
  return hash('sha256', value, 'base64url');
}

/** Compares two secrets in time independent of their contents (both are hashed to equal length first). */
export function secretsEqual(a: string, b: string): boolean {
  return timingSafeEqual(hash('sha256', a, 'buffer'), hash('sha256', b, 'buffer'));
}

/** A PKCE pair (RFC 7636): a 43-character verifier and its S256 challenge. */
export interface PkcePair {
  codeVerifier: string;
  codeChallenge: string;
  codeChallengeMethod: 'S256';
}

/** Creates a PKCE verifier and its S256 challenge. */
export function createPkcePair(): PkcePair {
  const codeVerifier = randomToken(32);
  return { codeVerifier, codeChallenge: pkceChallenge(codeVerifier), codeChallengeMethod: 'S256' };
}

/** The S256 challenge of a PKCE verifier. */
export function pkceChallenge(codeVerifier: string): string {
  return createHash('sha256').update(codeVerifier, 'ascii').digest('base64url');
}

const PKCE_VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

/** True when `value` is a syntactically valid PKCE code verifier. */
export function isPkceVerifier(value: unknown): value is string {
  return typeof value === 'string' && PKCE_VERIFIER.test(value);
}
