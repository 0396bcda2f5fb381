/**
 * The consent step's parts on their own: approvals per (user, client) cover exactly the scopes
 * approved (merged across approvals, expiring), and the consent page names the client, where the
 * browser will go and what it may do, escaped, with the form allowed to post only there.
 */
import { describe, expect, it } from 'vitest';
import type { ClientRecord } from '../../src/mcp-auth/clients.js';
import { ConsentApprovals, consentPage, redirectTarget } from '../../src/mcp-auth/consent.js';
import { MemorySessionBackend } from '../../src/session/index.js';
import { FakeClock } from '../support/clock.js';

describe('ConsentApprovals', () => {
  function approvals() {
    const clock = new FakeClock();
    return { clock, approvals: new ConsentApprovals(new MemorySessionBackend({ clock }), clock, 60_000) };
  }

  it('covers exactly the scopes approved, for that user and that client only', async () => {
    const { approvals: store } = approvals();
    expect(await store.covers('alice@example.com', 'client-1', [])).toBe(false);
    await store.approve('alice@example.com', 'client-1', ['mcp:tools']);
    expect(await store.covers('alice@example.com', 'client-1', [])).toBe(true);
    expect(await store.covers('alice@example.com', 'client-1', ['mcp:tools'])).toBe(true);
    expect(await store.covers('alice@example.com', 'client-1', ['mcp:tools', 'mcp:admin'])).toBe(false);
    expect(await store.covers('bob@example.com', 'client-1', ['mcp:tools'])).toBe(false);
    expect(await store.covers('alice@example.com', 'client-2', ['mcp:tools'])).toBe(false);
  });

  it('merges scopes approved at different times, forgets on request and at expiry', async () => {
    const { clock, approvals: store } = approvals();
    await store.approve('alice@example.com', 'client-1', ['a']);
    await store.approve('alice@example.com', 'client-1', ['b']);
    expect(await store.covers('alice@example.com', 'client-1', ['a', 'b'])).toBe(true);
    await store.forget('alice@example.com', 'client-1');
    expect(await store.covers('alice@example.com', 'client-1', [])).toBe(false);
    await store.approve('alice@example.com', 'client-1', ['a']);
    clock.advance(59_999);
    expect(await store.covers('alice@example.com', 'client-1', ['a'])).toBe(true);
    clock.advance(1);
    expect(await store.covers('alice@example.com', 'client-1', ['a'])).toBe(false);
  });
});

describe('redirectTarget', () => {
  it('is host and port for web redirects, and the scheme for an app', () => {
    expect(redirectTarget('https://evil.example:8443/callback?x=1')).toBe('evil.example:8443');
    expect(redirectTarget('http://127.0.0.1:3000/cb')).toBe('127.0.0.1:3000');
    expect(redirectTarget('com.example.app:/oauth2redirect')).toBe('com.example.app:');
  });
});

describe('consentPage', () => {
  const client: ClientRecord = {
    client_id: 'https://client.example/meta.json',
    client_name: '  <b>Friendly</b> Client  ',
    redirect_uris: ['https://evil.example:8443/cb'],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    client_id_issued_at: 1_700_000_000,
    firstSeenAt: Date.UTC(2026, 10, 3, 22, 0, 0),
  };
  const input = {
    client,
    userId: 'alice@example.com',
    redirectUri: 'https://evil.example:8443/cb',
    mcpScopes: ['mcp:tools'],
    googleScopes: ['openid', 'email'],
    actionUrl: 'https://mcp.example.com/consent',
    consentId: 'consent-"1"',
    csrf: 'csrf<token>',
    resourceName: 'Example MCP',
  };

  it('names the client, the destination, the first-seen date, the scopes and the account, escaped', async () => {
    const response = consentPage(input);
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain('<dd>&#60;b&#62;Friendly&#60;/b&#62; Client</dd>'); // trimmed and escaped
    expect(html).not.toContain('<b>Friendly</b>');
    expect(html).toContain('<code>https://client.example/meta.json</code>');
    expect(html).toContain('<strong>evil.example:8443</strong>');
    expect(html).toContain('<dd>2026-11-03</dd>');
    expect(html).toContain('<dd>mcp:tools</dd>');
    expect(html).toContain('alice@example.com, with this server’s Google access (openid email)');
    expect(html).toMatch(/name="consent" value="consent-&#34;1&#34;"/);
    expect(html).toMatch(/name="csrf" value="csrf&#60;token&#62;"/);
    expect(html).toContain('action="https://mcp.example.com/consent"');
  });

  it('lets the form post only to itself and to the redirect origin (or an app scheme)', () => {
    const web = consentPage(input).headers.get('content-security-policy') ?? '';
    expect(web).toMatch(/form-action 'self' https:\/\/evil\.example:8443(;|$)/);
    const app =
      consentPage({ ...input, redirectUri: 'com.example.app:/cb' }).headers.get('content-security-policy') ??
      '';
    expect(app).toMatch(/form-action 'self' com\.example\.app:(;|$)/);
    // A loopback http redirect (a native client): its origin, never the whole http: scheme.
    const loopback =
      consentPage({ ...input, redirectUri: 'http://127.0.0.1:3000/cb' }).headers.get(
        'content-security-policy',
      ) ?? '';
    expect(loopback).toMatch(/form-action 'self' http:\/\/127\.0\.0\.1:3000(;|$)/);
  });

  it('says so when the client has no name or asks for no MCP scope', async () => {
    const html = await consentPage({
      ...input,
      client: { ...client, client_name: '   ' },
      mcpScopes: [],
    }).text();
    expect(html).toContain('An unnamed MCP client');
    expect(html).toContain('(none beyond calling its tools)');
    const { client_name: _, ...nameless } = client;
    expect(await consentPage({ ...input, client: nameless }).text()).toContain('An unnamed MCP client');
  });
});
