import { describe, expect, it } from 'vitest';
import { createPkcePair, pkceChallenge, randomToken } from '../src/index.js';
import { isPkceVerifier, secretsEqual, sha256 } from '../src/secrets.js';

describe('secrets helpers', () => {
  it('computes the RFC 7636 appendix B S256 challenge', () => {
    expect(pkceChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe(
      'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    );
  });

  it('creates valid PKCE pairs and random tokens of the asked entropy', () => {
    const pair = createPkcePair();
    expect(isPkceVerifier(pair.codeVerifier)).toBe(true);
    expect(pair.codeChallenge).toBe(pkceChallenge(pair.codeVerifier));
    expect(randomToken()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(randomToken(16)).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(new Set(Array.from({ length: 1000 }, () => randomToken())).size).toBe(1000);
    expect(isPkceVerifier('short')).toBe(false);
    expect(isPkceVerifier('a'.repeat(129))).toBe(false);
    expect(isPkceVerifier(`${'a'.repeat(42)}!`)).toBe(false);
  });

  it('hashes with SHA-256 (base64url) and compares secrets by value', () => {
    expect(sha256('abc')).toBe('ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0');
    expect(secretsEqual('same', 'same')).toBe(true);
    expect(secretsEqual('same', 'different length')).toBe(false);
    expect(secretsEqual('aaaa', 'aaab')).toBe(false);
  });
});
