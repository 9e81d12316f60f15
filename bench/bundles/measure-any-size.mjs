// How far a size-agnostic bundle gets from the uniform-random to the scripted controller at
// N = 10, 50 and 100 (the figures in README.md here): the bundle resized to N and evaluated
// greedily by `fleetmind eval --bundle`, the baselines on the same starts. One JSON line per N.
//   node bench/bundles/measure-any-size.mjs bench/bundles/spread-nearest3-commnet [episodes]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resizeBundle } from '@fleetmind/models';
import { makeWorld, evaluateController, randomController, scriptedController } from '@fleetmind/worlds';
const bundle = process.argv[2];
const episodes = Number(process.argv[3] ?? 100);
for (const N of [10, 50, 100]) {
  const dir = mkdtempSync(join(tmpdir(), 'lf-'));
  const b = join(dir, 'b');
  let target = bundle;
  if (N !== 10) { resizeBundle(bundle, b, N); target = b; }
  const out = JSON.parse(execFileSync('node', [fileURLToPath(new URL('../../cli/dist/main.js', import.meta.url)), 'eval', '--bundle', target, '--episodes', String(episodes), '--json'], { encoding: 'utf8', maxBuffer: 1e8 }));
  const rw = makeWorld('simple_spread_v3', { numEnvs: episodes, autoReset: false, config: { N, neighbours: 3 } });
  const random = evaluateController(rw, randomController(rw, 0), 0).agent_return_mean;
  // the scripted controller reads full observations: the same starts and rewards without neighbours (up to 128 agents)
  let scripted = NaN;
  if (N <= 128) { const sw = makeWorld('simple_spread_v3', { numEnvs: episodes, autoReset: false, config: { N } }); scripted = evaluateController(sw, scriptedController(sw), 0).agent_return_mean; }
  const frac = (out.agent_return_mean - random) / (scripted - random);
  console.log(JSON.stringify({ N, episodes, policy: out.agent_return_mean.toFixed(3), random: random.toFixed(3), scripted: scripted.toFixed(3), of_the_way: (frac * 100).toFixed(1) + ' %' }));
  rmSync(dir, { recursive: true, force: true });
}
