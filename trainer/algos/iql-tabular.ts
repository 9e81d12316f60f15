// Tabular independent Q-learning, exactly as the seed notebook runs it on the grid predator–prey:
// every agent (the prey too) keeps its own table Q_i[s, a] over the world's discretized global
// state, acts ε-greedily, and after each step
//
//   Q_i[s, a_i] ← Q_i[s, a_i] + α · (r_i + γ · max_a Q_i[s′, a] − Q_i[s, a_i])   (just r_i at a capture)
//
// ε starts at 1 and is multiplied by 0.995 after every episode, down to 0.01. One env, one
// episode after another; episode k is seeded from (seed, k), so a resumed run continues exactly.
// The tables read the global state, so this policy cannot run decentralized on a robot.

import { discreteActions, makeWorld, Rng } from '@fleetmind/worlds';
import { EpisodeStats, summaryMetrics } from '../rl/episode-stats.js';
import type { TabularIqlCheckpoint } from '../runs/checkpoint-schema.js';
import type { TrainingHooks } from './hooks.js';
import { defaultTabularIqlConfig, type TabularIqlConfig } from './iql-tabular-config.js';

export { defaultTabularIqlConfig, type TabularIqlConfig };

/** One Q-learning update of a table row; returns the TD error. */
export function qUpdate(table: Float64Array, numActions: number, s: number, a: number, reward: number, next: number | null, alpha: number, gamma: number): number {
  let target = reward;
  if (next !== null) {
    let best = -Infinity;
    for (let k = 0; k < numActions; k++) best = Math.max(best, table[next * numActions + k]);
    target += gamma * best;
  }
  const error = target - table[s * numActions + a];
  table[s * numActions + a] += alpha * error;
  return error;
}

/** argmax over a table row, first of the ties (numpy's argmax) */
export function greedyAction(table: Float64Array, numActions: number, s: number): number {
  let best = 0;
  for (let k = 1; k < numActions; k++) if (table[s * numActions + k] > table[s * numActions + best]) best = k;
  return best;
}

export function tablesOf(checkpoint: TabularIqlCheckpoint): Float64Array[] {
  return checkpoint.tables.map(({ index, value }) => {
    const table = new Float64Array(checkpoint.numStates * checkpoint.numActions);
    index.forEach((at, k) => { table[at] = value[k]; });
    return table;
  });
}

export async function trainTabularIql(config: TabularIqlConfig, hooks: TrainingHooks<TabularIqlCheckpoint> = {}, resume?: TabularIqlCheckpoint): Promise<TabularIqlCheckpoint> {
  const world = makeWorld(config.world, { numEnvs: 1, autoReset: false, config: config.worldConfig });
  const numStates = world.numDiscreteStates;
  if (numStates === null) throw new Error(`${world.id} has no discrete state for tabular Q-learning (grid_predator_prey_v0 has)`);
  const n = world.possibleAgents.length;
  const numActions = discreteActions(world, 0, 'tabular IQL');
  if (world.possibleAgents.some((a) => discreteActions(world, a, 'tabular IQL') !== numActions)) throw new Error('tabular IQL needs every agent to have the same number of actions');
  let tables: Float64Array[] = Array.from({ length: n }, () => new Float64Array(numStates * numActions));
  let rng = new Rng(config.seed, 0x7ab1e);
  let epsilon = config.epsilonStart;
  let envSteps = 0;
  let episode = 0;
  let stats = new EpisodeStats(world);
  const checkpoint = (): TabularIqlCheckpoint => ({
    config, envSteps, updates: episode, epsilon, numStates, numActions,
    tables: tables.map((table, i) => {
      const index: number[] = [];
      const value: number[] = [];
      table.forEach((v, at) => { if (v !== 0) { index.push(at); value.push(v); } });
      return { agent: world.possibleAgents[i], index, value };
    }),
    loop: { rng: rng.getState(), ...stats.state() },
  });
  if (resume) {
    tables = tablesOf(resume);
    rng = Rng.fromState(resume.loop.rng);
    epsilon = resume.epsilon;
    envSteps = resume.envSteps;
    episode = resume.updates;
    stats = new EpisodeStats(world, resume.loop);
  }
  const started = performance.now();
  let lastCheckpoint = started;
  let reportStart = started;
  let reportSteps = 0;
  const actions = new Int32Array(n);
  // a metrics line every 20 episodes
  const reportEvery = 20;

  while (episode < config.episodes && !hooks.shouldStop?.()) {
    world.reset(config.seed, episode);
    let s = world.discreteState(0)!;
    for (let done = false; !done;) {
      for (let i = 0; i < n; i++) actions[i] = rng.next() < epsilon ? rng.int(numActions) : greedyAction(tables[i], numActions, s);
      const result = world.step(actions);
      const next = world.discreteState(0)!;
      const captured = result.terminations[0] === 1;
      for (let i = 0; i < n; i++) qUpdate(tables[i], numActions, s, actions[i], result.rewards[i], captured ? null : next, config.alpha, config.gamma);
      stats.record(result);
      s = next;
      done = result.episodeEnded[0] === 1;
      envSteps++;
      reportSteps++;
    }
    episode++;
    epsilon = Math.max(config.epsilonMin, epsilon * config.epsilonDecay);
    if (episode % reportEvery === 0 || episode === config.episodes) {
      const now = performance.now();
      hooks.onUpdate?.({
        'global/env_steps': envSteps,
        'global/updates': episode,
        ...summaryMetrics(stats.drain()),
        'train/env_steps_per_s': Math.round(reportSteps / ((now - reportStart) / 1000)),
        'time/wall_s': (now - started) / 1000,
        'train/epsilon': epsilon,
      });
      reportStart = now;
      reportSteps = 0;
      if (hooks.onCheckpoint && now - lastCheckpoint >= (hooks.checkpointEverySeconds ?? 60) * 1000) {
        hooks.onCheckpoint(checkpoint());
        lastCheckpoint = performance.now();
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  return checkpoint();
}
