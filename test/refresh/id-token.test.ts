/**
 * id_token verification with jose against the provider's keys, served by a local key server whose
 * answers the tests control: JWKS and Google's `{kid: PEM}` certificates, Cache-Control, key
 * rotation, an unreachable or failing key endpoint (a ProviderError, never a forged-token answer).
 */
import { createServer, type Server } from 'node:http';
import { SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { AccessDeniedError, ProviderError } from '../../src/index.js';
import { cacheLifetime, IdTokenVerifier, KEY_REFETCH_COOLDOWN_MS } from '../../src/refresh/id-token.js';
import { recordingLogger } from '../session/session-store.suite.js';
import { FakeClock } from '../support/clock.js';
import { type SigningKey, signingKey } from '../support/signing-keys.js';

const ISSUER = 'https://issuer.test';
const AUDIENCE = 'client-1';

function token(key: SigningKey, clock: FakeClock, claims: Record<string, unknown> = {}) {
  const now = Math.floor(clock.now() / 1000);
  return new SignJWT({
    email: 'alice@example.com',
    email_verified: true,
    iss: ISSUER,
    aud: AUDIENCE,
    sub: '1234',
    iat: now,
    exp: now + 3600,
    ...claims,
  })
    .setProtectedHeader({ alg: 'RS256', kid: key.kid })
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

/** A key endpoint: what it serves (and how) can change between requests. */
async function keyServer(initial: { body: unknown; status?: number; cacheControl?: string }) {
  const state = { ...initial, requests: 0 };
  server = createServer((_request, response) => {
    state.requests += 1;
    response.writeHead(state.status ?? 200, {
      'content-type': 'application/json',
      ...(state.cacheControl ? { 'cache-control': state.cacheControl } : {}),
    });
    response.end(JSON.stringify(state.body));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { state, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/keys` };
}

function verifier(url: string, clock: FakeClock, logger = recordingLogger().logger!) {
  return new IdTokenVerifier({
    keysUrl: url,
    issuers: [ISSUER],
    audience: AUDIENCE,
    requestTimeoutMs: 1_000,
    clock,
    logger,
  });
}

describe('IdTokenVerifier', () => {
  it('verifies against a JWKS and refuses a wrong audience, issuer, expiry or signature as AccessDeniedError', async () => {
    const clock = new FakeClock(1_800_000_000_000);
    const key = await signingKey('k1');
    const impostor = await signingKey('k1'); // same key id, another key
    const { url } = await keyServer({ body: { keys: [key.jwk] } });
    const verify = verifier(url, clock);
    expect(await verify.verify(await token(key, clock))).toMatchObject({
      email: 'alice@example.com',
      sub: '1234',
    });
    for (const forged of [
      await token(impostor, clock),
      await token(key, clock, { aud: 'another-client' }),
      await token(key, clock, { iss: 'https://evil.test' }),
    ]) {
      const error = await verify.verify(forged).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AccessDeniedError);
      expect((error as AccessDeniedError).reason).toBe('id-token-invalid');
    }
    const expired = await token(key, clock);
    clock.advance(3600_000 + 301_000); // past expiry and the 5-minute tolerance
    await expect(verify.verify(expired)).rejects.toBeInstanceOf(AccessDeniedError);
  });

  it("verifies against Google's {kid: PEM} certificate document", async () => {
    const clock = new FakeClock(1_800_000_000_000);
    const key = await signingKey('pem-key');
    const { url } = await keyServer({ body: { [key.kid]: key.pem } });
    expect(await verifier(url, clock).verify(await token(key, clock))).toMatchObject({ sub: '1234' });
  });

  it('keeps the keys as long as Cache-Control says, then fetches them again', async () => {
    const clock = new FakeClock(1_800_000_000_000);
    const key = await signingKey('k1');
    const { state, url } = await keyServer({
      body: { keys: [key.jwk] },
      cacheControl: 'public, max-age=600',
    });
    const verify = verifier(url, clock);
    const idToken = await token(key, clock);
    await verify.verify(idToken);
    clock.advance(599_000);
    await verify.verify(idToken);
    expect(state.requests).toBe(1);
    clock.advance(2_000);
    await verify.verify(idToken);
    expect(state.requests).toBe(2);
  });

  it('fetches again for an unknown key id (rotation), at most once per cooldown', async () => {
    const clock = new FakeClock(1_800_000_000_000);
    const [old, rotated, unknown] = await Promise.all([
      signingKey('old'),
      signingKey('new'),
      signingKey('nope'),
    ]);
    const { state, url } = await keyServer({ body: { keys: [old.jwk] }, cacheControl: 'max-age=86400' });
    const verify = verifier(url, clock);
    await verify.verify(await token(old, clock));
    state.body = { keys: [old.jwk, rotated.jwk] };
    // Within the cooldown after the last fetch, an unknown key id is refused without a fetch.
    await expect(verify.verify(await token(rotated, clock))).rejects.toBeInstanceOf(AccessDeniedError);
    expect(state.requests).toBe(1);
    clock.advance(KEY_REFETCH_COOLDOWN_MS);
    expect(await verify.verify(await token(rotated, clock))).toMatchObject({ sub: '1234' });
    expect(state.requests).toBe(2);
    // A flood of tokens with made-up key ids costs no more than one fetch per cooldown.
    clock.advance(KEY_REFETCH_COOLDOWN_MS);
    const floods = await Promise.allSettled(
      Array.from({ length: 20 }, async () => verify.verify(await token(unknown, clock))),
    );
    expect(floods.every((result) => result.status === 'rejected')).toBe(true);
    expect(state.requests).toBe(3);
  });

  it('reports an unreachable or failing key endpoint as ProviderError (try again), never as a bad token', async () => {
    const clock = new FakeClock(1_800_000_000_000);
    const key = await signingKey('k1');
    const idToken = await token(key, clock);
    const closed = verifier('http://127.0.0.1:9/keys', clock);
    const unreachable = await closed.verify(idToken).catch((e: unknown) => e);
    expect(unreachable).toBeInstanceOf(ProviderError);
    expect((unreachable as Error).message).toMatch(/try again/);
    const { state, url } = await keyServer({ body: { error: 'backend' }, status: 503 });
    const failing = await verifier(url, clock)
      .verify(idToken)
      .catch((e: unknown) => e);
    expect(failing).toBeInstanceOf(ProviderError);
    expect((failing as ProviderError).providerCode).toBe('HTTP 503');
    state.status = 200;
    state.body = '<html>not keys</html>';
    await expect(verifier(url, clock).verify(idToken)).rejects.toBeInstanceOf(ProviderError);
  });

  it('keeps verifying with expired cached keys while the key endpoint is down, and says so once per attempt', async () => {
    const clock = new FakeClock(1_800_000_000_000);
    const key = await signingKey('k1');
    const { state, url } = await keyServer({ body: { keys: [key.jwk] }, cacheControl: 'max-age=60' });
    const log = recordingLogger();
    const verify = verifier(url, clock, log.logger!);
    await verify.verify(await token(key, clock));
    state.status = 500;
    clock.advance(120_000);
    expect(await verify.verify(await token(key, clock))).toMatchObject({ sub: '1234' });
    expect(log.lines.filter((line) => line.includes('using the cached ones'))).toHaveLength(1);
  });

  it('reads cache lifetimes from Cache-Control within 1 minute and 24 hours', () => {
    expect(cacheLifetime(null)).toBe(3_600_000);
    expect(cacheLifetime('public, max-age=19800, must-revalidate, no-transform')).toBe(19_800_000);
    expect(cacheLifetime('s-maxage=5')).toBe(60_000);
    expect(cacheLifetime('max-age=9999999')).toBe(86_400_000);
    expect(cacheLifetime('no-store')).toBe(60_000);
    expect(cacheLifetime('private')).toBe(3_600_000);
  });
});
