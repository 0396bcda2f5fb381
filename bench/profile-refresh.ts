// Profiling aid (not part of npm run bench): TSX_TSCONFIG_PATH=bench/tsconfig.dist.json node [--cpu-prof] --import tsx bench/profile-refresh.ts
// Runs only section 3b (the manager's refresh CPU against google-auth-library alone) and prints its table;
// BENCH_STORM_ONLY=manager or =library runs one side alone (7 storms), for a CPU profile of each.
import { managerCostPairs, startProviderProcess } from './refresh.js';

const remote = await startProviderProcess();
try {
  const info = (await remote.call('info')) as {
    clientId: string;
    clientSecret: string;
    endpoints: Record<string, string>;
  };
  await remote.call('setTokenLatency', 20);
  const lines = await managerCostPairs(remote, info, 100, console.log);
  console.log(lines.join('\n'));
} finally {
  await remote.close();
}
