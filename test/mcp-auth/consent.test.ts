/**
 * The confused deputy and the open redirect, reproduced against the example server in MCP
 * authorization mode: a code reaches a client only after the user approved that client on this
 * server's own consent page, in the browser that started the flow; errors before consent are pages.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseForms, TestBrowser } from '../../src/testing/browser.js';
import {
  ATTACKER_REDIRECT,
  CLIENT_REDIRECT,
  type Harness,
  startHarness,
} from '../support/mcp-auth-harness.js';

describe('MCP authorization: consent and browser binding', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  const toAttacker = (url: URL) => url.href.startsWith(ATTACKER_REDIRECT);
  const toClient = (url: URL) => url.href.startsWith(CLIENT_REDIRECT);

  async function attackerClient(): Promise<string> {
    const registered = await h.register({
      client_name: 'Totally Legit Assistant',
      redirect_uris: [ATTACKER_REDIRECT],
    });
    expect(registered.status).toBe(201);
    return String(registered.body.client_id);
  }

  /** What the attacker gets by starting /authorize in their own browser: the upstream Google URL. */
  async function upstreamUrl(attacker: TestBrowser, clientId: string): Promise<URL> {
    const { url } = h.authorizeUrl(clientId, { redirectUri: ATTACKER_REDIRECT });
    const response = await attacker.request(url);
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get('location')!);
    expect(location.origin).toBe(h.provider.url);
    return location;
  }

  it('a Google URL sent to a victim yields no code in the victim’s browser (no flow cookie there)', async () => {
    const clientId = await attackerClient();
    const google = await upstreamUrl(new TestBrowser(), clientId);
    h.provider.setDefaultUser('victim@example.com');
    const victim = new TestBrowser();
    const { page, stoppedAt } = await victim.navigate(google, toAttacker);
    expect(stoppedAt, `a code went to the attacker: ${stoppedAt?.href}`).toBeUndefined();
    expect(page!.status).toBe(400);
    expect(page!.html).toContain('this browser');
    expect(page!.headers.get('location')).toBeNull();
  });

  it('the variant with an approval the attacker made in their own browser gives the victim no code either', async () => {
    const clientId = await attackerClient();
    // The attacker signs in with their own account and approves their own client (remembered).
    const attacker = new TestBrowser();
    h.provider.setDefaultUser('attacker@example.com');
    const own = await attacker.navigate(
      h.authorizeUrl(clientId, { redirectUri: ATTACKER_REDIRECT }).url,
      toAttacker,
    );
    expect(own.page?.html).toContain('name="decision"');
    const approved = await attacker.submit(own.page!, { button: 'approve' });
    expect(approved.headers.get('location')).toMatch(/^https:\/\/attacker\.example\/cb\?code=/);
    // Then sends the victim a fresh upstream URL of a transaction started in the attacker's browser.
    const google = await upstreamUrl(attacker, clientId);
    h.provider.setDefaultUser('victim@example.com');
    const { page, stoppedAt } = await new TestBrowser().navigate(google, toAttacker);
    expect(stoppedAt).toBeUndefined();
    expect(page!.status).toBe(400);
  });

  it('an /authorize link opened by the victim shows a consent page naming the client; no code without approval', async () => {
    const clientId = await attackerClient();
    h.provider.setDefaultUser('victim2@example.com');
    const victim = new TestBrowser();
    const { page, stoppedAt } = await victim.navigate(
      h.authorizeUrl(clientId, { redirectUri: ATTACKER_REDIRECT }).url,
      toAttacker,
    );
    expect(stoppedAt, 'a code went to the attacker without consent').toBeUndefined();
    expect(page!.status).toBe(200);
    expect(page!.html).toContain('Totally Legit Assistant');
    expect(page!.html).toContain('attacker.example');
    expect(page!.html).toContain('victim2@example.com');
    expect(page!.html).toMatch(/first seen/i);
    expect(page!.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page!.headers.get('x-frame-options')).toBe('DENY');
    // Denying sends the client an access_denied error and no code.
    const denied = await victim.submit(page!, { button: 'deny' });
    const location = new URL(denied.headers.get('location')!);
    expect(location.searchParams.get('error')).toBe('access_denied');
    expect(location.searchParams.get('code')).toBeNull();
  });

  it('the consent form must be posted from the browser that holds the flow, with its anti-CSRF token', async () => {
    const registered = await h.register();
    const clientId = String(registered.body.client_id);
    h.provider.setDefaultUser('csrf@example.com');
    const user = new TestBrowser();
    const { page } = await user.navigate(h.authorizeUrl(clientId).url, toClient);
    expect(page?.html).toContain('name="decision"');
    // Another browser posting the very same form gets nothing.
    const forms = parseForms(page!);
    const other = new TestBrowser();
    const foreign = await other.request(forms[0]!.action, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...forms[0]!.fields, decision: 'approve' }),
    });
    expect(foreign.status).toBe(400);
    expect(foreign.headers.get('location')).toBeNull();
    // The right browser with a forged anti-CSRF token gets nothing either.
    const forged = await user.submit(page!, { button: 'approve', overrides: { csrf: 'x'.repeat(43) } });
    expect(forged.status).toBe(400);
    expect(forged.headers.get('location')).toBeNull();
    // A second load (prefetch, double click) does not invalidate the first form.
    const again = await user.navigate(page!.url, toClient);
    expect(again.page?.status).toBe(200);
    const approved = await user.submit(page!, { button: 'approve' });
    expect(approved.status).toBe(303);
    expect(new URL(approved.headers.get('location')!).searchParams.get('code')).toBeTruthy();
    // The form is single use.
    const replay = await user.submit(page!, { button: 'approve' });
    expect(replay.status).toBe(400);
  });

  it('asks once per (user, client): the next sign-in with the same client skips the page, another client is asked', async () => {
    const registered = await h.register({ client_name: 'Remembered' });
    const clientId = String(registered.body.client_id);
    const first = await h.signIn(clientId, 'remember@example.com');
    expect(first.consentShown).toBe(true);
    const second = await h.signIn(clientId, 'remember@example.com', { browser: first.browser });
    expect(second.consentShown).toBe(false);
    const other = await h.register({ client_name: 'Another' });
    const third = await h.signIn(String(other.body.client_id), 'remember@example.com');
    expect(third.consentShown).toBe(true);
    const otherUser = await h.signIn(clientId, 'someone-else@example.com');
    expect(otherUser.consentShown).toBe(true);
  });

  it('a replayed Google callback is refused (the flow cookie is single use)', async () => {
    const registered = await h.register();
    const clientId = String(registered.body.client_id);
    h.provider.setDefaultUser('replay-callback@example.com');
    const browser = new TestBrowser();
    const toGoogle = await browser.request(h.authorizeUrl(clientId).url);
    const atGoogle = await browser.request(toGoogle.headers.get('location')!);
    const callback = new URL(atGoogle.headers.get('location')!);
    const cookie = browser.cookieHeader(callback);
    const first = await browser.navigate(callback, toClient);
    expect(first.page?.status).toBe(200);
    const replay = await fetch(callback, { headers: { cookie }, redirect: 'manual' });
    expect(replay.status).toBe(400);
    expect(replay.headers.get('location')).toBeNull();
  });
});

describe('MCP authorization: errors before consent are pages, never redirects (RFC 9700 §4.11.2)', () => {
  let h: Harness;
  let clientId: string;
  beforeAll(async () => {
    h = await startHarness();
    const registered = await h.register({ redirect_uris: [ATTACKER_REDIRECT] });
    clientId = String(registered.body.client_id);
  });
  afterAll(async () => {
    await h.close();
  });

  const cases: Array<[string, Parameters<Harness['authorizeUrl']>[1]]> = [
    ['code_challenge_method=plain', { method: 'plain' }],
    ['a resource that is not this server', { resource: 'https://other.example/mcp' }],
    ['a scope outside the allow-list', { scope: 'admin' }],
  ];
  for (const [what, options] of cases) {
    it(`answers ${what} with an error page on the server`, async () => {
      const { url } = h.authorizeUrl(clientId, { redirectUri: ATTACKER_REDIRECT, ...options });
      const response = await fetch(url, { redirect: 'manual' });
      expect(response.headers.get('location'), 'redirected an error to the client').toBeNull();
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toContain('text/html');
      expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    });
  }

  it('answers an unknown client and a redirect URI that was not registered with a page', async () => {
    for (const url of [
      h.authorizeUrl('no-such-client', { redirectUri: ATTACKER_REDIRECT }).url,
      h.authorizeUrl(clientId, { redirectUri: 'https://elsewhere.example/cb' }).url,
    ]) {
      const response = await fetch(url, { redirect: 'manual' });
      expect(response.status).toBe(400);
      expect(response.headers.get('location')).toBeNull();
    }
  });

  it('sends no X-Powered-By header', async () => {
    const response = await fetch(`${h.server.url}/.well-known/oauth-authorization-server`);
    expect(response.headers.get('x-powered-by')).toBeNull();
  });
});
