/**
 * 10. Storage round trips per operation: what the credential manager asks of its store for a sign-in
 * (new and returning user), a tool call (cached, and idle past the cache lifetime), a refresh and a
 * revoke, counted through the store's `onOperation` events (every built-in store emits one per
 * call, and each is one request to S3, PostgreSQL or DynamoDB), against the minimum each needs.
 */
import { MemoryCredentialStore, type StoreOperationEvent } from 'mcp-oauth-credentials';
import { CredentialManager } from 'mcp-oauth-credentials/manager';
import { startGoogleLikeProvider } from 'mcp-oauth-credentials/testing';
import { REDIRECT_URI, setStoredExpiry, signIn } from '../test/support/oauth.js';

export async function roundTripsBenchmark(log: (line: string) => void): Promise<string> {
  log('  round trips: counting store operations per manager operation');
  const provider = await startGoogleLikeProvider();
  try {
    const events: StoreOperationEvent[] = [];
    const store = new MemoryCredentialStore({ onOperation: (event) => events.push(event) });
    let now = Date.now();
    const clock = { now: () => now };
    const manager = new CredentialManager({ store, clock, oauth: provider.oauthOptions(REDIRECT_URI) });
    const measure = async (work: () => Promise<unknown>, settle = false) => {
      events.length = 0;
      await work();
      if (settle) await new Promise((resolve) => setImmediate(resolve));
      return events.map((event) => event.operation).join(' + ') || 'none';
    };
    const user = 'trips@example.com';
    const rows: Array<[string, string, string, string]> = [];
    rows.push([
      'sign-in, new user',
      await measure(() => signIn(manager, provider, user, { prompt: 'consent' })),
      'put (only if absent)',
      'not at the minimum: a put-first sign-in would save the get here but cost a returning user a third call',
    ]);
    rows.push([
      'sign-in, returning user',
      await measure(() => signIn(manager, provider, user)),
      'get + put',
      'the read carries the refresh token over (Google omits it) and detects another account at the address',
    ]);
    rows.push(['tool call, cached', await measure(() => manager.getValidCredentials(user)), 'none', '']);
    now += 61_000;
    rows.push([
      'tool call, idle past credentialsCacheTtlMs',
      await measure(() => manager.getValidCredentials(user), true),
      'none before answering (get behind it)',
      'answered from memory; one background get, once per user',
    ]);
    await setStoredExpiry(store, user, now - 1);
    now += 3_600_000;
    rows.push([
      'refresh (token expired)',
      await measure(() => manager.getValidCredentials(user)),
      'put (conditional, on a cached version)',
      'kept above the minimum on purpose: the read finds a refresh another replica saved meanwhile, so the provider is asked once',
    ]);
    rows.push([
      'revoke',
      await measure(() => manager.revoke(user)),
      'get + delete',
      'the read finds the refresh token to revoke at the provider',
    ]);
    return [
      '## 10. Storage round trips per operation',
      '',
      "Store operations the manager makes, counted through the store's `onOperation` events (one per call; each is",
      'one request to S3, PostgreSQL or DynamoDB; the file store adds its lock file around a write).',
      '',
      '| operation | measured | minimum | why |',
      '| --- | --- | --- | --- |',
      ...rows.map(([what, measured, minimum, why]) => `| ${what} | ${measured} | ${minimum} | ${why} |`),
      '',
    ].join('\n');
  } finally {
    await provider.close();
  }
}
