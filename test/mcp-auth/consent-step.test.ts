/**
 * The consent step on its own, as an attacker meets it: a consent request opens only with the
 * sealed cookie of the browser that started it (not another flow's cookie under this flow's name),
 * only before it expires, only with its anti-CSRF token, once; a user who signed out meanwhile gets
 * no code; a client approved before for these scopes skips the page. Every refusal is this
 * server's own page, never a redirect.
 */
import { randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { cookieName } from '../../src/http/cookies.js';
import { Sealer } from '../../src/internal/seal.js';
import { type ClientRecord, ClientRegistry } from '../../src/mcp-auth/clients.js';
import { ConsentApprovals } from '../../src/mcp-auth/consent.js';
import { ConsentStep, type ConsentStepOptions, type Transaction } from '../../src/mcp-auth/consent-step.js';
import { MemorySessionBackend, OAuth21SessionStore } from '../../src/session/index.js';
import { FakeClock } from '../support/clock.js';
import { type RecordedLine, recordingLogger } from '../support/recording-logger.js';

const CONSENT_URL = 'https://mcp.example.com/oauth/consent';
const TTL_MS = 10 * 60_000;
const USER = 'alice@example.com';

interface Setup {
  step: ConsentStep;
  clock: FakeClock;
  lines: RecordedLine[];
  sessionStore: OAuth21SessionStore;
  approvals: ConsentApprovals;
  issued: Array<{ transaction: Transaction; userId: string; generation: string; status?: number }>;
  client: ClientRecord;
  transaction: Transaction;
  generation: string;
  secure: boolean;
}

async function setup(secure = false): Promise<Setup> {
  const clock = new FakeClock();
  const lines: RecordedLine[] = [];
  const backend = new MemorySessionBackend({ clock });
  const sessionStore = new OAuth21SessionStore({ backend, clock });
  const approvals = new ConsentApprovals(backend, clock, 60 * 60_000);
  const clients = new ClientRegistry({
    backend,
    clock,
    pendingTtlMs: 60 * 60_000,
    activeTtlMs: 60 * 60_000,
    maxPending: 100,
  });
  const client = await clients.register({
    client_name: 'Friendly Client',
    redirect_uris: ['https://client.example/cb'],
  });
  const issued: Setup['issued'] = [];
  const options: ConsentStepOptions = {
    sealer: new Sealer(randomBytes(32).toString('base64url')),
    cookies: { secure },
    clock,
    logger: recordingLogger(lines),
    consentUrl: CONSENT_URL,
    transactionTtlMs: TTL_MS,
    sessionStore,
    approvals,
    clients,
    googleScopes: ['openid', 'email'],
    resourceName: 'Example MCP',
    async issueCode(transaction, userId, generation, headers, status) {
      issued.push({ transaction, userId, generation, ...(status === undefined ? {} : { status }) });
      return new Response(null, { status: status ?? 302, headers });
    },
    clientRedirect: (transaction, params) =>
      `${transaction.redirectUri}?${new URLSearchParams({ ...params, state: transaction.state ?? '' })}`,
  };
  const { generation } = await sessionStore.storeSession(USER);
  return {
    step: new ConsentStep(options),
    clock,
    lines,
    sessionStore,
    approvals,
    issued,
    client,
    generation,
    secure,
    transaction: {
      clientId: client.client_id,
      redirectUri: 'https://client.example/cb',
      codeChallenge: 'x'.repeat(43),
      state: 'client-state',
      scopes: ['mcp:tools'],
      resource: 'https://mcp.example.com/mcp',
    },
  };
}

/** A browser's view of one consent request: its id, and the cookie the step set. */
interface Pending {
  id: string;
  cookie: string;
  setCookie: string;
}

async function startConsent(s: Setup, transaction = s.transaction): Promise<Pending> {
  const response = await s.step.afterSignIn(
    transaction,
    { ...s.client, client_id: transaction.clientId },
    USER,
    s.generation,
    new Headers(),
  );
  expect(response.status).toBe(303);
  const location = new URL(response.headers.get('location') ?? '');
  expect(`${location.origin}${location.pathname}`).toBe(CONSENT_URL);
  const id = location.searchParams.get('id') ?? '';
  const setCookie = response.headers.get('set-cookie') ?? '';
  const [pair] = setCookie.split(';');
  return { id, cookie: pair ?? '', setCookie };
}

function getForm(id: string | null, cookie?: string): Request {
  const url = new URL(CONSENT_URL);
  if (id !== null) url.searchParams.set('id', id);
  return new Request(url, cookie === undefined ? {} : { headers: { cookie } });
}

/** The page's anti-CSRF token, as the browser would post it back. */
async function csrfOf(s: Setup, pending: Pending): Promise<string> {
  const page = await s.step.form(getForm(pending.id, pending.cookie));
  expect(page.status).toBe(200);
  const match = /name="csrf" value="([^"]+)"/.exec(await page.text());
  return match?.[1] ?? '';
}

function post(fields: Record<string, string>, cookie?: string, bodyPrefix = ''): Request {
  return new Request(CONSENT_URL, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(cookie === undefined ? {} : { cookie }),
    },
    body: bodyPrefix + new URLSearchParams(fields).toString(),
  });
}

async function answer(s: Setup, pending: Pending, decision: string | undefined): Promise<Response> {
  const csrf = await csrfOf(s, pending);
  return s.step.decision(
    post({ consent: pending.id, csrf, ...(decision === undefined ? {} : { decision }) }, pending.cookie),
  );
}

async function refusal(
  response: Response,
): Promise<{ status: number; text: string; location: string | null }> {
  return { status: response.status, text: await response.text(), location: response.headers.get('location') };
}

const securityWarnings = (lines: RecordedLine[]) =>
  lines.filter((line) => line.level === 'warn' && line.message.startsWith('SECURITY'));

describe('ConsentStep.afterSignIn', () => {
  it('sends a client not approved before to the consent page, with a sealed cookie for this request', async () => {
    const s = await setup();
    const pending = await startConsent(s);
    expect(pending.id).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(pending.setCookie).toMatch(
      new RegExp(`^mcpoc_consent_${pending.id}=[^;]+; Path=/; Max-Age=600; HttpOnly; SameSite=Lax$`),
    );
    expect(s.issued).toEqual([]);
  });

  it('names the cookie __Host- and marks it Secure on https', async () => {
    const s = await setup(true);
    const pending = await startConsent(s);
    expect(pending.setCookie.startsWith(`__Host-mcpoc_consent_${pending.id}=`)).toBe(true);
    expect(pending.setCookie).toMatch(/; Secure$/);
    expect((await s.step.form(getForm(pending.id, pending.cookie))).status).toBe(200);
  });

  it('gives the code at once when the user approved this client for these scopes before', async () => {
    const s = await setup();
    await s.approvals.approve(USER, s.transaction.clientId, ['mcp:tools', 'mcp:admin']);
    const headers = new Headers({ 'x-carried': '1' });
    const response = await s.step.afterSignIn(s.transaction, s.client, USER, s.generation, headers);
    expect(response.status).toBe(302);
    expect(response.headers.get('x-carried')).toBe('1');
    expect(response.headers.get('set-cookie')).toBeNull();
    expect(s.issued).toEqual([{ transaction: s.transaction, userId: USER, generation: s.generation }]);
  });

  it('asks again when the request wants a scope beyond the approved ones, or another client', async () => {
    const s = await setup();
    await s.approvals.approve(USER, s.transaction.clientId, ['mcp:tools']);
    await startConsent(s, { ...s.transaction, scopes: ['mcp:tools', 'mcp:admin'] });
    await startConsent(s, { ...s.transaction, clientId: 'mcpc_another' });
    expect(s.issued).toEqual([]);
  });
});

describe('ConsentStep.form', () => {
  let s: Setup;
  beforeEach(async () => {
    s = await setup();
  });

  it('renders the page for the browser holding this request’s cookie, as often as it is loaded', async () => {
    const pending = await startConsent(s);
    for (let load = 0; load < 2; load += 1) {
      const page = await s.step.form(getForm(pending.id, pending.cookie));
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).toContain('Friendly Client');
      expect(html).toContain(`name="consent" value="${pending.id}"`);
      expect(html).toContain(`action="${CONSENT_URL}"`);
    }
    expect(s.issued).toEqual([]);
  });

  it('refuses an id that is missing or not sixteen URL-safe characters, before reading any cookie', async () => {
    const pending = await startConsent(s);
    for (const id of [
      null,
      '',
      pending.id.slice(1),
      `${pending.id}A`,
      `!${pending.id.slice(1)}`,
      `${pending.id.slice(1)}!`,
    ]) {
      const page = await refusal(await s.step.form(getForm(id, pending.cookie)));
      expect(page, String(id)).toMatchObject({ status: 400, location: null });
      expect(page.text).toContain('This consent request is incomplete.');
    }
    expect(securityWarnings(s.lines)).toEqual([]);
  });

  it('refuses another browser (no cookie) and logs it as a security event', async () => {
    const pending = await startConsent(s);
    const page = await refusal(await s.step.form(getForm(pending.id)));
    expect(page).toMatchObject({ status: 400, location: null });
    expect(page.text).toContain('belongs to another browser');
    expect(securityWarnings(s.lines)).toHaveLength(1);
  });

  it('refuses another flow’s cookie presented under this flow’s name', async () => {
    const mine = await startConsent(s);
    const other = await startConsent(s);
    const otherValue = other.cookie.slice(other.cookie.indexOf('=') + 1);
    const page = await refusal(await s.step.form(getForm(mine.id, `mcpoc_consent_${mine.id}=${otherValue}`)));
    expect(page).toMatchObject({ status: 400, location: null });
    expect(page.text).toContain('belongs to another browser');
  });

  it('refuses a request at its expiry to the millisecond, and serves it the millisecond before', async () => {
    const pending = await startConsent(s);
    s.clock.advance(TTL_MS - 1);
    expect((await s.step.form(getForm(pending.id, pending.cookie))).status).toBe(200);
    s.clock.advance(1);
    const page = await refusal(await s.step.form(getForm(pending.id, pending.cookie)));
    expect(page).toMatchObject({ status: 400, location: null });
    expect(page.text).toContain('This consent request expired.');
  });

  it('says the registration expired when the client is gone', async () => {
    const pending = await startConsent(s, { ...s.transaction, clientId: 'mcpc_unknown' });
    const page = await refusal(await s.step.form(getForm(pending.id, pending.cookie)));
    expect(page).toMatchObject({ status: 400, location: null });
    expect(page.text).toContain('registration expired');
  });
});

describe('ConsentStep.decision', () => {
  let s: Setup;
  beforeEach(async () => {
    s = await setup();
  });

  it('on approval records the approval, clears the cookie and issues the code with a 303', async () => {
    const pending = await startConsent(s);
    const response = await answer(s, pending, 'approve');
    expect(response.status).toBe(303);
    expect(response.headers.get('set-cookie')).toBe(
      `mcpoc_consent_${pending.id}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax`,
    );
    expect(s.issued).toEqual([
      { transaction: s.transaction, userId: USER, generation: s.generation, status: 303 },
    ]);
    expect(await s.approvals.covers(USER, s.transaction.clientId, ['mcp:tools'])).toBe(true);
    expect(s.lines).toContainEqual({
      level: 'info',
      message: 'the user approved an MCP client',
      fields: { clientId: s.transaction.clientId, userId: USER },
    });
  });

  it('on anything but approve sends access_denied to the client, records nothing and clears the cookie', async () => {
    for (const decision of ['deny', undefined, 'APPROVE']) {
      const pending = await startConsent(s);
      const response = await answer(s, pending, decision);
      expect(response.status).toBe(303);
      const location = new URL(response.headers.get('location') ?? '');
      expect(location.origin + location.pathname).toBe('https://client.example/cb');
      expect(location.searchParams.get('error')).toBe('access_denied');
      expect(location.searchParams.get('error_description')).toBe('the user denied the request');
      expect(location.searchParams.get('state')).toBe('client-state');
      expect(response.headers.get('set-cookie')).toMatch(
        new RegExp(`^mcpoc_consent_${pending.id}=; .*Max-Age=0`),
      );
    }
    expect(s.issued).toEqual([]);
    expect(await s.approvals.covers(USER, s.transaction.clientId, [])).toBe(false);
    expect(s.lines).toContainEqual({
      level: 'info',
      message: 'the user denied an MCP client',
      fields: { clientId: s.transaction.clientId, userId: USER },
    });
  });

  it('refuses a wrong or missing anti-CSRF token, logging who was targeted', async () => {
    const pending = await startConsent(s);
    const csrf = await csrfOf(s, pending);
    const other = await startConsent(s);
    const otherCsrf = await csrfOf(s, other);
    const altered = `${csrf.slice(0, -1)}${csrf.endsWith('A') ? 'B' : 'A'}`;
    const forged: Array<Record<string, string>> = [{}, { csrf: '' }, { csrf: otherCsrf }, { csrf: altered }];
    for (const fields of forged) {
      const page = await refusal(
        await s.step.decision(post({ consent: pending.id, decision: 'approve', ...fields }, pending.cookie)),
      );
      expect(page).toMatchObject({ status: 400, location: null });
      expect(page.text).toContain('This form is not valid.');
    }
    expect(securityWarnings(s.lines)).toHaveLength(4);
    expect(securityWarnings(s.lines)[0]?.fields).toEqual({ clientId: s.transaction.clientId, userId: USER });
    expect(s.issued).toEqual([]);
    // The refusals did not use the request up.
    expect(
      (await s.step.decision(post({ consent: pending.id, csrf, decision: 'approve' }, pending.cookie)))
        .status,
    ).toBe(303);
  });

  it('answers once: a replayed approval or a denial after it is refused', async () => {
    const pending = await startConsent(s);
    const csrf = await csrfOf(s, pending);
    expect(
      (await s.step.decision(post({ consent: pending.id, csrf, decision: 'approve' }, pending.cookie)))
        .status,
    ).toBe(303);
    for (const decision of ['approve', 'deny']) {
      const page = await refusal(
        await s.step.decision(post({ consent: pending.id, csrf, decision }, pending.cookie)),
      );
      expect(page).toMatchObject({ status: 400, location: null });
      expect(page.text).toContain('already answered');
    }
    expect(s.issued).toHaveLength(1);
  });

  it('marks the request used until a minute after it expires (replicas’ clocks differ)', async () => {
    const pending = await startConsent(s);
    const csrf = await csrfOf(s, pending);
    s.clock.advance(120_000);
    const single = vi.spyOn(s.sessionStore, 'recordSingleUse');
    await s.step.decision(post({ consent: pending.id, csrf, decision: 'approve' }, pending.cookie));
    expect(single).toHaveBeenCalledTimes(1);
    expect(single.mock.calls[0]?.[1]).toBe(TTL_MS - 120_000 + 60_000);
  });

  it('gives no code to a user who signed out, or signed out and in again, meanwhile', async () => {
    for (const signInAgain of [false, true]) {
      const pending = await startConsent(s);
      const csrf = await csrfOf(s, pending);
      await s.sessionStore.removeSession(USER);
      if (signInAgain) await s.sessionStore.storeSession(USER);
      const response = await s.step.decision(
        post({ consent: pending.id, csrf, decision: 'approve' }, pending.cookie),
      );
      expect(response.headers.get('set-cookie')).toMatch(
        new RegExp(`^mcpoc_consent_${pending.id}=; .*Max-Age=0`),
      );
      const page = await refusal(response);
      expect(page).toMatchObject({ status: 400, location: null });
      expect(page.text).toContain('You signed out meanwhile.');
      s.generation = (await s.sessionStore.storeSession(USER)).generation;
    }
    expect(s.issued).toEqual([]);
    expect(await s.approvals.covers(USER, s.transaction.clientId, [])).toBe(false);
  });

  it('refuses a post without this browser’s cookie, an expired request, or a malformed id', async () => {
    const pending = await startConsent(s);
    const csrf = await csrfOf(s, pending);
    const fields = { consent: pending.id, csrf, decision: 'approve' };
    expect((await refusal(await s.step.decision(post(fields)))).text).toContain('belongs to another browser');
    expect(
      (await refusal(await s.step.decision(post({ ...fields, consent: 'short' }, pending.cookie)))).text,
    ).toContain('is incomplete');
    expect(
      (await refusal(await s.step.decision(post({ csrf, decision: 'approve' }, pending.cookie)))).text,
    ).toContain('is incomplete');
    s.clock.advance(TTL_MS);
    expect((await refusal(await s.step.decision(post(fields, pending.cookie)))).text).toContain('expired');
    expect(s.issued).toEqual([]);
  });

  it('reads only the first 4 KiB of the form, and an unreadable body as an empty form', async () => {
    const pending = await startConsent(s);
    const csrf = await csrfOf(s, pending);
    const fields = { consent: pending.id, csrf, decision: 'approve' };
    const padded = await refusal(
      await s.step.decision(post(fields, pending.cookie, `pad=${'x'.repeat(4096)}&`)),
    );
    expect(padded).toMatchObject({ status: 400 });
    expect(padded.text).toContain('is incomplete');

    const used = post(fields, pending.cookie);
    await used.text();
    const unreadable = await refusal(await s.step.decision(used));
    expect(unreadable).toMatchObject({ status: 400 });
    expect(unreadable.text).toContain('is incomplete');
    expect(s.issued).toEqual([]);
  });
});

describe('consent cookie naming', () => {
  it('is per request, so two tabs’ consent requests do not overwrite each other', async () => {
    const s = await setup();
    const first = await startConsent(s);
    const second = await startConsent(s);
    expect(first.id).not.toBe(second.id);
    expect(first.cookie.split('=')[0]).toBe(cookieName(`mcpoc_consent_${first.id}`, { secure: false }));
    const both = `${first.cookie}; ${second.cookie}`;
    expect((await answer(s, first, 'approve')).status).toBe(303);
    expect((await s.step.form(getForm(second.id, both))).status).toBe(200);
  });
});
