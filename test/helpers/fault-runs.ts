// What the fault tests share: a short faulted simulation of the zoo CommNet, and what every such
// run must show — the fleet kept acting through the fault.

import type { Test } from 'tap';
import { join } from 'node:path';
import { parseFaultPlan, simulate, type SimReport } from '@fleetmind/sim-harness/fleet';
import { REPO_ROOT } from './paths.js';

export const FAULT_BUNDLE = join(REPO_ROOT, 'models', 'zoo', 'spread-commnet');
export const EPISODES = 2;
export const TICKS = EPISODES * 25;

/** the zoo CommNet under a fault plan (YAML), seed 4, traced */
export const runFaulted = (yaml: string, extra: Partial<Parameters<typeof simulate>[0]> = {}): Promise<SimReport> =>
  simulate({ bundle: FAULT_BUNDLE, episodes: EPISODES, seed: 4, faults: parseFaultPlan(yaml), trace: true, ...extra });

/** the messages the agents refused, by reason */
export const dropped = (r: SimReport) => r.agent_counters!.messages.dropped;
const tierSum = (r: SimReport) => r.tiers.full + r.tiers.partial + r.tiers.none + r.tiers.safe;

/** the fleet kept acting: every running agent decided every tick (or the count given) */
export function keptActing(t: Test, r: SimReport, decisions = TICKS * 3): void {
  t.equal(tierSum(r), decisions, `${decisions} decisions made`);
  t.equal(r.episode_team_returns.length, r.episodes);
}
