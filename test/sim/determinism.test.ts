// Lockstep fault simulation is deterministic: the same bundle, seed and plan give the same
// report in every run and every fleet mode (but for the wall-clock latency figures). The plan
// mixes the faults whose outcome used to race real time: random loss on every link (once drawn
// from one stream shared by all proxies in arrival order), a crash and a restart (peers waited
// for the crashed agent until their round deadline), delay, duplicates, reordering, corruption,
// sensor noise and a lying peer.

import t from 'tap';
import { join } from 'node:path';
import { parseFaultPlan, runCampaign, type CampaignResult, type FleetMode } from '@fleetmind/sim-harness/fleet';
import { REPO_ROOT } from '../helpers/paths.js';

const bundle = join(REPO_ROOT, 'models', 'zoo', 'spread-commnet');
const plan = parseFaultPlan(`
faults:
  - { kind: drop, p: 0.3 }
  - { kind: crash, agents: [agent_1], window: { ticks: [6, 25] }, restart_after_ticks: 5 }
  - { kind: delay, ms: 30, jitter_ms: 30, links: { from: [agent_0], to: "*" } }
  - { kind: duplicate, p: 0.1 }
  - { kind: reorder, p: 0.1 }
  - { kind: corrupt, p: 0.05 }
  - { kind: sensor_noise, agents: [agent_2], sigma: 0.05 }
  - { kind: hostile, agents: [agent_2], garbage_per_tick: 1, window: { episodes: [1, 2] } }
`);

/** the report without its wall-clock figures */
function reproducible(r: CampaignResult): unknown {
  const strip = (run: CampaignResult['run']) => {
    const { tick_ms: _latency, mode: _mode, agent_counters: _counters, ...rest } = run;
    return rest;
  };
  return { ...r.report, nominal: strip(r.report.nominal), faulted: r.report.faulted && strip(r.report.faulted) };
}

/** a run's reproducible report, and why its agents took the safe action (said when two runs differ) */
const run = (mode: FleetMode) => runCampaign({ bundle, plan, episodes: 2, seed: 5, mode, reportDir: null })
  .then((r) => ({ report: reproducible(r), safe: JSON.stringify([r.report.nominal.agent_counters?.safeReasons, r.report.faulted?.agent_counters?.safeReasons]) }));

t.test('a faulted lockstep plan gives the same report twice, and the same in every fleet mode', async (t) => {
  const first = await run('inproc');
  const faulted = (first.report as { faulted: { faults_applied: Record<string, number>; tiers: Record<string, number> } }).faulted;
  t.ok(['drop', 'crash', 'delay', 'duplicate', 'reorder', 'corrupt', 'sensor_noise', 'hostile'].every((k) => (faulted.faults_applied[k] ?? 0) > 0), `every fault struck: ${JSON.stringify(faulted.faults_applied)}`);
  t.ok(faulted.tiers.partial > 0 && faulted.tiers.full > 0, 'messages were lost in some rounds, not all');
  const again = await run('inproc');
  t.same(again.report, first.report, `inproc: the second run equals the first (safe actions by reason, nominal and faulted: ${first.safe}, then ${again.safe})`);
  // a mode whose runs differed from one another could not equal this one report every time
  for (const mode of ['threads', 'procs'] as const) {
    const a = await run(mode);
    t.same(a.report, first.report, `${mode}: equals the inproc run (safe actions: ${first.safe}, then ${a.safe})`);
  }
});
