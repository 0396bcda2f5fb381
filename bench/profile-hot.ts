// Profiling aid (not part of npm run bench): node --cpu-prof --import tsx bench/profile-hot.ts [users] [hot]
// Runs the benchmark's own hot path (bench/hot-path.ts) in a plain loop, so a CPU profile shows only it.
import { load } from './hot-path.js';

const users = Number(process.argv[2] ?? 1000);
const hot = process.argv[3] === 'hot';
const loaded = await load(users);
let sink = 0;
const started = Date.now();
for (let j = 0; j < 3_000_000; j++) {
  sink += (await loaded.verify(hot ? 7 : j % users)).userId.length;
}
console.log(`${((Date.now() - started) / 3).toFixed(0)} ns/op`, sink > 0);
