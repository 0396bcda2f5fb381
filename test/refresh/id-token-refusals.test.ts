/**
 * Each refusal of the id_token verifier on its own, against a local key server whose raw answers the
 * tests write: key documents of the wrong shape, size or format, certificate documents with unusable
 * entries, tokens without a key id, what an outage says (timed out, the socket error, the HTTP status)
 * and carries, when cached keys expire, and that only an unknown key (never a bad token) fetches keys
 * again.
 */
import { createServer, type Server } from 'node:http';
import { SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { AccessDeniedError, ProviderError } from '../../src/index.js';
import { cacheLifetime, IdTokenVerifier, KEY_REFETCH_COOLDOWN_MS } from '../../src/refresh/id-token.js';
import { FakeClock } from '../support/clock.js';
import { rejectionOf } from '../support/rejection.js';
import { type SigningKey, signingKey } from '../support/signing-keys.js';

const ISSUER = 'https://issuer.test';
const AUDIENCE = 'client-1';

function token(key: SigningKey, clock: FakeClock, options: { kid?: string | null; exp?: number } = {}) {
  const now = Math.floor(clock.now() / 1000);
  const header = options.kid === null ? { alg: 'RS256' } : { alg: 'RS256', kid: options.kid ?? key.kid };
  return new SignJWT({ email: 'a@example.com', email_verified: true, sub: '1' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(options.exp ?? now + 3600)
    .setProtectedHeader(header)
    .sign(key.privateKey);
}

let server: Server | undefined;
afterEach(async () => {
  const running = server;
  server = undefined;
  if (running === undefined) return;
  running.closeAllConnections();
  await new Promise((resolve) => running.close(resolve));
});

/** A key endpoint answering `state.text` (raw) with `state.status`; `state.hang` never answers. */
async function keyServer(text: string, status = 200, cacheControl?: string) {
  const state = {
    text,
    status,
    cacheControl,
    hang: false,
    requests: 0,
    accept: [] as (string | undefined)[],
  };
  server = createServer((request, response) => {
    state.requests += 1;
    state.accept.push(request.headers.accept);
    if (state.hang) return;
    response.writeHead(state.status, {
      'content-type': 'application/json',
      ...(state.cacheControl ? { 'cache-control': state.cacheControl } : {}),
    });
    response.end(state.status === 304 ? undefined : state.text);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { state, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/keys` };
}

const verifier = (url: string, clock: FakeClock, requestTimeoutMs = 1_000) =>
  new IdTokenVerifier({
    keysUrl: url,
    issuers: [ISSUER],
    audience: AUDIENCE,
    requestTimeoutMs,
    clock,
    logger: { debug() {}, info() {}, warn() {}, error() {} } as never,
  });

const clock = () => new FakeClock(1_800_000_000_000);

describe('key documents the verifier refuses, each as a ProviderError (try again)', () => {
  it.each([
    ['null', 'the provider’s signing keys are not a key set; try again'],
    ['[]', 'the provider’s signing keys are not a key set; try again'],
    ['"keys"', 'the provider’s signing keys are not a key set; try again'],
    ['42', 'the provider’s signing keys are not a key set; try again'],
    ['{not json', 'the provider’s signing keys are not a JSON document; try again'],
    ['{"keys":[42]}', 'the provider’s JWKS is malformed; try again'],
    ['{}', 'the provider’s signing keys hold no usable key; try again'],
    ['{"a":42,"b":"not a pem"}', 'the provider’s signing keys hold no usable key; try again'],
  ])('%s', async (text, message) => {
    const now = clock();
    const key = await signingKey('k1');
    const { url } = await keyServer(text);
    const error = (await rejectionOf(verifier(url, now).verify(await token(key, now)))) as ProviderError;
    expect(error).toBeInstanceOf(ProviderError);
    expect(error.message).toBe(message);
    expect(error.providerCode).toBe('keys-unavailable');
  });

  it('reads a key document of exactly 256 KiB and refuses one character more', async () => {
    const now = clock();
    const key = await signingKey('k1');
    const base = JSON.stringify({ keys: [key.jwk], padding: '' });
    const atLimit = base.replace('"padding":""', `"padding":"${'x'.repeat(256 * 1024 - base.length)}"`);
    expect(atLimit.length).toBe(256 * 1024);
    const { state, url } = await keyServer(atLimit);
    expect(await verifier(url, now).verify(await token(key, now))).toMatchObject({ sub: '1' });
    state.text = atLimit.replace('"padding":"', '"padding":"x');
    const error = await rejectionOf(verifier(url, now).verify(await token(key, now)));
    expect(error.message).toBe('the provider’s signing keys are not a JSON document; try again');
  });
});

describe("Google's { kid: PEM } certificate documents", () => {
  it('skips entries that are not strings or not keys, and uses the rest', async () => {
    const now = clock();
    const key = await signingKey('k1');
    const { url } = await keyServer(JSON.stringify({ k0: 42, bad: 'not a pem', k1: key.pem }));
    expect(await verifier(url, now).verify(await token(key, now))).toMatchObject({ sub: '1' });
  });

  it('refuses a token without a key id as an unknown key', async () => {
    const now = clock();
    const key = await signingKey('k1');
    const { url } = await keyServer(JSON.stringify({ k1: key.pem }));
    const error = (await rejectionOf(
      verifier(url, now).verify(await token(key, now, { kid: null })),
    )) as AccessDeniedError;
    expect(error).toBeInstanceOf(AccessDeniedError);
    expect(error.reason).toBe('id-token-invalid');
    expect(error.hint).toBe('ERR_JWKS_NO_MATCHING_KEY');
  });

  it('fetches the certificates again for an unknown key id after the cooldown (rotation)', async () => {
    const now = clock();
    const old = await signingKey('old');
    const rotated = await signingKey('new');
    const { state, url } = await keyServer(JSON.stringify({ old: old.pem }));
    const verify = verifier(url, now);
    await verify.verify(await token(old, now));
    state.text = JSON.stringify({ old: old.pem, new: rotated.pem });
    now.advance(KEY_REFETCH_COOLDOWN_MS);
    expect(await verify.verify(await token(rotated, now))).toMatchObject({ sub: '1' });
    expect(state.requests).toBe(2);
  });
});

describe('the key request', () => {
  it('asks for JSON', async () => {
    const now = clock();
    const key = await signingKey('k1');
    const { state, url } = await keyServer(JSON.stringify({ k1: key.pem }));
    await verifier(url, now).verify(await token(key, now));
    expect(state.accept).toEqual(['application/json']);
  });

  it('says which key URL it could not refresh, and why, when it falls back to the cached keys', async () => {
    const now = clock();
    const key = await signingKey('k1');
    const { state, url } = await keyServer(JSON.stringify({ keys: [key.jwk] }), 200, 'max-age=60');
    const warnings: { fields: Record<string, unknown>; message?: string }[] = [];
    const verify = new IdTokenVerifier({
      keysUrl: url,
      issuers: [ISSUER],
      audience: AUDIENCE,
      requestTimeoutMs: 1_000,
      clock: now,
      logger: {
        debug() {},
        info() {},
        error() {},
        warn: (fields, message) => void warnings.push({ fields, message }),
      },
    });
    await verify.verify(await token(key, now));
    state.status = 503;
    now.advance(60_000);
    await verify.verify(await token(key, now));
    expect(warnings).toEqual([
      {
        fields: { keysUrl: url, cause: 'the provider’s signing keys answered HTTP 503; try again' },
        message: 'could not refresh the provider’s signing keys; using the cached ones',
      },
    ]);
  });
});

describe('what fetches the keys again', () => {
  it('keys expire exactly at their Cache-Control lifetime', async () => {
    const now = clock();
    const key = await signingKey('k1');
    const { state, url } = await keyServer(JSON.stringify({ keys: [key.jwk] }), 200, 'max-age=120');
    const verify = verifier(url, now);
    await verify.verify(await token(key, now));
    now.advance(119_999);
    await verify.verify(await token(key, now));
    expect(state.requests).toBe(1);
    now.advance(1);
    await verify.verify(await token(key, now));
    expect(state.requests).toBe(2);
  });

  it('a token that fails for any other reason than its key never fetches the keys again', async () => {
    const now = clock();
    const key = await signingKey('k1');
    const { state, url } = await keyServer(JSON.stringify({ keys: [key.jwk] }));
    const verify = verifier(url, now);
    await verify.verify(await token(key, now));
    now.advance(KEY_REFETCH_COOLDOWN_MS * 2);
    const expired = await token(key, now, { exp: Math.floor(now.now() / 1000) - 3600 });
    const error = (await rejectionOf(verify.verify(expired))) as AccessDeniedError;
    expect(error).toBeInstanceOf(AccessDeniedError);
    expect(error.hint).toBe('ERR_JWT_EXPIRED');
    expect(error.cause).toBeDefined();
    expect(state.requests).toBe(1);
  });
});

describe('what an outage says', () => {
  it('a key endpoint that does not answer in time: "timed out"', async () => {
    const now = clock();
    const key = await signingKey('k1');
    const { state, url } = await keyServer('{}');
    state.hang = true;
    const error = (await rejectionOf(verifier(url, now, 200).verify(await token(key, now)))) as ProviderError;
    expect(error.message).toBe('could not reach the provider’s signing keys (timed out); try again');
    expect(error.providerCode).toBe('keys-unavailable');
    expect(error.cause).toBeDefined();
  });

  it('a refused connection: the socket error code', async () => {
    const now = clock();
    const key = await signingKey('k1');
    const { url } = await keyServer('{}');
    const running = server!;
    server = undefined;
    await new Promise((resolve) => running.close(resolve));
    const error = await rejectionOf(verifier(url, now).verify(await token(key, now)));
    expect(error.message).toBe('could not reach the provider’s signing keys (ECONNREFUSED); try again');
  });

  it('a request that fails without a socket error: "network error"', async () => {
    const now = clock();
    const key = await signingKey('k1');
    const error = await rejectionOf(verifier('ftp://127.0.0.1/keys', now).verify(await token(key, now)));
    expect(error.message).toBe('could not reach the provider’s signing keys (network error); try again');
  });

  it('an HTTP error names its status, with no cause, also when it has no body', async () => {
    const now = clock();
    const key = await signingKey('k1');
    for (const status of [503, 304]) {
      const { url } = await keyServer('{"error":"down"}', status);
      const error = (await rejectionOf(verifier(url, now).verify(await token(key, now)))) as ProviderError;
      expect(error).toBeInstanceOf(ProviderError);
      expect(error.message).toBe(`the provider’s signing keys answered HTTP ${status}; try again`);
      expect(error.providerCode).toBe(`HTTP ${status}`);
      expect(error.cause).toBeUndefined();
      const running = server!;
      server = undefined;
      running.closeAllConnections();
      await new Promise((resolve) => running.close(resolve));
    }
  });
});

describe('cacheLifetime, the forms of Cache-Control', () => {
  it('reads max-age with spaces or quotes, and the no-cache directive', () => {
    expect(cacheLifetime('max-age = 120')).toBe(120_000);
    expect(cacheLifetime('max-age="120"')).toBe(120_000);
    expect(cacheLifetime('MAX-AGE=120')).toBe(120_000);
    expect(cacheLifetime('no-cache')).toBe(60_000);
    expect(cacheLifetime('')).toBe(3_600_000);
    expect(cacheLifetime('max-age=60')).toBe(60_000);
    expect(cacheLifetime('max-age=86400')).toBe(86_400_000);
  });
});
