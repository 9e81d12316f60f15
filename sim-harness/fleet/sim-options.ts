// What a simulation run takes, its defaults (each with why), and the checks made before
// anything starts. The broker choice is normalised here, once.

import type { LoadedBundle, Manifest } from '@fleetmind/models';
import { makeWorld, type JunctionShield } from '@fleetmind/worlds';
import { FaultEngine } from '../faults/fault-engine.js';
import type { AgentSettingsInput } from '@fleetmind/runtime';
import type { FaultPlan } from '../faults/fault-plan.js';
import type { FleetMode } from './fleet-member.js';
import { LOCKSTEP_TICK_TIMEOUT_MS } from './lockstep-timing.js';
import type { SimRolloutOptions } from './sim-rollout.js';

export interface SimOptions {
  bundle: string | LoadedBundle;
  episodes: number;
  seed: number;
  faults?: FaultPlan | null;
  /** 'embedded': the fleetmind broker on a free loopback port; otherwise a broker URL */
  broker?: 'embedded' | string;
  /** embedded broker with auth on: a user and a random password per agent (and one for the world), made for this run */
  auth?: boolean;
  mode?: FleetMode;
  fleet?: string;
  /** lockstep: how long the server waits for actions before holding the missing ones, ms */
  tickTimeoutMs?: number;
  /** real time: one tick per 1/hz s, actions collected until the period ends */
  hz?: number | null;
  /** the agents' settings, over the simulation's defaults (defaultSimAgentSettings) */
  agent?: AgentSettingsInput;
  /** what the actuator of an agent that did not answer does: the safe action (default) or its last command */
  missingAction?: 'safe' | 'hold';
  /** a safety layer in the world over every agent's action (traffic_junction: 'emergency-brake' | 'keep-clear'), counted in its outcomes */
  shield?: JunctionShield;
  /** keep per-tick traces (positions, actions, tiers, who heard whom) for the report */
  trace?: boolean;
  /** a folder: every agent's flight recording and the world's ground truth (world-*.mcap) */
  record?: string;
  /** how long the world server tries to reach the broker, ms */
  brokerConnectTimeoutMs?: number;
  /** how long the fleet may take to come online (every agent heard twice), ms */
  onlineTimeoutMs?: number;
  /** how long the embedded broker waits for clients to drain when it stops, ms */
  brokerDrainTimeoutMs?: number;
  onProgress?: (done: number, total: number) => void;
  /** aborted: finish the episode in progress, play no more, and report what was played (partial) */
  signal?: AbortSignal;
  /** roll a bundle out to the fleet while the episodes play (sim-rollout.ts) */
  rollout?: SimRolloutOptions;
  /**
   * the agents in K `fleetmind fleet --agents` processes on this host, the world here speaking to
   * them over the broker; 'elsewhere': shards someone started on other hosts (fleet-shards.ts)
   */
  shards?: number | 'elsewhere' | null;
}

export const defaultSimOptions = {
  mode: 'inproc' as FleetMode,
  broker: 'embedded',
  missingAction: 'safe' as 'safe' | 'hold',
  // a lockstep tick of a healthy fleet takes a few ms; crashed and frozen agents are not waited
  // for, so this only guards against a hang (lockstep-timing.ts)
  tickTimeoutMs: LOCKSTEP_TICK_TIMEOUT_MS,
  brokerConnectTimeoutMs: 5_000,
  // child-process agents load ONNX Runtime and a bundle first: seconds on a slow machine
  onlineTimeoutMs: 15_000,
  brokerDrainTimeoutMs: 2_000,
};

/**
 * The agents' settings in a simulation: faster than a robot's defaults, because a simulated
 * tick is milliseconds: heartbeats every 100 ms, a peer dead after 500 ms, 50 ms per round.
 */
export const defaultSimAgentSettings: AgentSettingsInput = { heartbeatMs: 100, peerTimeoutMs: 500, roundDeadlineMs: 50 };

/** Where the fleet's broker is, decided once. */
export type BrokerChoice = { kind: 'embedded' } | { kind: 'external'; url: string };

export function brokerChoice(broker: SimOptions['broker']): BrokerChoice {
  return !broker || broker === 'embedded' ? { kind: 'embedded' } : { kind: 'external', url: broker };
}

export class SimError extends Error {
  readonly code = 'FM_ERR_SIM';
}

/**
 * Refuses, before anything runs, a fault whose window never opens in this run: a plan that
 * strikes nothing would otherwise report "no faults" and 100 % retained, a pass that means nothing.
 */
export function checkPlanFitsRun(plan: FaultPlan | null, run: { world: string; maxTicks: number; episodes: number }): void {
  plan?.faults.forEach((f, i) => {
    const { ticks, episodes } = f.window;
    const name = `faults[${i}] (${f.kind})`;
    if (ticks && ticks[0] >= run.maxTicks) {
      throw new SimError(`${name}: its window ticks [${ticks[0]}, ${ticks[1]}) never opens: an episode of ${run.world} lasts at most ${run.maxTicks} ticks (0-${run.maxTicks - 1})`);
    }
    if (episodes && episodes[0] >= run.episodes) {
      throw new SimError(`${name}: its window episodes [${episodes[0]}, ${episodes[1]}) never opens: the run plays ${run.episodes} episode${run.episodes === 1 ? '' : 's'} (0-${run.episodes - 1}); raise --episodes`);
    }
  });
}

/** Refuses a plan that names agents not in the bundle's fleet, or whose windows never open, before the nominal run. */
export function checkPlanFitsBundle(plan: FaultPlan | null, manifest: Manifest, episodes: number, seed: number): void {
  if (!plan) return;
  const world = makeWorld(manifest.world.id, { config: manifest.world.config });
  checkPlanFitsRun(plan, { world: world.id, maxTicks: world.maxCycles, episodes });
  new FaultEngine(plan, world.possibleAgents, seed, { message: null }); // resolves (and checks) every agent the plan names
}

/** Refuses, before anything runs, what a sharded run (sim --shards) cannot do yet. */
export function checkShardable(o: SimOptions, shards: number | 'elsewhere'): void {
  if (shards !== 'elsewhere' && (!Number.isInteger(shards) || shards < 1)) throw new SimError(`--shards: expected a number of processes (1 or more) or "elsewhere", got ${shards}`);
  const not = (what: string) => new SimError(`--shards with ${what}: not yet`);
  if (o.faults) throw not('a fault plan (each shard would apply its part); cut the links between shards\' hosts instead');
  if (o.rollout) throw not('--rollout');
  if (o.record) throw not('--record');
  if ((o.mode ?? defaultSimOptions.mode) !== 'inproc') throw new SimError('--shards and --mode: each shard runs its agents in its own process already');
  if (shards === 'elsewhere' && brokerChoice(o.broker).kind === 'embedded') throw new SimError('--shards elsewhere: shards on other hosts need a broker they reach too; give --broker mqtt://host:port');
}

/** Refuses, before anything runs, a fault this fleet mode cannot apply. */
export function checkPlanFitsMode(plan: FaultPlan | null, mode: FleetMode): void {
  if (mode !== 'inproc' && plan?.faults.some((f) => f.kind === 'slow_inference')) {
    throw new SimError('slow_inference needs --mode inproc: an agent in another thread or process cannot be slowed from outside without freezing it');
  }
}
