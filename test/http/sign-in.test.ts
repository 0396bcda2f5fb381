/**
 * The browser sign-in (bearer mode) as an attacker meets it: pending sign-ins that a flood cannot
 * evict (the flow lives in a sealed, browser-bound cookie), single-use callbacks, no account oracle at
 * /auth/start, identity by Google's `sub` with a verified email, domain and user allow-lists, and
 * pages that cannot be framed.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ExampleServer,
  type ExampleServerConfig,
  startExampleServer,
} from '../../examples/express/server.js';
import { MemoryCredentialStore, type StoreOperationEvent } from '../../src/index.js';
import { TestBrowser } from '../../src/testing/browser.js';
import { type GoogleLikeProvider, startGoogleLikeProvider } from '../../src/testing/index.js';
import { OffsetClock, recordingLogger } from '../support/mcp-auth-harness.js';

interface BearerHarness {
  provider: GoogleLikeProvider;
  server: ExampleServer;
  store: MemoryCredentialStore;
  operations: StoreOperationEvent[];
  log: ReturnType<typeof recordingLogger>['lines'];
  /** Signs `user` in with a browser; resolves the callback page as JSON. */
  signIn(user: string, browser?: TestBrowser): Promise<{ status: number; body: Record<string, unknown> }>;
  close(): Promise<void>;
}

async function startBearer(config: Partial<ExampleServerConfig> = {}): Promise<BearerHarness> {
  const provider = await startGoogleLikeProvider();
  const operations: StoreOperationEvent[] = [];
  const store = new MemoryCredentialStore({ onOperation: (event) => operations.push(event) });
  const recorded = recordingLogger();
  const server = await startExampleServer({
    ...provider.clientSettings(),
    port: 0,
    store,
    clock: new OffsetClock(),
    logger: recorded.logger,
    serverSecret: randomBytes(32).toString('base64url'),
    ...config,
  } as ExampleServerConfig);
  return {
    provider,
    server,
    store,
    operations,
    log: recorded.lines,
    async signIn(user, browser = new TestBrowser()) {
      provider.setDefaultUser(user);
      const { page } = await browser.navigate(
        `${server.url}/auth/start?${new URLSearchParams({ login_hint: user })}`,
        () => false,
        {
          headers: { accept: 'application/json' },
        },
      );
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(page!.html) as Record<string, unknown>;
      } catch {
        body = { html: page!.html };
      }
      return { status: page!.status, body };
    },
    async close() {
      await server.close();
      await provider.close();
    },
  };
}

describe('bearer sign-in: pending flows that nothing can evict', () => {
  let h: BearerHarness;
  beforeAll(async () => {
    h = await startBearer({ signIn: { rateLimit: false } });
  });
  afterAll(async () => {
    await h.close();
  });

  it('a flood of unauthenticated /auth/start requests writes nothing and evicts no pending sign-in', async () => {
    h.provider.setDefaultUser('patient@example.com');
    const browser = new TestBrowser();
    const start = await browser.request(`${h.server.url}/auth/start`);
    expect(start.status).toBe(302);
    const atGoogle = await browser.request(start.headers.get('location')!);
    const callback = atGoogle.headers.get('location')!;
    const before = await h.server.sessionStore.stats();
    for (let i = 0; i < 300; i++) {
      const flood = await fetch(`${h.server.url}/auth/start`, { redirect: 'manual' });
      expect(flood.status).toBe(302);
    }
    expect(await h.server.sessionStore.stats()).toEqual(before);
    const done = await browser.navigate(callback, () => false, { headers: { accept: 'application/json' } });
    expect(done.page?.status).toBe(200);
    expect(JSON.parse(done.page!.html).user_id).toBe('patient@example.com');
  });

  it('a callback replayed with the same cookie is refused', async () => {
    h.provider.setDefaultUser('once@example.com');
    const browser = new TestBrowser();
    const start = await browser.request(`${h.server.url}/auth/start`);
    const atGoogle = await browser.request(start.headers.get('location')!);
    const callback = new URL(atGoogle.headers.get('location')!);
    const cookie = browser.cookieHeader(callback);
    const first = await browser.request(callback, { headers: { accept: 'application/json' } });
    expect(first.status).toBe(200);
    const replay = await fetch(callback, { headers: { cookie, accept: 'application/json' } });
    expect(replay.status).toBe(400);
  });

  it('a callback in another browser (no flow cookie) is refused', async () => {
    h.provider.setDefaultUser('elsewhere@example.com');
    const start = await fetch(`${h.server.url}/auth/start`, { redirect: 'manual' });
    const atGoogle = await fetch(start.headers.get('location')!, { redirect: 'manual' });
    const response = await fetch(atGoogle.headers.get('location')!, {
      headers: { accept: 'application/json' },
    });
    expect(response.status).toBe(400);
    expect(await h.store.get('elsewhere@example.com')).toBeUndefined();
  });

  it('/auth/start reads no store and looks the same whether or not a refresh token is on file', async () => {
    expect((await h.signIn('onfile@example.com')).status).toBe(200);
    expect((await h.store.get('onfile@example.com'))?.credentials.refreshToken).toBeDefined();
    h.operations.length = 0;
    const shape = async (user: string) => {
      const response = await fetch(`${h.server.url}/auth/start?login_hint=${user}`, { redirect: 'manual' });
      const url = new URL(response.headers.get('location')!);
      for (const varying of ['state', 'code_challenge', 'login_hint']) url.searchParams.delete(varying);
      return url.href;
    };
    expect(await shape('onfile@example.com')).toBe(await shape('nobody-yet@example.com'));
    expect(h.operations).toEqual([]);
  });

  it('asks Google for consent again when the callback brings no refresh token and none is on file', async () => {
    // The provider remembers consent: a second sign-in for a user whose record was deleted brings no
    // refresh token, so the server goes back to Google with prompt=consent before finishing.
    expect((await h.signIn('again@example.com')).status).toBe(200);
    await h.store.delete('again@example.com');
    const browser = new TestBrowser();
    const result = await h.signIn('again@example.com', browser);
    expect(result.status).toBe(200);
    expect(result.body.refresh_token_stored).toBe(true);
    const prompts = browser.visited.filter(
      (url) => url.origin === h.provider.url && url.pathname === '/authorize',
    );
    expect(prompts.map((url) => url.searchParams.get('prompt'))).toEqual([null, 'consent']);
  });

  it('pages that show a token cannot be framed and carry a strict CSP', async () => {
    h.provider.setDefaultUser('framed@example.com');
    const browser = new TestBrowser();
    const { page } = await browser.navigate(`${h.server.url}/auth/start`);
    expect(page!.status).toBe(200);
    expect(page!.html).toContain('Authorization: Bearer');
    expect(page!.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(page!.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page!.headers.get('x-frame-options')).toBe('DENY');
    expect(page!.headers.get('x-powered-by')).toBeNull();
  });
});

describe('bearer sign-in: rate limit', () => {
  it('limits /auth/start per client address', async () => {
    const h = await startBearer({ signIn: { rateLimit: { limit: 3, windowMs: 60_000 } } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++)
        statuses.push((await fetch(`${h.server.url}/auth/start`, { redirect: 'manual' })).status);
      expect(statuses).toEqual([302, 302, 302, 429]);
    } finally {
      await h.close();
    }
  });
});

describe('bearer sign-in: identity', () => {
  let h: BearerHarness;
  beforeAll(async () => {
    h = await startBearer({ signIn: { rateLimit: false } });
  });
  afterAll(async () => {
    await h.close();
  });

  it('an address that now belongs to another Google account does not inherit the old grant', async () => {
    const first = await h.signIn('recycled@example.com');
    expect(first.status).toBe(200);
    const oldBearer = String(first.body.access_token);
    const oldRefresh = (await h.store.get('recycled@example.com'))!.credentials.refreshToken!;
    expect(h.provider.isRefreshTokenLive(oldRefresh)).toBe(true);

    h.provider.setUserClaims('recycled@example.com', { sub: '999000999000999' });
    const second = await h.signIn('recycled@example.com');
    expect(second.status).toBe(200);
    const stored = (await h.store.get('recycled@example.com'))!.credentials;
    expect(stored.refreshToken).not.toBe(oldRefresh);
    expect(stored.subject).toBe('999000999000999');
    expect(h.provider.isRefreshTokenLive(oldRefresh)).toBe(false);
    const status = await fetch(`${h.server.url}/auth/status`, {
      headers: { authorization: `Bearer ${oldBearer}` },
    });
    expect(status.status).toBe(401);
    const warning = h.log.find(
      (line) => line.level === 'warn' && /another Google account/.test(line.message),
    );
    expect(warning?.fields).toMatchObject({ userId: 'recycled@example.com' });
  });

  for (const [what, claims] of [
    ['email_verified: false', { email_verified: false }],
    ['no email_verified', { email_verified: null }],
  ] as const) {
    it(`refuses a sign-in with ${what}, storing nothing`, async () => {
      const user = `unverified-${what.length}@example.com`;
      h.provider.setUserClaims(user, claims);
      const result = await h.signIn(user);
      expect(result.status).toBe(403);
      expect(await h.store.get(user)).toBeUndefined();
    });
  }
});

describe('bearer sign-in: allowed domains and users', () => {
  it('admits only the hosted domain and the listed users', async () => {
    const h = await startBearer({
      signIn: { rateLimit: false },
      access: { allowedDomains: ['corp.example'], allowedUsers: ['contractor@gmail.example'] },
    });
    try {
      h.provider.setUserClaims('staff@corp.example', { hd: 'corp.example' });
      expect((await h.signIn('staff@corp.example')).status).toBe(200);
      // The email's domain alone is not enough: Google's hosted-domain claim decides.
      expect((await h.signIn('lookalike@corp.example')).status).toBe(403);
      expect(await h.store.get('lookalike@corp.example')).toBeUndefined();
      expect((await h.signIn('contractor@gmail.example')).status).toBe(200);
      expect((await h.signIn('stranger@gmail.example')).status).toBe(403);
    } finally {
      await h.close();
    }
  });
});
