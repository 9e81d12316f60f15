// The robustness summary of a simulation campaign: nominal vs faulted returns, retained
// performance against a random baseline, and the seed notebook's success criteria as a checklist
// with the measured values.

import type { Manifest } from '@fleetmind/models';
import { evaluateController, makeWorld, randomController } from '@fleetmind/worlds';
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
  bundle: string;
  world: string;
  plan: FaultPlan | null;
  random_team_return_mean: number;
  nominal: SimReport;
  faulted: SimReport | null;
  /** (R_faulted − R_random) / (R_nominal − R_random) */
  retained: number | null;
  checklist: CriterionCheck[];
}

/** The random policy's mean team return on the same episodes: what "retained" is measured from. */
export function randomTeamReturn(manifest: Manifest, episodes: number, seed: number): number {
  const world = makeWorld(manifest.world.id, { numEnvs: episodes, autoReset: false, config: manifest.world.config });
  return evaluateController(world, randomController(world, seed), seed).team_return_mean;
}

export function retainedPerformance(faulted: number, nominal: number, random: number): number {
  return (faulted - random) / (nominal - random);
}

/** Episodes in which every landmark was covered at the end (simple_spread's joint success). */
export function jointSuccessRate(r: SimReport, landmarks: number): number | null {
  const finals = r.episode_outcomes_final?.occupied_landmarks;
  if (!finals) return null;
  return finals.filter((v) => v >= landmarks).length / finals.length;
}

export function robustnessReport(o: { bundle: string; world: string; plan: FaultPlan | null; random: number; nominal: SimReport; faulted: SimReport | null; landmarks: number }): RobustnessReport {
  const retained = o.faulted ? retainedPerformance(o.faulted.team_return_mean, o.nominal.team_return_mean, o.random) : null;
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  const crashes = o.plan?.faults.filter((f) => f.kind === 'crash') ?? [];
  const failedFraction = crashes.reduce((s, f) => s + (f.kind === 'crash' && typeof f.agents === 'object' && !Array.isArray(f.agents) ? f.agents.fraction : f.kind === 'crash' && Array.isArray(f.agents) ? f.agents.length / o.nominal.agents.length : 0), 0);
  const run = o.faulted ?? o.nominal;
  const joint = jointSuccessRate(run, o.landmarks);
  const sentPerAgentTick = run.messages.sent / Math.max(1, run.tiers.full + run.tiers.partial + run.tiers.none + run.tiers.safe);
  const checklist: CriterionCheck[] = [
    {
      criterion: 'Robustness: performance with 10 % of agents failed',
      target: '≥ 90 % retained',
      measured: retained !== null && crashes.length > 0 ? `${pct(retained)} retained with ${pct(failedFraction)} of agents crashed` : 'not measured: the plan crashes no agents (see faults/examples/crash-10pct.yaml)',
      passed: retained !== null && crashes.length > 0 && failedFraction >= 0.1 ? retained >= 0.9 : null,
    },
    {
      criterion: 'Robustness under the plan\'s faults',
      target: '≥ 80 % retained (30 % message loss)',
      measured: retained !== null ? `${pct(retained)} retained` : 'no faults',
      passed: retained !== null ? retained >= 0.8 : null,
    },
    {
      criterion: 'Coordination: joint success (every landmark covered at the end)',
      target: '≥ 80 % of episodes',
      measured: joint === null ? 'not defined for this world' : pct(joint),
      passed: joint === null ? null : joint >= 0.8,
    },
    {
      criterion: 'Communication overhead',
      target: 'small, bounded messages',
      measured: `${run.messages.bytes_per_agent_tick} bytes and ${sentPerAgentTick.toFixed(2)} messages per agent per tick`,
      passed: null,
    },
  ];
  return { bundle: o.bundle, world: o.world, plan: o.plan, random_team_return_mean: o.random, nominal: o.nominal, faulted: o.faulted, retained, checklist };
}
