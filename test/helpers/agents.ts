// A small fleet of runtime agents in this process, fed the simple_spread world's observations
// through in-process adapters: what the runtime tests drive.

import { pino } from 'pino';
import { loadBundle, type LoadedBundle } from '@fleetmind/models';
import { createAgent, InProcessAdapter, type ActionOut, type AgentSettingsInput, type FleetAgent, type PolicyFactory, type TransportFactory } from '@fleetmind/runtime';
import { makeWorld, type BatchedWorld } from '@fleetmind/worlds';
import { join } from 'node:path';
import { REPO_ROOT } from './paths.js';
import { until } from './waiting.js';

export const COMMNET_BUNDLE = join(REPO_ROOT, 'models', 'zoo', 'spread-commnet');

export interface TestFleet {
  bundle: LoadedBundle;
  world: BatchedWorld;
  agents: FleetAgent[];
  adapters: InProcessAdapter[];
  /** the actions of the last step, by agent */
  last: (ActionOut | null)[];
  /** sends every agent its observation for the next tick and waits for every action */
  step(override?: (agent: number, values: Float32Array) => Float32Array): Promise<ActionOut[]>;
  /** the same, without waiting for the agents in `skip` (stopped ones) */
  stepSome(skip: Set<number>): Promise<ActionOut[]>;
  close(): Promise<void>;
}

/** present: which of the world's agents to run here (default all; the others are absent, or played by the test) */
export async function startTestFleet(url: string, fleet: string, settings: AgentSettingsInput & { transport?: TransportFactory; policy?: PolicyFactory } = {}, present?: number[]): Promise<TestFleet> {
  const bundle = await loadBundle(COMMNET_BUNDLE);
  const world = makeWorld('simple_spread_v3', { numEnvs: 1, autoReset: true });
  let observations = world.reset(7).observations;
  const ids = world.possibleAgents;
  const last: (ActionOut | null)[] = ids.map(() => null);
  const listeners: ((i: number, a: ActionOut) => void)[] = [];
  const adapters = ids.map((_, i) => new InProcessAdapter((a) => { last[i] = a; listeners.forEach((l) => l(i, a)); }));
  const agents: FleetAgent[] = [];
  const running = present ?? ids.map((_, i) => i);
  for (const [i, id] of ids.entries()) {
    if (!running.includes(i)) continue;
    agents[i] = (await createAgent({ bundle, agentId: id, broker: url, adapter: adapters[i], fleet, logger: pino({ level: 'silent' }), heartbeatMs: 50, peerTimeoutMs: 300, roundDeadlineMs: 100, ...settings }));
  }
  let tick = 0;
  const actions = new Int32Array(ids.length);
  const stepSome = async (skip: Set<number>, override?: (agent: number, values: Float32Array) => Float32Array) => {
    tick++;
    const want = running.filter((i) => !skip.has(i));
    const got = new Map<number, ActionOut>();
    const done = new Promise<void>((resolve) => {
      listeners[0] = (i, a) => { if (a.tick === tick) got.set(i, a); if (want.every((w) => got.has(w))) resolve(); };
    });
    for (const i of want) {
      const values = observations[i].slice();
      adapters[i].observe({ tick, values: override ? override(i, values) : values });
    }
    await done;
    for (const [i, a] of got) actions[i] = a.action;
    observations = world.step(actions).observations;
    return want.map((i) => got.get(i)!);
  };
  return {
    bundle, world, agents, adapters, last,
    step: (override) => stepSome(new Set(), override),
    stepSome: (skip) => stepSome(skip),
    async close() {
      for (const a of agents) if (a) await a.stop();
      await bundle.close();
    },
  };
}

/** waits until every agent hears `peers` live peers */
export async function untilAllLive(fleet: TestFleet, peers = fleet.agents.filter(Boolean).length - 1): Promise<void> {
  await until(() => fleet.agents.every((a) => !a || a.livePeers().length === peers), `every agent hears ${peers} live peers`);
}
