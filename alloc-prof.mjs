import { Session } from 'node:inspector/promises';
import fs from 'node:fs';
import { benchFleetScale } from '@fleetmind/bench';
const s = new Session(); s.connect();
await s.post('HeapProfiler.enable');
await s.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
const r = await benchFleetScale({ bundle: process.argv[2], agents: 500, hz: 10, seconds: 6, roundDeadlineMs: 50, heartbeatMs: 500, connections: 'shared', inference: 'batched' });
const { profile } = await s.post('HeapProfiler.stopSampling');
console.log(JSON.stringify(r.cpu_us_per_decision ?? r));
const self = new Map();
let total = 0;
(function walk(n, stack) {
  const cf = n.callFrame; const name = `${cf.functionName || '(anon)'} ${cf.url.replace(/.*node_modules\//, 'nm/').replace(/.*\/work\/main\//, '')}:${cf.lineNumber}`;
  const sz = n.selfSize; total += sz; self.set(name, (self.get(name) ?? 0) + sz);
  for (const c of n.children) walk(c, stack);
})(profile.head, []);
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 45)) console.log((100 * v / total).toFixed(1).padStart(5), (v / 1e6).toFixed(1).padStart(7), 'MB', k);
console.log('total MB', total / 1e6);
const callers = new Map();
(function walk(n, parents) {
  const cf = n.callFrame; const name = `${cf.functionName || '(anon)'} ${cf.url.replace(/.*node_modules\//, 'nm/').replace(/.*\/work\/main\//, '')}:${cf.lineNumber}`;
  if (/^(debug|decide|slice|Map|sort|hypot|subarray|filter|next) /.test(name) && n.selfSize > 0) { const p = parents.slice(-2).join(' <- '); const k = name.split(' ')[0] + ' <- ' + p; callers.set(k, (callers.get(k) ?? 0) + n.selfSize); }
  for (const c of n.children) walk(c, [...parents, name]);
})(profile.head, []);
console.log('--- callers');
for (const [k, v] of [...callers].sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log((v / 1e6).toFixed(1).padStart(7), 'MB', k);
