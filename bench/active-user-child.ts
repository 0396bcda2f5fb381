/**
 * 4b. Memory of a fully active user (run in its own process with --expose-gc): every user signed in
 * (session, bearer token, bound MCP session) and through one tool call on the full request path
 * (verification, guard, tool helper), so every in-process map holds them: sessions, tokens,
 * bindings, indexes, remembered verifications and bindings, the credentials cache. The credential
 * store is outside the measurement (a store that builds records on request, as a remote one would).
 * argv[2]: `memory` (session state in process) or a Redis URL (session state in Redis).
 * Prints one JSON line.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { CredentialStore, StoredCredentials } from 'mcp-oauth-credentials';
import { createMcpSessionGuard, createToolAuth } from 'mcp-oauth-credentials/http';
import { CredentialManager } from 'mcp-oauth-credentials/manager';
import { RedisSessionBackend } from 'mcp-oauth-credentials/redis';
import { OAuth21SessionStore } from 'mcp-oauth-credentials/session';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
const USERS = 50_000;
const target = process.argv[2] ?? 'memory';

function heap(): number {
  for (let i = 0; i < 3; i++) gc!();
  return process.memoryUsage().heapUsed;
}

const expiresAt = Date.now() + 3 * 60 * 60 * 1000;
// A realistic record: Google access tokens are ~220 characters, refresh tokens ~100.
const record = (userId: string): StoredCredentials => ({
  userId,
  accessToken: `ya29.${randomBytes(160).toString('base64url')}`,
  refreshToken: `1//${randomBytes(75).toString('base64url')}`,
  expiresAt,
  scopes: [
    'openid',
    'https://www.googleapis.com/auth/userinfo.email',
    'https://www.googleapis.com/auth/drive.readonly',
  ],
  tokenType: 'Bearer',
});
const remoteStore: CredentialStore = {
  get: async (userId) => ({ credentials: record(userId), version: 'v1' }),
  put: async () => 'v2',
  delete: async () => true,
  async *list() {},
};

const client = target === 'memory' ? undefined : new Redis(target);
// Time stands still: every user stays "active" (within every remembered lifetime) however long
// signing 50,000 users in takes, so nothing is swept or re-read between the two readings.
const clock = { now: () => expiresAt - 2 * 60 * 60 * 1000 };
const sessionStore = new OAuth21SessionStore({
  clock,
  ...(client === undefined
    ? {}
    : {
        backend: new RedisSessionBackend({ client, keyPrefix: `active-${randomBytes(4).toString('hex')}:` }),
      }),
});
const manager = new CredentialManager({
  clock,
  store: remoteStore,
  sessionStore,
  oauth: { clientId: 'bench-client', clientSecret: 'bench-secret' },
});
const guard = createMcpSessionGuard({ sessionStore });
const toolAuth = createToolAuth({ manager, sessionStore });

// Everything the first user brings into being once (code, maps) is outside the per-user figure.
const warm = async (i: number) => {
  const userId = `user${i}@example.com`;
  const mcpSessionId = `mcp-${randomBytes(16).toString('hex')}`;
  await sessionStore.storeSession(userId, {
    scopes: ['openid', 'email'],
    issuer: 'https://accounts.google.com',
  });
  const { token } = await sessionStore.issueBearerToken(userId);
  await sessionStore.bindMcpSession(mcpSessionId, userId);
  const auth = await sessionStore.verifyBearerToken(token);
  if ((await guard.check(mcpSessionId, auth)) !== undefined) throw new Error('refused');
  await sessionStore.getCredentialsWithValidation({
    requestedUser: userId,
    tokenUser: userId,
    mcpSessionId,
    authInfo: auth,
  });
  return { token, auth, mcpSessionId };
};
const first = await warm(-1);
await toolAuth.forRequest({ authInfo: first.auth, sessionId: first.mcpSessionId });
// What each user's next request carries (their bearer token and MCP session id), in slots allocated
// before the first reading so that only what the package keeps is counted.
const tokens: Array<string | undefined> = new Array(USERS).fill(undefined);
const mcpSessionIds: Array<string | undefined> = new Array(USERS).fill(undefined);
const before = heap();
for (let i = 0; i < USERS; i++) {
  const { token, mcpSessionId } = await warm(i);
  tokens[i] = token;
  mcpSessionIds[i] = mcpSessionId;
}
const sessionState = heap();
// Then each user's tool call through the tool helper, as a server makes it: the manager caches
// their credentials.
for (let i = 0; i < USERS; i++) {
  const authInfo = await sessionStore.verifyBearerToken(tokens[i]!);
  await toolAuth.forRequest({ authInfo, sessionId: mcpSessionIds[i]! });
}
tokens.fill(undefined);
mcpSessionIds.fill(undefined);
const withCredentials = heap();
process.stdout.write(
  `${JSON.stringify({
    target: client === undefined ? 'memory' : 'redis',
    users: USERS,
    sessionStateBytesPerUser: (sessionState - before) / USERS,
    credentialsCacheBytesPerUser: (withCredentials - sessionState) / USERS,
    bytesPerUser: (withCredentials - before) / USERS,
    cached: manager.stats().cachedCredentials,
  })}\n`,
);
await client?.quit();
