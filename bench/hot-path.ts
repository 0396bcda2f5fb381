/**
 * 1. The full request path of an authenticated tool call, as the example servers run it:
 * `verifyBearerToken`, the MCP session guard, and the tool helper (`toolAuth.forRequest`: the access
 * rule, the user's cached credentials, the user's context), for a signed-in user with fresh
 * credentials, with 1,000 and 100,000 users loaded and the package's default settings, against a
 * bare `Map.get` of the same record measured the same way.
 */
import { MemoryCredentialStore, type StoredCredentials } from 'mcp-oauth-credentials';
import { createMcpSessionGuard, createToolAuth } from 'mcp-oauth-credentials/http';
import { CredentialManager } from 'mcp-oauth-credentials/manager';
import { OAuth21SessionStore } from 'mcp-oauth-credentials/session';
import { fmt, measureLatency, measureOps } from './lib.js';

/** Users loaded for the hot path, and one tool call for user `i`. */
export interface Loaded {
  tokens: string[];
  sessions: string[];
  users: string[];
  verify: (i: number) => Promise<{ userId: string }>;
  baseline: (i: number) => StoredCredentials | undefined;
}

export async function load(users: number): Promise<Loaded> {
  // Package defaults: no cache sized to the benchmark.
  const store = new MemoryCredentialStore();
  const sessionStore = new OAuth21SessionStore();
  const manager = new CredentialManager({
    store,
    sessionStore,
    oauth: { clientId: 'bench-client', clientSecret: 'bench-secret' },
  });
  const guard = createMcpSessionGuard({ sessionStore });
  const toolAuth = createToolAuth({ manager, sessionStore });
  const map = new Map<string, StoredCredentials>();
  const tokens: string[] = [];
  const sessions: string[] = [];
  const ids: string[] = [];
  const expiresAt = Date.now() + 3 * 60 * 60 * 1000;
  for (let i = 0; i < users; i++) {
    const userId = `user${i}@example.com`;
    const record: StoredCredentials = {
      userId,
      accessToken: `ya29.bench-${i}`,
      refreshToken: `1//bench-${i}`,
      expiresAt,
      scopes: ['openid', 'email'],
      tokenType: 'Bearer',
    };
    await store.put(userId, record);
    map.set(userId, record);
    await sessionStore.storeSession(userId, { mcpSessionId: `mcp-session-${i}`, scopes: record.scopes });
    tokens.push((await sessionStore.issueBearerToken(userId)).token);
    sessions.push(`mcp-session-${i}`);
    ids.push(userId);
    await manager.getValidCredentials(userId); // cached, as after the user's first call
  }
  return {
    tokens,
    sessions,
    users: ids,
    verify: async (i) => {
      const auth = await sessionStore.verifyBearerToken(tokens[i]!);
      const refused = await guard.check(sessions[i], auth);
      if (refused !== undefined) throw new Error('the guard refused a bound session');
      return toolAuth.forRequest({ authInfo: auth, sessionId: sessions[i] });
    },
    baseline: (i) => map.get(ids[i]!),
  };
}

export interface HotPathRow {
  users: number;
  pattern: 'one user' | 'round robin' | 'random';
  opsPerSecond: number;
  nsPerOp: number;
  p50: number;
  p99: number;
  baselineNsPerOp: number;
  baselineP99: number;
  timerNs: number;
}

export async function hotPath(
  log: (line: string) => void,
): Promise<{ rows: HotPathRow[]; markdown: string }> {
  const rows: HotPathRow[] = [];
  for (const users of [1_000, 100_000]) {
    log(`  hot path: loading ${users} users`);
    const loaded = await load(users);
    // A fixed pseudo-random order (the same for the path and its baseline), read from an array.
    const order = Uint32Array.from({ length: 1 << 20 }, (_, i) => Math.floor(mulberry32(i) * users));
    for (const pattern of ['one user', 'round robin', 'random'] as const) {
      const index =
        pattern === 'one user'
          ? () => 7
          : pattern === 'round robin'
            ? (i: number) => i % users
            : (i: number) => order[i & (order.length - 1)]!;
      const op = (i: number) => loaded.verify(index(i));
      // The baseline runs through the same awaited loop, so harness costs cancel out in the ratio.
      const baselineOp = async (i: number) => loaded.baseline(index(i));
      const ops = await measureOps(op);
      const latency = await measureLatency(op);
      const baseline = await measureOps(baselineOp);
      const baselineLatency = await measureLatency(baselineOp);
      rows.push({
        users,
        pattern,
        opsPerSecond: ops.opsPerSecond,
        nsPerOp: ops.nsPerOp,
        p50: latency.p50,
        p99: latency.p99,
        baselineNsPerOp: baseline.nsPerOp,
        baselineP99: baselineLatency.p99,
        timerNs: latency.timerNs,
      });
      log(
        `  hot path: ${users} users, ${pattern}: ${fmt.int(ops.opsPerSecond)} ops/s, p99 ${fmt.ns(latency.p99)}`,
      );
    }
  }
  const row = (users: number, pattern: HotPathRow['pattern']) =>
    rows.find((r) => r.users === users && r.pattern === pattern)!;
  const slowdown = (pattern: HotPathRow['pattern']) =>
    row(100_000, pattern).nsPerOp / row(1_000, pattern).nsPerOp;
  const target = row(1_000, 'one user');
  const big = row(100_000, 'one user');
  const random = row(100_000, 'random');
  const lines = [
    '## 1. Full request path: verifyBearerToken + MCP session guard + toolAuth.forRequest',
    '',
    'One authenticated tool call as the example servers run it, for a signed-in user with fresh credentials: the',
    'bearer token verified, the MCP session guard, and the tool helper (access rule, cached credentials, the',
    "user's context). Memory backends and **the package's defaults** (credentials cache, session limits,",
    'verified-token cache), the package as built in `dist/`. Timed in a loop of awaited calls (median of 7 rounds of',
    '300,000) and one by one for percentiles (200,000 samples; each reading includes the timer itself, about',
    `${fmt.ns(target.timerNs)}). Baseline: a bare \`Map.get\` of the same record through the same awaited loop.`,
    '"One user": every call for the same user with N users loaded; "round robin": each call for the next user;',
    '"random": a fixed pseudo-random order (both of the latter miss the CPU caches).',
    '',
    '| users | pattern | ops/s | median per op | p50 | p99 | baseline per op | ratio to baseline |',
    '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${fmt.int(r.users)} | ${r.pattern} | ${fmt.int(r.opsPerSecond)} | ${fmt.ns(r.nsPerOp)} | ${fmt.ns(r.p50)} | ${fmt.ns(r.p99)} | ${fmt.ns(r.baselineNsPerOp)} | ${fmt.ratio(r.nsPerOp / r.baselineNsPerOp)} |`,
    ),
    '',
    '| target | measured | |',
    '| --- | --- | --- |',
    `| ≥ 1,000,000 ops/s on one core (1,000 users, one user) | ${fmt.int(target.opsPerSecond)} ops/s | ${fmt.ok(target.opsPerSecond >= 1_000_000)} |`,
    `| ≥ 250,000 ops/s on one core (100,000 users, random, defaults) | ${fmt.int(random.opsPerSecond)} ops/s | ${fmt.ok(random.opsPerSecond >= 250_000)} |`,
    `| p99 < 5 µs (1,000 / 100,000 users, one user) | ${fmt.ns(target.p99)} / ${fmt.ns(big.p99)} | ${fmt.ok(target.p99 < 5_000 && big.p99 < 5_000)} |`,
    `| ≤ 1.5× slowdown from 1,000 to 100,000 users (one user) | ${fmt.ratio(slowdown('one user'))} | ${fmt.ok(slowdown('one user') <= 1.5)} |`,
    `| (reported) slowdown from 1,000 to 100,000 users, round robin / random | ${fmt.ratio(slowdown('round robin'))} / ${fmt.ratio(slowdown('random'))} | |`,
    '',
  ];
  return { rows, markdown: lines.join('\n') };
}

/** A deterministic number in [0, 1) from a seed (mulberry32), so every run visits users in one order. */
function mulberry32(seed: number): number {
  let t = (seed + 0x6d2b79f5) | 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
