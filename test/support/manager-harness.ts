import { MemoryCredentialStore } from '../../src/index.js';
import {
  CredentialManager,
  type CredentialManagerEvents,
  type CredentialManagerOptions,
} from '../../src/manager/index.js';
import { OAuth21SessionStore } from '../../src/session/index.js';
import type { GoogleLikeProvider } from '../../src/testing/index.js';
import { FakeClock } from './clock.js';
import { REDIRECT_URI } from './oauth.js';

/** Every event a manager emitted, in order. */
export type RecordedEvents = Array<{ name: keyof CredentialManagerEvents; payload: unknown }>;

/**
 * A manager against the Google-like `provider` on a memory store, a session store and a fake clock
 * (set to now, so id_tokens verify), with fast retries; `overrides` replace any of these. With
 * `sessions: false` the manager gets no session store (the one returned is then not its).
 */
export function managerHarness(
  provider: GoogleLikeProvider,
  overrides: Partial<CredentialManagerOptions> = {},
  { sessions = true }: { sessions?: boolean } = {},
) {
  const clock = (overrides.clock as FakeClock | undefined) ?? new FakeClock(Date.now());
  const store = overrides.store ?? new MemoryCredentialStore();
  const sessionStore = overrides.sessionStore ?? new OAuth21SessionStore({ clock });
  const events: RecordedEvents = [];
  const manager = new CredentialManager({
    store,
    sessionStore: sessions ? sessionStore : undefined,
    clock,
    oauth: {
      clientId: provider.clientId,
      clientSecret: provider.clientSecret,
      redirectUri: REDIRECT_URI,
      endpoints: provider.endpoints,
      issuers: [provider.issuer],
    },
    retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
    invalidGrantGraceMs: 50,
    ...overrides,
  });
  for (const name of [
    'refreshed',
    'refresh-failed',
    'refresh-conflict',
    'reauth-required',
    'authorized',
    'revoked',
  ] as const) {
    manager.on(name, (payload) => events.push({ name, payload }));
  }
  return { clock, store, sessionStore, manager, events };
}
