// The loop every replay-based learner (IQL, VDN, QMIX, MADDPG) runs: E envs step in lockstep;
// each joint step goes into the replay (with the final observation and state where an episode
// ended, so a step-limit cut can bootstrap); the learner then takes whatever updates are due.
// A metrics line about every 4,000 env steps; checkpoints on the hooks' clock. Everything the
// loop depends on is in its checkpoint, so a resumed run continues exactly.

import { Rng, type Actions, type World } from '@fleetmind/worlds';
import { EpisodeStats, summaryMetrics } from '../rl/episode-stats.js';
import { ReplayBuffer } from '../rl/replay-buffer.js';
import type { OffPolicyState } from '../runs/checkpoint-schema.js';
import { checkpointIfSimulatorLost, type TrainingHooks } from './hooks.js';

export interface OffPolicyLearner {
  /** Writes every agent's action [E, N] for the current observations. */
  /** writes [E, N] indices, or [E, N, D] vectors where the world's actions are continuous */
  act(observations: readonly Float32Array[], actions: Actions, envSteps: number, rng: Rng): void;
  /** After each joint step: takes the updates due by envSteps. */
  learn(replay: ReplayBuffer, envSteps: number, rng: Rng): void;
  /** Metrics since the last call (losses, ε); starts a new tally. */
  drainMetrics(envSteps: number): Record<string, number>;
}

export interface OffPolicyOptions<Checkpoint> {
  world: World;
  config: { numEnvs: number; totalSteps: number; maxEpisodes: number | null; seed: number; bufferSize: number };
  learner: OffPolicyLearner;
  rng: Rng;
  hooks: TrainingHooks<Checkpoint>;
  /** the algorithm's checkpoint around the loop's state */
  checkpoint: (state: OffPolicyState) => Checkpoint;
  resume?: OffPolicyState;
}

export async function runOffPolicy<Checkpoint>(o: OffPolicyOptions<Checkpoint>): Promise<Checkpoint> {
  const { world, config, learner, hooks } = o;
  const e = config.numEnvs;
  const n = world.possibleAgents.length;
  const s = world.stateSize;
  const obsDims = world.possibleAgents.map((a) => world.observationSpace(a).shape[0]);
  const space0 = world.actionSpace(0);
  const replay = new ReplayBuffer({ numEnvs: e, obsDims, stateSize: s, ...(space0.kind === 'continuous' ? { actionSize: space0.shape[0] } : {}) }, config.bufferSize);
  let rng = o.rng;
  let envSteps = 0;
  let observations: Float32Array[];
  let stats: EpisodeStats;
  if (o.resume) {
    envSteps = o.resume.envSteps;
    rng = Rng.fromState(o.resume.loop.rng);
    observations = world.restore(o.resume.loop.world);
    replay.setState(o.resume.loop.replay);
    stats = new EpisodeStats(world, o.resume.loop);
  } else {
    observations = world.reset(config.seed).observations;
    stats = new EpisodeStats(world);
  }
  const checkpoint = () => o.checkpoint({ envSteps, loop: { rng: rng.getState(), world: world.checkpoint(), replay: replay.getState(), ...stats.state() } });

  const space = world.actionSpace(0);
  const actions = space.kind === 'discrete' ? new Int32Array(e * n) : new Float32Array(e * n * space.shape[0]);
  const terminated = new Uint8Array(e);
  const started = performance.now();
  let lastCheckpoint = started;
  let reportStart = started;
  let reportSteps = 0;
  const reportEvery = Math.max(1, Math.round(4096 / e)) * e;
  const profile = { act: 0, world: 0, update: 0 };

  const more = () => envSteps < config.totalSteps && (config.maxEpisodes === null || stats.finished < config.maxEpisodes);
  try {
    while (more() && !hooks.shouldStop?.()) {
      let tick = performance.now();
      const lap = (part: keyof typeof profile) => { const now = performance.now(); profile[part] += now - tick; tick = now; };
      learner.act(observations, actions, envSteps, rng);
      const before = observations.map((obs) => obs.slice());
      const state = world.state().slice();
      lap('act');
      const result = world.step(actions);
      const after = result.observations.map((obs) => obs.slice());
      const nextState = world.state().slice();
      for (let env = 0; env < e; env++) {
        terminated[env] = result.terminations[env * n];
        if (!result.episodeEnded[env]) continue;
        obsDims.forEach((d, i) => after[i].set(result.finalObservations[i].subarray(env * d, (env + 1) * d), env * d));
        nextState.set(result.finalStates.subarray(env * s, (env + 1) * s), env * s);
      }
      replay.add({ observations: before, state, actions, rewards: result.rewards, nextObservations: after, nextState, terminated, episodeEnded: result.episodeEnded });
      stats.record(result);
      observations = result.observations;
      envSteps += e;
      reportSteps += e;
      lap('world');
      learner.learn(replay, envSteps, rng);
      lap('update');

      if (envSteps % reportEvery === 0 || !more()) {
        const now = performance.now();
        hooks.onUpdate?.({
          'global/env_steps': envSteps,
          'global/updates': 0,
          ...summaryMetrics(stats.drain()),
          'train/env_steps_per_s': Math.round(reportSteps / ((now - reportStart) / 1000)),
          'time/wall_s': (now - started) / 1000,
          'time/act_s': profile.act / 1000,
          'time/world_s': profile.world / 1000,
          'time/update_s': profile.update / 1000,
          ...learner.drainMetrics(envSteps),
        });
        reportStart = now;
        reportSteps = 0;
        profile.act = profile.world = profile.update = 0;
        if (hooks.onCheckpoint && now - lastCheckpoint >= (hooks.checkpointEverySeconds ?? 60) * 1000) {
          hooks.onCheckpoint(checkpoint());
          lastCheckpoint = performance.now();
        }
        await new Promise((resolve) => setImmediate(resolve)); // let signals and I/O through
      }
    }  } catch (err) {
    checkpointIfSimulatorLost(err, hooks, checkpoint);
  }

  return checkpoint();
}
