/**
 * Confidential clients at the token and revocation endpoints: `client_secret_post` and
 * `client_secret_basic`, secrets shown once and stored only as SHA-256, every mismatch refused with
 * 401 `invalid_client`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/secrets.js';
import { CLIENT_REDIRECT, type Harness, startHarness } from '../support/mcp-auth-harness.js';

describe('MCP authorization server: client authentication', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  const basic = (id: string, secret: string) =>
    `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

  async function tokenRequest(body: Record<string, string>, headers: Record<string, string> = {}) {
    const response = await fetch(`${h.server.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(body),
    });
    return {
      status: response.status,
      headers: response.headers,
      body: (await response.json()) as Record<string, string>,
    };
  }

  async function codeFor(clientId: string, user: string) {
    const { code, verifier } = await h.signIn(clientId, user);
    return { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: CLIENT_REDIRECT };
  }

  it('registers a confidential client with a secret shown once and stored only as its SHA-256', async () => {
    const registered = await h.register({ token_endpoint_auth_method: 'client_secret_post' });
    expect(registered.status).toBe(201);
    const secret = String(registered.body.client_secret);
    expect(secret).toMatch(/^mcpcs_/);
    expect(registered.body.client_secret_expires_at).toBe(0);
    expect(registered.body).not.toHaveProperty('clientSecretHash');
    const stored = await h.server.sessionStore.backend.get<Record<string, unknown>>(
      'mcp-client-pending',
      String(registered.body.client_id),
    );
    expect(JSON.stringify(stored)).not.toContain(secret);
    expect(stored?.clientSecretHash).toBe(sha256(secret));
  });

  it('client_secret_post: the right secret works; a wrong, missing or Basic one is 401 invalid_client', async () => {
    const registered = await h.register({ token_endpoint_auth_method: 'client_secret_post' });
    const clientId = String(registered.body.client_id);
    const secret = String(registered.body.client_secret);
    const wrong = await tokenRequest({
      ...(await codeFor(clientId, 'post@example.com')),
      client_id: clientId,
      client_secret: `${secret}x`,
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe('invalid_client');
    const missing = await tokenRequest({
      ...(await codeFor(clientId, 'post@example.com')),
      client_id: clientId,
    });
    expect(missing.status).toBe(401);
    const viaBasic = await tokenRequest(await codeFor(clientId, 'post@example.com'), {
      authorization: basic(clientId, secret),
    });
    expect(viaBasic.status).toBe(401);
    expect(viaBasic.headers.get('www-authenticate')).toMatch(/^Basic/);
    const right = await tokenRequest({
      ...(await codeFor(clientId, 'post@example.com')),
      client_id: clientId,
      client_secret: secret,
    });
    expect(right.status).toBe(200);
    const refreshed = await tokenRequest({
      grant_type: 'refresh_token',
      refresh_token: right.body.refresh_token!,
      client_id: clientId,
      client_secret: secret,
    });
    expect(refreshed.status).toBe(200);
  });

  it('client_secret_basic: the right secret in the header works, in the body it does not', async () => {
    const registered = await h.register({ token_endpoint_auth_method: 'client_secret_basic' });
    const clientId = String(registered.body.client_id);
    const secret = String(registered.body.client_secret);
    const inBody = await tokenRequest({
      ...(await codeFor(clientId, 'basic@example.com')),
      client_id: clientId,
      client_secret: secret,
    });
    expect(inBody.status).toBe(401);
    const wrong = await tokenRequest(await codeFor(clientId, 'basic@example.com'), {
      authorization: basic(clientId, 'nope'),
    });
    expect(wrong.status).toBe(401);
    const right = await tokenRequest(await codeFor(clientId, 'basic@example.com'), {
      authorization: basic(clientId, secret),
    });
    expect(right.status).toBe(200);
    const revoke = await fetch(`${h.server.url}/revoke`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: basic(clientId, 'nope'),
      },
      body: new URLSearchParams({ token: right.body.access_token! }),
    });
    expect(revoke.status).toBe(401);
    expect(await h.callMcp(right.body.access_token!)).toBe(200);
  });

  it('a public client presenting a secret is refused', async () => {
    const clientId = String((await h.register()).body.client_id);
    const result = await tokenRequest({
      ...(await codeFor(clientId, 'public@example.com')),
      client_id: clientId,
      client_secret: 'made-up',
    });
    expect(result.status).toBe(401);
    expect(result.body.error).toBe('invalid_client');
  });

  it('advertises the methods it supports', async () => {
    const metadata = (await (
      await fetch(`${h.server.url}/.well-known/oauth-authorization-server`)
    ).json()) as Record<string, unknown>;
    expect(metadata.token_endpoint_auth_methods_supported).toEqual([
      'none',
      'client_secret_post',
      'client_secret_basic',
    ]);
  });
});
