/**
 * {@link startGoogleLikeProvider}: a local OAuth / OpenID Connect provider that behaves like Google
 * where it matters to a server using this package, for your own tests and local runs. Built on
 * oauth2-mock-server (its OAuth2Issuer signs the id_tokens; its OAuth2Service serves /authorize,
 * /token, /userinfo, /revoke and /jwks) and made Google-like with its hooks:
 *
 * - opaque, unique `ya29.` access tokens (3599 s) and `1//` refresh tokens;
 * - a refresh token only for `access_type=offline`, and only on first consent, consent to new scopes
 *   or `prompt=consent`; incremental authorization (`include_granted_scopes=true`) grants the union;
 * - refresh responses without `refresh_token` (or, in rotation mode, a new one that invalidates the old);
 * - `invalid_grant` for unknown, used, revoked or foreign codes and refresh tokens, and on demand;
 * - id_tokens with `email`, `email_verified`, a stable numeric `sub` and `aud` = the client id;
 * - a `{kid: PEM}` certificate endpoint like Google's `oauth2/v1/certs`, for `verifyIdToken`;
 * - `/userinfo` that answers for the user the access token was issued to (401 otherwise);
 * - client authentication (`invalid_client` for a wrong secret), scopes the user may decline.
 *
 * Test controls: rotation mode, injected latency, injected failures, revoking a user's grants, and
 * counters (token requests by grant type, peak concurrent token requests). Listens on 127.0.0.1 only.
 * Needs `oauth2-mock-server` (an optional peer, like `vitest` for the rest of this subpath).
 *
 * ```ts
 * const google = await startGoogleLikeProvider();
 * const manager = new CredentialManager({ store, oauth: google.oauthOptions('http://127.0.0.1:8000/oauth/callback') });
 * google.setDefaultUser('alice@example.com'); // who "signs in" at the next authorization request
 * ```
 *
 * @module
 */
import { createHash, createPublicKey, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { OAuth2Issuer, OAuth2Service } from 'oauth2-mock-server';
import type {
  GoogleLikeProvider,
  GoogleLikeProviderOptions,
  InjectedFailure,
  ProviderEndpoints,
} from './google-provider-types.js';

export type {
  GoogleLikeProvider,
  GoogleLikeProviderOptions,
  InjectedFailure,
  ProviderEndpoints,
} from './google-provider-types.js';

interface Grant {
  userId: string;
  clientId: string;
  scopes: string[];
  revoked: boolean;
}

interface PendingCode {
  userId: string;
  clientId: string;
  redirectUri: string;
  scopes: string[];
  offline: boolean;
  forceConsent: boolean;
  /** `include_granted_scopes=true`: the grant covers what the user consented to before, too. */
  includeGranted: boolean;
  hasChallenge: boolean;
  used: boolean;
}

function stableSub(userId: string): string {
  return BigInt(`0x${createHash('sha256').update(userId).digest('hex').slice(0, 15)}`).toString();
}

function displayName(userId: string): string {
  const local = userId.split('@')[0] ?? userId;
  return local.charAt(0).toUpperCase() + local.slice(1);
}

/**
 * Starts a local OAuth provider on 127.0.0.1 that behaves like Google: sign-in as any user, no
 * `refresh_token` in refresh responses (or rotation), `invalid_grant` and outages on demand, an
 * `email` claim, JWKS and `{kid: PEM}` certificates, counters.
 */
export async function startGoogleLikeProvider(
  options: GoogleLikeProviderOptions = {},
): Promise<GoogleLikeProvider> {
  const clientId = options.clientId ?? `${randomBytes(6).toString('hex')}.apps.googleusercontent.example`;
  const clientSecret = options.clientSecret ?? `GOCSPX-${randomBytes(12).toString('base64url')}`;
  let rotation = options.rotateRefreshTokens ?? false;
  let latencyMs = options.tokenLatencyMs ?? 0;
  const accessTtl = options.accessTokenTtlSeconds === undefined ? 3599 : options.accessTokenTtlSeconds;
  let revokeDown = false;
  let declined = new Set<string>();
  let defaultUser = 'alice@example.com';
  const claimOverrides = new Map<string, { sub?: string; email_verified?: boolean | null; hd?: string }>();
  const subOf = (userId: string) => claimOverrides.get(userId)?.sub ?? stableSub(userId);
  const failures: Array<InjectedFailure & { remaining: number }> = [];

  const issuer = new OAuth2Issuer();
  await issuer.keys.generate(options.signingAlgorithm ?? 'RS256');
  const service = new OAuth2Service(issuer, { userinfo: '/v1/userinfo', revoke: '/revoke' });

  const codes = new Map<string, PendingCode>();
  const refreshTokens = new Map<string, Grant>();
  const accessTokens = new Map<string, { userId: string; expiresAt: number }>();
  // What each user consented to, per client (`${userId} ${clientId}`): incremental authorization
  // (`include_granted_scopes=true`) adds to it, and every live grant of the pair covers the union.
  const consented = new Map<string, Set<string>>();
  let inFlight = 0;

  const counters = {
    tokenRequests: 0,
    authorizationCodeRequests: 0,
    refreshRequests: 0,
    refreshTokensUsed: new Set<string>(),
    peakConcurrentTokenRequests: 0,
    revokeRequests: 0,
  };

  const userOf = (req: IncomingMessage & { body?: Record<string, string> }): string | undefined => {
    const body = req.body ?? {};
    if (body.grant_type === 'authorization_code') return codes.get(body.code ?? '')?.userId;
    if (body.grant_type === 'refresh_token') return refreshTokens.get(body.refresh_token ?? '')?.userId;
    return undefined;
  };

  service.on(
    'beforeAuthorizeRedirect',
    (redirect: { url: URL }, req: IncomingMessage & { query: Record<string, string> }) => {
      const code = redirect.url.searchParams.get('code');
      if (!code) return;
      if (req.query.client_id !== clientId) {
        redirect.url.searchParams.delete('code');
        redirect.url.searchParams.set('error', 'unauthorized_client');
        return;
      }
      const requested = (req.query.scope ?? '').split(/\s+/).filter(Boolean);
      codes.set(code, {
        userId: (req.query.login_hint || defaultUser).toLowerCase(),
        clientId: req.query.client_id,
        redirectUri: req.query.redirect_uri ?? '',
        scopes: requested.filter((scope) => !declined.has(scope)),
        offline: req.query.access_type === 'offline',
        forceConsent: (req.query.prompt ?? '').split(' ').includes('consent'),
        includeGranted: req.query.include_granted_scopes === 'true',
        hasChallenge: Boolean(req.query.code_challenge),
        used: false,
      });
    },
  );

  service.on(
    'beforeTokenSigning',
    (
      token: { payload: Record<string, unknown> },
      req: IncomingMessage & { body?: Record<string, string> },
    ) => {
      const userId = userOf(req);
      if (!userId) return;
      const overrides = claimOverrides.get(userId) ?? {};
      Object.assign(token.payload, {
        sub: subOf(userId),
        email: userId,
        email_verified: overrides.email_verified === undefined ? true : overrides.email_verified,
        name: displayName(userId),
        azp: clientId,
        aud: clientId,
        ...(overrides.hd === undefined ? {} : { hd: overrides.hd }),
      });
      if (overrides.email_verified === null) delete token.payload.email_verified;
    },
  );

  service.on(
    'beforeResponse',
    (
      response: { statusCode: number; body: Record<string, unknown> | '' },
      req: IncomingMessage & { body?: Record<string, string> },
    ) => {
      const body = req.body ?? {};
      const fail = (status: number, error: string, description?: string) => {
        response.statusCode = status;
        response.body = { error, ...(description ? { error_description: description } : {}) };
      };
      const grantType = body.grant_type;
      const failure = failures.find((f) => f.remaining > 0 && (!f.grantType || f.grantType === grantType));
      if (failure) {
        failure.remaining -= 1;
        return fail(failure.status, failure.error);
      }
      if (body.client_id !== clientId || body.client_secret !== clientSecret) {
        return fail(401, 'invalid_client', 'The OAuth client was not found.');
      }
      const out = response.body as Record<string, unknown>;
      let grant: Grant;
      if (grantType === 'authorization_code') {
        const pending = codes.get(body.code ?? '');
        if (
          !pending ||
          pending.used ||
          pending.clientId !== body.client_id ||
          pending.redirectUri !== body.redirect_uri
        ) {
          return fail(400, 'invalid_grant', 'Malformed auth code.');
        }
        pending.used = true;
        if (pending.hasChallenge && !body.code_verifier)
          return fail(400, 'invalid_grant', 'Missing code verifier.');
        const key = `${pending.userId} ${clientId}`;
        const before = consented.get(key);
        const newScopes = pending.scopes.some((scope) => !before?.has(scope));
        const scopes = pending.includeGranted
          ? [...new Set([...(before ?? []), ...pending.scopes])]
          : pending.scopes;
        grant = { userId: pending.userId, clientId, scopes, revoked: false };
        if (pending.offline && (pending.forceConsent || before === undefined || newScopes)) {
          const refreshToken = `1//${randomBytes(24).toString('base64url')}`;
          refreshTokens.set(refreshToken, grant);
          out.refresh_token = refreshToken;
        } else {
          delete out.refresh_token;
        }
        consented.set(key, new Set([...(before ?? []), ...pending.scopes]));
        if (pending.includeGranted) {
          for (const other of refreshTokens.values())
            if (other.userId === pending.userId && other.clientId === clientId && !other.revoked)
              other.scopes = scopes;
        }
      } else if (grantType === 'refresh_token') {
        const presented = body.refresh_token ?? '';
        counters.refreshTokensUsed.add(presented);
        const existing = refreshTokens.get(presented);
        if (!existing || existing.revoked || existing.clientId !== body.client_id) {
          return fail(400, 'invalid_grant', 'Token has been expired or revoked.');
        }
        grant = existing;
        if (rotation) {
          existing.revoked = true;
          const next = `1//${randomBytes(24).toString('base64url')}`;
          refreshTokens.set(next, { ...existing, revoked: false });
          out.refresh_token = next;
        } else {
          delete out.refresh_token;
        }
      } else {
        return fail(400, 'unsupported_grant_type');
      }
      const accessToken = `ya29.${randomBytes(32).toString('base64url')}`;
      accessTokens.set(accessToken, {
        userId: grant.userId,
        expiresAt: accessTtl === null ? Number.POSITIVE_INFINITY : Date.now() + accessTtl * 1000,
      });
      out.access_token = accessToken;
      if (accessTtl === null) delete out.expires_in;
      else out.expires_in = accessTtl;
      out.scope = grant.scopes.join(' ');
      out.token_type = 'Bearer';
    },
  );

  service.on(
    'beforeUserinfo',
    (response: { statusCode: number; body: Record<string, unknown> | '' }, req: IncomingMessage) => {
      const presented = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? '';
      const known = accessTokens.get(presented);
      if (!known || known.expiresAt <= Date.now()) {
        response.statusCode = 401;
        response.body = { error: 'invalid_token', error_description: 'Invalid Credentials' };
        return;
      }
      response.body = {
        sub: subOf(known.userId),
        email: known.userId,
        email_verified: true,
        name: displayName(known.userId),
        picture: `https://example.invalid/${stableSub(known.userId)}.png`,
      };
    },
  );

  service.on(
    'beforeRevoke',
    (response: { statusCode: number }, req: IncomingMessage & { query?: Record<string, string> }) => {
      counters.revokeRequests += 1;
      if (revokeDown) {
        response.statusCode = 503;
        return;
      }
      const url = new URL(req.url ?? '/', 'http://localhost');
      const token = url.searchParams.get('token') ?? '';
      const grant = refreshTokens.get(token);
      const userId = grant?.userId ?? accessTokens.get(token)?.userId;
      if (!userId) {
        response.statusCode = 400; // Google: invalid_token for unknown tokens
        return;
      }
      for (const candidate of refreshTokens.values())
        if (candidate.userId === userId) candidate.revoked = true;
      for (const [accessToken, entry] of accessTokens)
        if (entry.userId === userId) accessTokens.delete(accessToken);
      consented.delete(`${userId} ${clientId}`);
    },
  );

  const handle = service.requestHandler;
  const server: Server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/oauth2/v1/certs') {
      const certs: Record<string, string> = {};
      for (const jwk of issuer.keys.toJSON()) {
        certs[jwk.kid as string] = createPublicKey({ key: jwk as never, format: 'jwk' })
          .export({ type: 'spki', format: 'pem' })
          .toString();
      }
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=3600' });
      res.end(JSON.stringify(certs));
      return;
    }
    if (path === '/token' && req.method === 'POST') {
      counters.tokenRequests += 1;
      inFlight += 1;
      counters.peakConcurrentTokenRequests = Math.max(counters.peakConcurrentTokenRequests, inFlight);
      res.once('close', () => {
        inFlight -= 1;
      });
      // Parse the form body here (body-parser skips requests marked `_body`), so a replayed or
      // unknown code gets Google's invalid_grant: the mock service would answer invalid_request.
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
      Object.assign(req, { body, _body: true });
      if (body.grant_type === 'authorization_code') counters.authorizationCodeRequests += 1;
      if (body.grant_type === 'refresh_token') counters.refreshRequests += 1;
      if (latencyMs > 0) await delay(latencyMs);
      const pending = body.grant_type === 'authorization_code' ? codes.get(body.code ?? '') : undefined;
      if (body.grant_type === 'authorization_code' && (!pending || pending.used)) {
        if (pending) pending.used = true;
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'invalid_grant', error_description: 'Malformed auth code.' }));
        return;
      }
    }
    handle(req, res);
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  issuer.url = url;

  const endpoints: ProviderEndpoints = {
    oauth2AuthBaseUrl: `${url}/authorize`,
    oauth2TokenUrl: `${url}/token`,
    oauth2RevokeUrl: `${url}/revoke`,
    oauth2FederatedSignonPemCertsUrl: `${url}/oauth2/v1/certs`,
    oauth2FederatedSignonJwkCertsUrl: `${url}/jwks`,
    tokenInfoUrl: `${url}/tokeninfo`,
  };

  return {
    url,
    issuer: url,
    clientId,
    clientSecret,
    endpoints,
    userinfoUrl: `${url}/v1/userinfo`,
    counters,
    resetCounters() {
      counters.tokenRequests = 0;
      counters.authorizationCodeRequests = 0;
      counters.refreshRequests = 0;
      counters.refreshTokensUsed = new Set();
      counters.peakConcurrentTokenRequests = 0;
      counters.revokeRequests = 0;
    },
    setRotation(on) {
      rotation = on;
    },
    setTokenLatency(ms) {
      latencyMs = ms;
    },
    failNext(count, failure) {
      failures.push({ ...failure, remaining: count });
    },
    clearFailures() {
      failures.length = 0;
    },
    setRevokeDown(down) {
      revokeDown = down;
    },
    revokeGrantsOf(userId) {
      for (const grant of refreshTokens.values())
        if (grant.userId === userId.toLowerCase()) grant.revoked = true;
    },
    setDeclinedScopes(scopes) {
      declined = new Set(scopes);
    },
    setDefaultUser(userId) {
      defaultUser = userId.toLowerCase();
    },
    setUserClaims(userId, claims) {
      claimOverrides.set(userId.toLowerCase(), { ...claimOverrides.get(userId.toLowerCase()), ...claims });
    },
    oauthOptions(redirectUri) {
      return {
        clientId,
        clientSecret,
        ...(redirectUri === undefined ? {} : { redirectUri }),
        endpoints: { ...endpoints },
        issuers: [url],
      };
    },
    discoveryUrl: `${url}/.well-known/openid-configuration`,
    clientSettings() {
      return {
        clientId,
        clientSecret,
        oauthEndpoints: { ...endpoints },
        issuers: [url],
        userinfoUrl: `${url}/v1/userinfo`,
      };
    },
    issueGrant(userId, scopes = ['openid', 'email']) {
      const refreshToken = `1//${randomBytes(24).toString('base64url')}`;
      refreshTokens.set(refreshToken, { userId: userId.toLowerCase(), clientId, scopes, revoked: false });
      return refreshToken;
    },
    isRefreshTokenLive(refreshToken) {
      const grant = refreshTokens.get(refreshToken);
      return grant !== undefined && !grant.revoked;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
