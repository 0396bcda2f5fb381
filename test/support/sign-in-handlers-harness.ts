/**
 * The bearer-mode sign-in handlers as a web-standard host calls them, wired to the Google-like
 * provider: a fresh manager, session store and fake clock per test, and the browser's walk through
 * Google. Shared by the sign-in handler tests.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import {
  createSignInHandlers,
  type SignInHandlers,
  type SignInHandlersOptions,
} from '../../src/http/sign-in-handlers.js';
import type { GoogleLikeProvider } from '../../src/testing/index.js';
import type { FakeClock } from './clock.js';
import { managerHarness } from './manager-harness.js';
import { type RecordedLine, recordingLogger } from './recording-logger.js';

export const CALLBACK = 'https://mcp.example.com/auth/callback';
export const CONNECT = 'https://mcp.example.com/auth/connect';
export const DRIVE = 'https://www.googleapis.com/auth/drive.readonly';

/** A user of its own per call: the provider grants a refresh token only on a user's first consent. */
export function userFactory(prefix: string): () => string {
  let users = 0;
  return () => `${prefix}-${++users}@example.com`;
}

/** Sign-in handlers over a fresh manager and session store (rate limit off unless overridden). */
export function handlersOver(provider: GoogleLikeProvider, overrides: Partial<SignInHandlersOptions> = {}) {
  const harness = managerHarness(provider);
  const lines: RecordedLine[] = [];
  const handlers = createSignInHandlers({
    manager: harness.manager,
    sessionStore: harness.sessionStore,
    redirectUri: CALLBACK,
    serverSecret: randomBytes(32).toString('base64url'),
    rateLimit: false,
    connectUrl: CONNECT,
    clock: harness.clock,
    logger: recordingLogger(lines),
    ...overrides,
  });
  return { ...harness, clock: harness.clock as FakeClock, handlers, lines };
}

export const get = (url: string, headers: Record<string, string> = {}) => new Request(url, { headers });
export const json = { accept: 'application/json' };

/** A started flow through Google: the callback request the browser would make. */
export async function throughGoogle(
  started: Response,
  user: string,
  edit?: (url: URL) => void,
): Promise<(headers?: Record<string, string>) => Request> {
  expect(started.status).toBe(302);
  const cookie = (started.headers.getSetCookie()[0] ?? '').split(';')[0] ?? '';
  const google = new URL(started.headers.get('location') ?? '');
  google.searchParams.set('login_hint', user);
  edit?.(google);
  const back = (await fetch(google, { redirect: 'manual' })).headers.get('location') ?? '';
  return (headers = {}) => get(back, { cookie, ...headers });
}

/** Start, Google, callback: resolves the callback's response. */
export async function signIn(
  handlers: SignInHandlers,
  user: string,
  query = '',
  headers: Record<string, string> = json,
) {
  const started = await handlers.start(get(`https://mcp.example.com/auth/start${query}`));
  return handlers.callback((await throughGoogle(started, user))(headers));
}
