/**
 * 4. Memory (run in its own process with --expose-gc): resident and heap memory for 100,000 sessions
 * with a bearer token each, and proof that `max` bounds it when 1,000,000 arrive.
 * Prints one JSON line.
 */
import { OAuth21SessionStore } from 'mcp-oauth-credentials/session';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

function settle(): { heap: number; rss: number } {
  for (let i = 0; i < 3; i++) gc!();
  const usage = process.memoryUsage();
  return { heap: usage.heapUsed, rss: usage.rss };
}

async function fill(store: OAuth21SessionStore, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i++) {
    const userId = `user${i}@example.com`;
    await store.storeSession(userId, { scopes: ['openid', 'email'], issuer: 'https://accounts.google.com' });
    await store.issueBearerToken(userId);
  }
}

const before = settle();
let sized: OAuth21SessionStore | undefined = new OAuth21SessionStore({
  maxSessions: 100_000,
  maxBearerTokens: 100_000,
});
await fill(sized, 0, 100_000);
const at100k = settle();
const statsAt100k = await sized.stats();
sized = undefined;
const beforeFlood = settle();

const flooded = new OAuth21SessionStore({ maxSessions: 100_000, maxBearerTokens: 100_000 });
const samples: Array<{ inserted: number; heap: number; rss: number }> = [];
for (let inserted = 0; inserted < 1_000_000; inserted += 250_000) {
  await fill(flooded, inserted, inserted + 250_000);
  const usage = settle();
  samples.push({ inserted: inserted + 250_000, heap: usage.heap, rss: usage.rss });
}
const statsAfterFlood = await flooded.stats();
process.stdout.write(
  `${JSON.stringify({ before, at100k, statsAt100k, beforeFlood, samples, statsAfterFlood, alive: sized === undefined })}\n`,
);
