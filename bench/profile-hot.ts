// Profiling aid (not part of npm run bench): node --cpu-prof --import tsx bench/profile-hot.ts [users] [one|robin|random]
// Runs the benchmark's own full request path (bench/hot-path.ts) in a plain loop, so a CPU profile shows only it.
import { load } from './hot-path.js';

const users = Number(process.argv[2] ?? 1000);
const pattern = process.argv[3] ?? 'robin';
const loaded = await load(users);
let seed = 1;
const next = () => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed % users;
};
let sink = 0;
const started = Date.now();
for (let j = 0; j < 3_000_000; j++) {
  const i = pattern === 'one' ? 7 : pattern === 'random' ? next() : j % users;
  sink += (await loaded.verify(i)).userId.length;
}
console.log(`${((Date.now() - started) / 3).toFixed(0)} ns/op`, sink > 0);
