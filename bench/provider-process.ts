/**
 * The Google-like provider in its own process (the refresh storm's load must not share a thread with
 * the manager it measures). Talks over the IPC channel: it answers each message `{ id, call, args }`
 * with `{ id, result }`.
 */
import { startGoogleLikeProvider } from 'mcp-oauth-credentials/testing';

const provider = await startGoogleLikeProvider({ signingAlgorithm: 'EdDSA' });
const calls: Record<string, (...args: never[]) => unknown> = {
  info: () => ({
    clientId: provider.clientId,
    clientSecret: provider.clientSecret,
    endpoints: provider.endpoints,
    issuer: provider.issuer,
  }),
  issueGrants: (prefix: string, count: number) =>
    Array.from({ length: count }, (_, i) => provider.issueGrant(`${prefix}${i}@example.com`)),
  setTokenLatency: (ms: number) => provider.setTokenLatency(ms),
  resetCounters: () => provider.resetCounters(),
  counters: () => ({ ...provider.counters, refreshTokensUsed: [...provider.counters.refreshTokensUsed] }),
  close: async () => {
    await provider.close();
    setImmediate(() => process.exit(0));
  },
};
process.on('message', async (message: { id: number; call: string; args: unknown[] }) => {
  const result = await (calls[message.call] as (...args: unknown[]) => unknown)(...message.args);
  process.send?.({ id: message.id, result });
});
process.send?.({ id: 0, result: 'ready' });
