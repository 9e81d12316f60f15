// The robustness summary of a simulation campaign: nominal vs faulted returns, retained
// performance against a random baseline, and the seed notebook's success criteria as a checklist
// with the measured values.

import type { Manifest } from '@fleetmind/models';
import { bootstrapInterval, evaluateController, jointSuccessOf, makeWorld, randomController } from '@fleetmind/worlds';
import type { FaultPlan } from '../faults/fault-plan.js';
import type { SimReport } from '../fleet/simulate.js';

export interface CriterionCheck {
  criterion: string;
  target: string;
  measured: string;
  /** null: this run does not measure it */
  passed: boolean | null;
}

export interface RobustnessReport {
  /** interrupted: fewer episodes than asked (see nominal.episodes and faulted.episodes), or the faulted run never started */
  partial: boolean;
  bundle: string;
  world: string;
  plan: FaultPlan | null;
  random_team_return_mean: number;
  /** the random policy's team return in each episode (the same starts as the runs) */
  random_episode_team_returns: number[];
  nominal: SimReport;
  faulted: SimReport | null;
  /** (R_faulted − R_random) / (R_nominal − R_random) */
  retained: number | null;
  /** 95 % paired bootstrap interval of `retained` over episodes (2,000 resamples, seeded) */
  retained_interval: [number, number] | null;
  /** the world's joint success and the fraction of episodes that reached it, per run */
  joint_success: { description: string; nominal: number; faulted: number | null } | null;
  checklist: CriterionCheck[];
}

/** Late actions above this share of those asked make a run's figures meaningless (it timed the clock). */
export const LATE_ACTIONS_LIMIT = 0.05;

/** The random policy on the same episodes: what "retained" is measured from. */
export function randomTeamReturns(manifest: Manifest, episodes: number, seed: number): { mean: number; episodes: number[] } {
  const world = makeWorld(manifest.world.id, { numEnvs: episodes, autoReset: false, config: manifest.world.config });
  const r = evaluateController(world, randomController(world, seed), seed);
  return { mean: r.team_return_mean, episodes: r.episode_team_returns };
}

export function retainedPerformance(faulted: number, nominal: number, random: number): number {
  return (faulted - random) / (nominal - random);
}

/** The fraction of a run's episodes that reached the world's joint success (0 where the world defines none). */
export function jointSuccessRate(r: SimReport, world: string): number {
  const success = jointSuccessOf(world);
  if (!success) return 0;
  const n = r.episode_team_returns.length;
  let reached = 0;
  for (let e = 0; e < n; e++) {
    const pick = (m: Record<string, number[]>) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v[e]]));
    if (success.reached({ final: pick(r.episode_outcomes_final), total: pick(r.episode_outcomes_total) }, r.agents.length)) reached++;
  }
  return n ? reached / n : 0;
}

const mean = (xs: readonly number[], at: readonly number[]) => at.reduce((s, i) => s + xs[i], 0) / at.length;

/** The 95 % paired bootstrap interval of retained performance: a resample takes the same episodes (same starts) from each run. */
export function retainedInterval(faulted: readonly number[], nominal: readonly number[], random: readonly number[], seed: number): [number, number] {
  return bootstrapInterval(nominal.length, (at) => retainedPerformance(mean(faulted, at), mean(nominal, at), mean(random, at)), { seed });
}

export function robustnessReport(o: { bundle: string; world: string; plan: FaultPlan | null; random: { mean: number; episodes: number[] }; nominal: SimReport; faulted: SimReport | null }): RobustnessReport {
  const { nominal, faulted } = o;
  // an interrupted faulted run is compared on the episodes it played
  const k = faulted ? faulted.episodes : nominal.episodes;
  const first = (xs: readonly number[]) => xs.slice(0, k);
  const average = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const retained = faulted && k > 0
    ? retainedPerformance(average(faulted.episode_team_returns), average(first(nominal.episode_team_returns)), average(first(o.random.episodes)))
    : null;
  // paired: a resample takes the same episodes (same starts) from the nominal, faulted and random runs
  const interval = faulted && k > 0 ? retainedInterval(faulted.episode_team_returns, first(nominal.episode_team_returns), first(o.random.episodes), nominal.seed) : null;
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  const withInterval = (x: number) => `${pct(x)} retained (95 % CI ${pct(interval![0])} to ${pct(interval![1])})`;
  const crashes = o.plan?.faults.some((f) => f.kind === 'crash') ?? false;
  const crashed = faulted?.crashed_agents.length ?? 0;
  const fleet = nominal.agents.length;
  const crashedShare = crashed / fleet;
  const run = faulted ?? nominal;
  const success = jointSuccessOf(o.world);
  const joint = success ? { description: success.description, nominal: jointSuccessRate(nominal, o.world), faulted: faulted ? jointSuccessRate(faulted, o.world) : null } : null;
  const lateShare = (r: SimReport) => r.late_actions / Math.max(1, r.asked_actions);
  const late = [nominal, ...(faulted ? [faulted] : [])].map(lateShare);
  const checklist: CriterionCheck[] = [
    {
      criterion: 'Robustness: performance with 10 % of agents failed',
      target: '≥ 90 % retained with at least 10 % of agents crashed',
      measured: retained !== null && crashes
        ? `${withInterval(retained)} with ${crashed} of ${fleet} agents crashed (${pct(crashedShare)})`
        : 'not measured: the plan crashes no agents (see sim-harness/faults/examples/crash-10pct.yaml)',
      passed: retained !== null && crashes && crashedShare >= 0.1 ? retained >= 0.9 : null,
    },
    {
      criterion: 'Robustness under the plan\'s faults',
      target: '≥ 80 % retained (the seed\'s bar for 30 % message loss)',
      measured: retained !== null ? withInterval(retained) : 'not measured: no fault plan',
      passed: retained !== null ? retained >= 0.8 : null,
    },
    {
      criterion: `Coordination: joint success (${success?.description ?? 'the world defines none'})`,
      target: '≥ 80 % of episodes, nominal',
      measured: joint ? `${pct(joint.nominal)} nominal${joint.faulted !== null ? `, ${pct(joint.faulted)} faulted` : ''}` : 'not measured: the world defines no joint success',
      passed: joint ? joint.nominal >= 0.8 : null,
    },
    {
      criterion: 'Actions in time (running agents asked each tick)',
      target: `≥ ${pct(1 - LATE_ACTIONS_LIMIT)} answered before the ${nominal.hz ? 'period ends' : 'tick timeout'}`,
      measured: `${pct(1 - late[0])} nominal${faulted ? `, ${pct(1 - late[1])} faulted` : ''}`,
      passed: late.every((x) => x <= LATE_ACTIONS_LIMIT),
    },
    {
      criterion: 'Communication overhead',
      target: 'small, bounded messages',
      measured: `${run.messages.bytes_per_agent_tick} bytes and ${run.messages.per_agent_tick.toFixed(2)} messages per agent per tick`,
      passed: null,
    },
  ];
  return {
    partial: nominal.partial || (faulted?.partial ?? false) || (o.plan !== null && faulted === null),
    bundle: o.bundle, world: o.world, plan: o.plan, random_team_return_mean: o.random.mean, random_episode_team_returns: o.random.episodes,
    nominal, faulted, retained, retained_interval: interval, joint_success: joint, checklist,
  };
}
