// Profiling aid (not part of npm run bench): node --cpu-prof --import tsx bench/profile-hot.ts [users] [hot]
import { CredentialManager, MemoryCredentialStore, OAuth21SessionStore } from 'mcp-oauth-credentials';

const users = Number(process.argv[2] ?? 1000);
const hot = process.argv[3] === 'hot';
const store = new MemoryCredentialStore();
const sessionStore = new OAuth21SessionStore();
const manager = new CredentialManager({
  store,
  sessionStore,
  oauth: { clientId: 'c', clientSecret: 's' },
  credentialsCacheSize: users,
});
const tokens: string[] = [];
const sessions: string[] = [];
for (let i = 0; i < users; i++) {
  const userId = `user${i}@example.com`;
  await store.put(userId, {
    userId,
    accessToken: `ya29.${i}`,
    refreshToken: `1//${i}`,
    expiresAt: Date.now() + 3_600_000,
    scopes: ['openid'],
    tokenType: 'Bearer',
  });
  await sessionStore.storeSession(userId, { mcpSessionId: `mcp-${i}` });
  sessions.push(`mcp-${i}`);
  tokens.push((await sessionStore.issueBearerToken(userId)).token);
  await manager.getValidCredentials(userId);
}
let sink = 0;
const started = Date.now();
for (let j = 0; j < 3_000_000; j++) {
  const i = hot ? 7 : j % users;
  const info = await sessionStore.verifyAccessToken(tokens[i]!);
  const userId = info.extra?.userId as string;
  await sessionStore.getCredentialsWithValidation({
    requestedUser: userId,
    tokenUser: userId,
    mcpSessionId: sessions[i],
  });
  sink += (await manager.getValidCredentials(userId)).accessToken.length;
}
console.log(`${((Date.now() - started) / 3).toFixed(0)} ns/op`, sink > 0);
