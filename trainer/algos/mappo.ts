// MAPPO and IPPO (Yu et al. 2022, "The Surprising Effectiveness of PPO in Cooperative
// Multi-Agent Games"): PPO with parameters shared per role; the critic sees the world's global
// state (MAPPO, centralized training) or the agent's own observation (IPPO). The actor only
// ever sees its own observation, so it runs decentralized on a robot.
//
// Per update: collect rolloutSteps × numEnvs joint steps → GAE(λ) → value-normalised targets →
// epochs × minibatches of clipped-surrogate actor and clipped-value critic steps, each with its
// own Adam and global gradient-norm clipping; learning rates decay linearly to zero.
//
// The critic also reads the fraction of the episode elapsed: with a step limit, the return still
// to come depends on it and nothing else tells the critic (measured on simple_spread at 900 k
// steps: greedy −13.73 with it, −17.29 without). The actor does not: it runs on a robot.
//
// Discrete actions are drawn from a categorical over the actor's logits; continuous ones, by
// actionDistribution, from a Beta on the box (the default), a diagonal Gaussian around the actor's
// output (clipped into the box by the world or, with squashActions, squashed into it by tanh), a
// Gaussian whose std the actor gives, or a categorical per component over bins (rl/action-head.ts
// says how each is trained). A Gaussian's mean starts at the box's centre.
//
// Agents that come and go (the world's active mask): a slot that is not in the episode at a step
// takes no part in any loss, advantage normalisation or CommNet mean, and an agent that leaves
// ends its own episode there (its return is cut, as at a termination).
//
// The actor is an MLP, a CommNet or a GRU. A CommNet's team hears each other through a mask sampled
// every step from message dropout, a neighbour radius and dead agents (TeamChannel), and its
// minibatches are whole teams so that every row's messages are in the batch with it.
//
// A GRU actor (rMAPPO), or a CommNet-GRU, carries each agent's state through the rollout, zeroed at an episode's
// start and after a step the agent was not in; the rollout keeps the state that entered every
// step. Its minibatches are chunks of chunkLength steps of whole teams, each unrolled from the
// state stored at the chunk's start (chunked BPTT). The critic stays a feed-forward network of
// the global state, which a recurrent actor's partial view does not limit.
//
// With sharedActor, the roles (which must observe and act alike, as Pong's sides do) share one
// actor and its Adam: every role's update steps that actor on its own rows, one role after the
// other, so each update takes the actor R times as many steps, each on one side's experience.
// The critics stay one per role (the global state is not seen from a side).
//
// Self-play (competitive worlds): env e trains role e mod R; the other roles there act with a
// past snapshot of their actor drawn from a pool that grows every snapshotEvery updates, so each
// side learns against a spread of opponents instead of chasing the latest one (with probability
// scriptedOpponent the opponent is the world's scripted controller instead). Every snapshot
// the run measures each side against the latest other side and against the scripted one.
//
// A checkpoint holds everything the loop depends on (weights, Adam moments, value statistics,
// every random stream and the worlds mid-episode), so a resumed run continues exactly.

import { openWorld, Rng, roleGroups, scriptedController, TeamChannel, type World } from '@fleetmind/worlds';
import { activeBackend, tf } from '../backend.js';
import { Mlp } from '../nn/mlp.js';
import { actorFromWeights, actorLogits, makeActor, newActorMemory, withOutputBias, type Actor, type ActorWeights } from '../nn/actor.js';
import { measureSelfPlay } from '../policy/self-play-report.js';
import type { MappoCheckpoint } from '../runs/checkpoint-schema.js';
import { checkConfigFitsWorld } from './training-config.js';
import { Adam } from '../rl/adam.js';
import { GaussianHead, StateStdGaussianHead, type ActionHead } from '../rl/action-head.js';
import { actionHead } from './mappo-action-head.js';
import { GATE, presentRows, rowOf, shardGradients, sparseInputs, splitBlocks, type RoleRollout, type ShardResult } from './mappo-minibatch.js';
import { GradientPool } from './gradient-pool.js';
import { computeGae } from '../rl/gae.js';
import { clipByGlobalNorm } from '../rl/clip-grads.js';
import { checkpointIfSimulatorLost, type TrainingHooks, type TrainingMetrics } from './hooks.js';
import { EpisodeStats, summaryMetrics } from '../rl/episode-stats.js';
import { actorInputSize, writeActorInputs } from '../nn/agent-inputs.js';
import { ValueNormalizer } from '../rl/value-normalizer.js';

import { defaultMappoConfig, type MappoConfig } from './mappo-config.js';

export { defaultMappoConfig, type MappoConfig };

/** One group of agents sharing an actor and a critic. */
interface RoleNets {
  role: string;
  /** indices of the world's agents in this role */
  agents: number[];
  obsDim: number;
  head: ActionHead;
  actor: Actor;
  critic: Mlp;
  actorOpt: Adam;
  criticOpt: Adam;
  valueNorm: ValueNormalizer;
  channel: TeamChannel;
}

export type MappoMetrics = TrainingMetrics;

export type MappoHooks = TrainingHooks<MappoCheckpoint>;

function buildRoles(world: World, config: MappoConfig, rng: Rng): RoleNets[] {
  // with sharedActor, the first role's actor (with its head and its Adam) is every role's
  let shared: Pick<RoleNets, 'head' | 'actor' | 'actorOpt'> | null = null;
  return roleGroups(world.roles).map(({ role, agents }): RoleNets => {
    const obsDim = world.observationSpace(agents[0]).shape[0];
    const idSize = config.agentId ? agents.length : 0;
    const criticIn = criticBase(config, world, obsDim) + idSize + (config.criticTimeFeature ? 1 : 0);
    const { head, actor, actorOpt } = shared ?? newActor(world, agents[0], obsDim + idSize, config, rng);
    if (config.sharedActor) shared = { head, actor, actorOpt };
    const critic = new Mlp({ sizes: [criticIn, ...(config.criticHidden ?? config.hidden), 1], activation: config.activation, outputGain: 1, inputLayerNorm: config.inputLayerNorm, ...hiddenLayerNormOf(config) }, rng, { inputIsData: true, init: config.init });
    return {
      role, agents, obsDim, head, actor, critic, actorOpt,
      criticOpt: new Adam(critic.variables, config.criticLr, 0.9, 0.999, 1e-5),
      valueNorm: new ValueNormalizer(),
      channel: new TeamChannel(world, agents, {
        rounds: config.commRounds, msgDropout: config.msgDropout, commRadius: config.commRadius, agentDropout: config.agentDropout,
      }),
    };
  });
}

/** An agent's actor, its action head and the actor's Adam. */
function newActor(world: World, agent: number, inputSize: number, config: MappoConfig, rng: Rng): Pick<RoleNets, 'head' | 'actor' | 'actorOpt'> {
  const space = world.actionSpace(agent);
  if (config.actionBins !== undefined && config.actionDistribution !== 'bins') throw new Error(`actionBins applies to actionDistribution bins (here ${config.actionDistribution ?? 'gaussian'})`);
  if (config.actionDistribution && config.actionDistribution !== 'gaussian' && config.squashActions) throw new Error(`squashActions applies to a Gaussian policy with a learned constant std; actionDistribution ${config.actionDistribution} stays as it is`);
  if (config.actionDistribution && !config.actionDistribution.startsWith('gaussian') && config.actionStd !== undefined) throw new Error(`actionStd is a Gaussian policy's initial std; actionDistribution ${config.actionDistribution} has none`);
  const head = actionHead(space, config);
  const actor = makeActor({
    kind: config.actor, inputSize, numActions: head.outputs, hidden: config.hidden, activation: config.activation,
    inputLayerNorm: config.inputLayerNorm, ...hiddenLayerNormOf(config), init: config.init, rounds: config.commRounds, gated: config.gate === true,
  }, rng);
  if (head instanceof GaussianHead || head instanceof StateStdGaussianHead) actor.setWeights(withOutputBias(actor.getWeights(), head.centre()));
  return { head, actor, actorOpt: new Adam([...actor.variables, ...head.variables], config.lr, 0.9, 0.999, 1e-5) };
}

/** the spec field only where it is on, so networks without it keep the specs (and checkpoints) they had */
function hiddenLayerNormOf(config: MappoConfig): { hiddenLayerNorm?: true } {
  return config.hiddenLayerNorm === true ? { hiddenLayerNorm: true } : {};
}

/** The critic's input before the agent id and the time: the global state, the agent's observation, or that and its role's mean. */
function criticBase(config: MappoConfig, world: World, obsDim: number): number {
  if (config.algo === 'ippo') return obsDim;
  return config.criticInput === 'pooled' ? 2 * obsDim : world.stateSize;
}

function writeCriticInputs(nets: RoleNets, config: MappoConfig, world: World, observations: readonly Float32Array[], out: Float32Array): void {
  const n = nets.agents.length;
  const d = nets.obsDim;
  const time = config.criticTimeFeature ? 1 : 0;
  const base = criticBase(config, world, d);
  const cDim = base + (config.agentId ? n : 0) + time;
  const pooled = config.algo === 'mappo' && config.criticInput === 'pooled';
  const state = config.algo === 'ippo' || pooled ? null : world.state();
  const mean = new Float32Array(d);
  for (let e = 0; e < world.numEnvs; e++) {
    if (pooled) {
      mean.fill(0);
      for (const agent of nets.agents) { const o = observations[agent]; for (let j = 0; j < d; j++) mean[j] += o[e * d + j] / n; }
    }
    for (let k = 0; k < n; k++) {
      const row = (e * n + k) * cDim;
      if (state) out.set(state.subarray(e * base, (e + 1) * base), row);
      else out.set(observations[nets.agents[k]].subarray(e * d, (e + 1) * d), row);
      if (pooled) out.set(mean, row + d);
      if (config.agentId) for (let j = 0; j < n; j++) out[row + base + j] = j === k ? 1 : 0;
      if (time) out[row + cDim - 1] = world.stepsInEpisode(e) / world.maxCycles;
    }
  }
}

export async function trainMappo(config: MappoConfig, hooks: MappoHooks = {}, resume?: MappoCheckpoint): Promise<MappoCheckpoint> {
  let rng = new Rng(config.seed, 0x7a17);
  const world = openWorld(config.world, { numEnvs: config.numEnvs, config: config.worldConfig });
  checkConfigFitsWorld(config, world);
  const roles = buildRoles(world, config, rng);
  const e = config.numEnvs;
  const n = world.possibleAgents.length;
  const T = config.rolloutSteps;
  let envSteps = 0;
  let updates = 0;
  let observations: Float32Array[];
  let stats: EpisodeStats;
  if (resume) {
    resume.roles.forEach((saved, r) => {
      roles[r].actor.setWeights(saved.actor);
      roles[r].critic.setWeights(saved.critic);
      const head = roles[r].head;
      if (head instanceof GaussianHead) {
        if (!saved.logStd) throw new Error(`the checkpoint's ${saved.role} actor has no log-std: it was trained on discrete actions`);
        head.setLogStd(saved.logStd);
      }
      roles[r].valueNorm = ValueNormalizer.fromState(saved.valueNorm);
      roles[r].channel.alive.set(saved.alive);
      roles[r].actorOpt.setState(saved.actorOptimizer);
      roles[r].criticOpt.setState(saved.criticOptimizer);
    });
    envSteps = resume.envSteps;
    updates = resume.updates;
    rng = Rng.fromState(resume.loop.rng);
    observations = world.restore(resume.loop.world);
    stats = new EpisodeStats(world, resume.loop);
  } else {
    observations = world.reset(config.seed).observations;
    stats = new EpisodeStats(world);
    for (let env = 0; env < e; env++) roles.forEach((nets) => nets.channel.newEpisode(env, rng));
  }
  // self-play: the pools of past actors and one frozen actor per role to play them with
  let pools: ActorWeights[][] = config.selfPlay ? (resume?.opponentPools ?? roles.map((nets) => [nets.actor.getWeights()])) : [];
  // (their own throwaway Rng: the loop's stream must not move, or a resumed run would differ)
  const opponents = config.selfPlay ? roles.map((nets) => actorFromWeights(nets.actor.getWeights(), new Rng(0))) : [];
  // (only self-play plays against it; a plugin world may have none)
  const scripted = config.selfPlay && (config.scriptedOpponent ?? 0) > 0 ? scriptedController(world) : null;
  /** the role env `env` trains (self-play); every role elsewhere */
  const learns = (r: number, env: number) => !config.selfPlay || env % roles.length === r;
  // the world's actions: [E, N] indices, or [E, N, D] vectors (every agent's box has one length)
  const actionWidth = roles[0].head.width;
  const newActions = () => roles[0].head.kind === 'categorical' ? new Int32Array(e * n) : new Float32Array(e * n * actionWidth);
  const actions = newActions();
  const started = performance.now();
  let lastCheckpoint = started;

  // a recurrent actor trains on chunks of L steps
  const L = roles.some((nets) => nets.actor.stateSize > 0) ? config.chunkLength ?? defaultChunkLength(T) : 1;
  if (T % L !== 0) throw new Error(`chunkLength ${L} does not divide rolloutSteps ${T}`);
  // each minibatch's gradient is the sum of gradientShards parts, some computed by worker
  // threads (gradient-pool.ts); the rollout they read is shared memory then
  const shards = config.gradientShards ?? 1;
  const threads = Math.min(hooks.workers ?? 1, shards);
  const floats = (length: number) => (threads > 1 ? new Float32Array(new SharedArrayBuffer(4 * length)) : new Float32Array(length));

  // rollout storage per role: [T, E·roleSize, …]; masks [T, E, K, n, n]
  const store = roles.map((nets) => {
    const b = e * nets.agents.length;
    const H = nets.actor.stateSize;
    const inDim = nets.actor.inputSize;
    const cDim = nets.critic.spec.sizes[0];
    const maskSize = e * nets.actor.rounds * nets.agents.length ** 2;
    const rollout: RoleRollout = {
      envs: e, roleSize: nets.agents.length, chunk: L, inDim, cDim, maskSize, H,
      x: floats(T * b * inDim),
      c: floats(T * b * cDim),
      masks: floats(T * maskSize),
      actions: floats(T * b * nets.head.width),
      logp: floats(T * b),
      adv: floats(T * b),
      target: floats(T * b),
      vOld: floats(T * b),
      active: floats(T * b),
      /** a gated actor: 1 where the agent spoke in the step, 0 where it chose silence [T, b] */
      gates: floats(nets.actor.gated ? T * b : 0),
      /** a recurrent actor: the state entering each step [T, b, H] and whether it was zeroed before it [T, b] */
      states: floats(T * b * H),
      resets: floats(H > 0 ? T * b : 0),
    };
    return {
      ...rollout, rollout, b,
      values: new Float32Array(T * b),
      rewards: new Float32Array(T * b),
      dones: new Uint8Array(T * b),
      lastValues: new Float32Array(b),
      /** …and a recurrent actor's memory between steps (and rollouts) */
      memory: newActorMemory(nets.actor, b),
    };
  });
  if (resume) {
    resume.roles.forEach((saved, r) => {
      if (store[r].H === 0) return;
      if (!saved.recurrent) throw new Error(`the checkpoint's ${saved.role} actor is recurrent but the checkpoint holds no state for it`);
      store[r].memory.state.set(saved.recurrent.state);
      store[r].memory.resets.set(saved.recurrent.resets);
    });
  }
  const pool = threads > 1 ? await GradientPool.start(threads - 1, activeBackend(), config, roles.map((nets, r) => ({
    actor: nets.actor.getWeights(), critic: nets.critic.getWeights(), space: world.actionSpace(nets.agents[0]), rollout: store[r].rollout,
  }))) : null;

  const valuesOf = (nets: RoleNets, c: Float32Array, rows: number, out: Float32Array) => {
    const v = nets.critic.predict(c, rows);
    for (let k = 0; k < rows; k++) out[k] = config.valueNorm ? nets.valueNorm.denormalize(v[k]) : v[k];
  };

  const checkpoint = (): MappoCheckpoint => ({
    config,
    envSteps,
    updates,
    roles: roles.map((nets, r) => ({
      role: nets.role,
      actor: nets.actor.getWeights(),
      critic: nets.critic.getWeights(),
      ...(nets.head instanceof GaussianHead ? { logStd: nets.head.getLogStd() } : {}),
      valueNorm: nets.valueNorm.state(),
      actorOptimizer: nets.actorOpt.state(),
      criticOptimizer: nets.criticOpt.state(),
      alive: Array.from(nets.channel.alive),
      ...(nets.actor.stateSize > 0 ? { recurrent: { state: Array.from(store[r].memory.state), resets: Array.from(store[r].memory.resets) } } : {}),
    })),
    loop: { rng: rng.getState(), world: world.checkpoint(), ...stats.state() },
    ...(config.selfPlay ? { opponentPools: pools } : {}),
  });

  /** a gated actor: the share of the agents in a step that spoke, over the last rollout */
  const speakRates = (): Record<string, number> => Object.fromEntries(roles.flatMap((nets, r) => {
    if (!nets.actor.gated) return [];
    const s = store[r];
    let spoke = 0;
    let present = 0;
    for (let k = 0; k < s.gates.length; k++) if (s.active[k]) { present++; spoke += s.gates[k]; }
    return [[`comm/${roles.length > 1 ? `${nets.role}/` : ''}speak_rate`, present > 0 ? spoke / present : 0]];
  }));

  try {
    while (envSteps < config.totalSteps && !hooks.shouldStop?.()) {
      const rolloutStart = performance.now();
      const profile = { act: 0, world: 0, critic: 0, update: 0 };
      let tick = performance.now();
      const lap = (part: keyof typeof profile) => { const now = performance.now(); profile[part] += now - tick; tick = now; };

      // this rollout's opponent per role: a snapshot from the pool, or (sometimes) the scripted controller
      const scriptedRoles = roles.map(() => config.selfPlay && rng.next() < (config.scriptedOpponent ?? 0));
      if (config.selfPlay) opponents.forEach((actor, r) => actor.setWeights(pools[r][rng.int(pools[r].length)]));
      const scriptedActions = scriptedRoles.some(Boolean) ? newActions() : null;
      // ---- rollout ----
      for (let t = 0; t < T; t++) {
        if (scriptedActions) scripted!.act(observations, scriptedActions);
        roles.forEach((nets, r) => {
          const s = store[r];
          const roleSize = nets.agents.length;
          const inStep = s.active.subarray(t * s.b, (t + 1) * s.b);
          for (let row = 0; row < s.b; row++) inStep[row] = world.active[Math.floor(row / roleSize) * n + nets.agents[row % roleSize]];
          // a feed-forward actor reads the rows in the step only, here and in the update (a recurrent one every row)
          const x = s.x.subarray(t * s.b * s.inDim, (t + 1) * s.b * s.inDim);
          writeActorInputs(nets, observations, e, config.agentId, x, s.H === 0 ? inStep : undefined);
          const masks = nets.actor.rounds > 0 ? nets.channel.sample(rng) : null;
          if (s.H > 0) {
            // the state entering this step, as it will be after the resets actorLogits makes
            for (let row = 0; row < s.b; row++) {
              const reset = s.memory.resets[row];
              s.resets[t * s.b + row] = reset;
              if (reset) s.states.fill(0, (t * s.b + row) * s.H, (t * s.b + row + 1) * s.H);
              else s.states.set(s.memory.state.subarray(row * s.H, (row + 1) * s.H), (t * s.b + row) * s.H);
            }
          }
          // a gated actor samples who speaks (and gates the masks): the gate is an action, its log-probability part of the step's
          const gateLogp = nets.actor.gated ? new Float32Array(s.b) : null;
          const speakers = gateLogp ? (gateLogits: Float32Array) => {
            const spoke = s.gates.subarray(t * s.b, (t + 1) * s.b);
            GATE.act(gateLogits, rng, spoke, gateLogp);
            return spoke;
          } : undefined;
          const w = nets.head.width;
          // (a feed-forward actor computes the rows in the step only: the others' actions are not taken)
          const logits = actorLogits(nets.actor, x, masks, roleSize, { memory: s.H > 0 ? s.memory : undefined, speakers, inStep });
          if (masks) s.masks.set(masks, t * s.maskSize);
          if (config.selfPlay) {
            // envs where this role is the opponent act with its frozen snapshot
            const frozen = actorLogits(opponents[r], x, masks, roleSize, { inStep });
            const width = roleSize * nets.head.outputs;
            for (let env = 0; env < e; env++) if (!learns(r, env)) logits.set(frozen.subarray(env * width, (env + 1) * width), env * width);
          }
          const chosen = s.actions.subarray(t * s.b * w, (t + 1) * s.b * w);
          nets.head.act(logits, rng, chosen, s.logp.subarray(t * s.b, (t + 1) * s.b));
          if (gateLogp) for (let row = 0; row < s.b; row++) s.logp[t * s.b + row] += gateLogp[row];
          for (let row = 0; row < s.b; row++) {
            const slot = (Math.floor(row / roleSize) * n + nets.agents[row % roleSize]) * w;
            for (let k = 0; k < w; k++) actions[slot + k] = nets.head.toWorld(chosen[row * w + k], k);
          }
          if (scriptedActions && scriptedRoles[r]) {
            for (let env = 0; env < e; env++) if (!learns(r, env)) for (const i of nets.agents) actions.set(scriptedActions.subarray((env * n + i) * w, (env * n + i + 1) * w), (env * n + i) * w);
            // what was done is what trains (those envs' rows never reach a minibatch, but stay honest)
            for (let row = 0; row < s.b; row++) {
              const slot = (Math.floor(row / roleSize) * n + nets.agents[row % roleSize]) * w;
              for (let k = 0; k < w; k++) chosen[row * w + k] = nets.head.fromWorld(actions[slot + k], k);
            }
          }
          lap('act');
          const c = s.c.subarray(t * s.b * s.cDim, (t + 1) * s.b * s.cDim);
          writeCriticInputs(nets, config, world, observations, c);
          valuesOf(nets, c, s.b, s.values.subarray(t * s.b, (t + 1) * s.b));
          lap('critic');
        });
        const result = world.step(actions);
        lap('world');
        roles.forEach((nets, r) => {
          const s = store[r];
          const roleSize = nets.agents.length;
          for (let row = 0; row < s.b; row++) {
            const env = Math.floor(row / roleSize);
            const slot = env * n + nets.agents[row % roleSize];
            s.rewards[t * s.b + row] = result.rewards[slot];
            // what speaking costs (training only; the returns reported are the world's)
            if (nets.actor.gated && s.active[t * s.b + row]) s.rewards[t * s.b + row] -= (config.messageCost ?? 0) * s.gates[t * s.b + row];
            // the episode ended, or this agent left it
            s.dones[t * s.b + row] = result.episodeEnded[env] || (s.active[t * s.b + row] && !result.active[slot]) ? 1 : 0;
            // a recurrent actor forgets at an episode's end and after a step it was not in
            if (s.H > 0) s.memory.resets[row] = s.dones[t * s.b + row] || !s.active[t * s.b + row] ? 1 : 0;
          }
        });
        stats.record(result, (env) => roles.forEach((nets) => nets.channel.newEpisode(env, rng)));
        observations = result.observations;
        lap('world');
      }
      envSteps += T * e;
      roles.forEach((nets, r) => {
        const s = store[r];
        const c = new Float32Array(s.b * s.cDim);
        writeCriticInputs(nets, config, world, observations, c);
        valuesOf(nets, c, s.b, s.lastValues);
      });
      lap('critic');

      // ---- update ----
      const progress = Math.min(1, envSteps / config.totalSteps);
      const lrScale = config.lrDecay ? 1 - progress : 1;
      const losses: Record<string, number> = {};
      for (const [r, nets] of roles.entries()) {
        const s = store[r];
        const roleSize = nets.agents.length;
        nets.actorOpt.learningRate = config.lr * lrScale;
        nets.criticOpt.learningRate = config.criticLr * lrScale;
        const { advantages, returns } = computeGae({
          rewards: s.rewards, values: s.values, dones: s.dones, lastValues: s.lastValues, gamma: config.gamma, lambda: config.lambda,
        });
        if (config.valueNorm) nets.valueNorm.update(returns);
        const total = T * s.b;
        for (let k = 0; k < total; k++) {
          s.target[k] = config.valueNorm ? nets.valueNorm.normalize(returns[k]) : returns[k];
          s.vOld[k] = config.valueNorm ? nets.valueNorm.normalize(s.values[k]) : s.values[k];
        }
        normalizeInPlace(advantages, (k) => s.active[k] === 1 && learns(r, Math.floor((k % s.b) / roleSize)));
        s.adv.set(advantages);

        const sums = { policy: 0, value: 0, entropy: 0, kl: 0, clipfrac: 0, steps: 0 };
        // minibatches of whole teams over chunks of L steps (blocks: mappo-minibatch.ts); with
        // L = 1 (every feed-forward actor) a block is one step of one env's team
        // (under self-play only the blocks of envs where this role learns)
        // (and, where agents come and go, only blocks with someone in them: an empty one adds nothing to any loss)
        const someoneIn = (block: number) => Array.from({ length: L }, (_, t) => rowOf(s.rollout, block, t, 0)).some((row) => s.active.subarray(row, row + roleSize).includes(1));
        const order = Int32Array.from({ length: (T / L) * e }, (_, k) => k).filter((block) => learns(r, block % e) && someoneIn(block));
        const blocks = order.length;
        const mbBlocks = Math.floor(blocks / config.minibatches);
        // (minibatches are gathered in JS from the rollout: tfjs-wasm's gather was a fifth of a run's time)
        const sparse = sparseInputs(s.rollout);
        pool?.newRollout(r);
        const actorVariables = [...nets.actor.variables, ...nets.head.variables];
        // (a rollout with nobody in any env, or too few blocks for a minibatch, has nothing to learn from)
        for (let epoch = 0; epoch < (mbBlocks > 0 ? config.epochs : 0); epoch++) {
          for (let k = blocks - 1; k > 0; k--) { const j = rng.int(k + 1); [order[k], order[j]] = [order[j], order[k]]; }
          for (let m = 0; m < config.minibatches; m++) {
            const chosen = order.subarray(m * mbBlocks, (m + 1) * mbBlocks);
            const count = presentRows(s.rollout, chosen);
            const parts = splitBlocks(chosen, shards);
            // shard k is thread k mod threads' (thread 0: this one): the workers' first, so they run while this thread computes its own
            const weights = pool ? { actor: actorVariables.map((v) => v.dataSync() as Float32Array), critic: nets.critic.variables.map((v) => v.dataSync() as Float32Array) } : null;
            const remote = parts.map((part, k) => (pool && k % threads !== 0 ? pool.shard(k % threads - 1, r, weights!.actor, weights!.critic, part, count) : null));
            const local = parts.map((part, k) => (remote[k] ? null : shardGradients(nets, config, s.rollout, sparse, part, count)));
            const results: ShardResult<tf.Tensor | Float32Array>[] = [];
            for (let k = 0; k < parts.length; k++) results.push(local[k] ?? await remote[k]!);
            tf.tidy(() => {
              // the shards' gradients added in shard order, whichever thread computed them
              const sum = (grads: (tf.Tensor | Float32Array)[][], variables: tf.Variable[]): tf.NamedTensorMap => Object.fromEntries(variables.map((v, i) => {
                const parts = grads.map((g) => (g[i] instanceof Float32Array ? tf.tensor(g[i] as Float32Array, v.shape) : g[i] as tf.Tensor));
                return [v.name, parts.reduce((acc, g) => tf.add(acc, g))];
              }));
              nets.actorOpt.applyGradients(clipByGlobalNorm(sum(results.map((x) => x.actor), actorVariables), config.maxGradNorm));
              nets.criticOpt.applyGradients(clipByGlobalNorm(sum(results.map((x) => x.critic), nets.critic.variables), config.maxGradNorm));
            });
            for (const result of local) if (result) tf.dispose([...result.actor, ...result.critic]);
            for (const result of results) {
              sums.policy += result.policy;
              sums.value += result.value;
              sums.entropy += result.entropy;
              sums.kl += result.kl;
              sums.clipfrac += result.clipfrac;
            }
            sums.steps++;
          }
        }
        const prefix = roles.length > 1 ? `${nets.role}/` : '';
        const updatesMade = Math.max(1, sums.steps);
        losses[`losses/${prefix}policy_loss`] = sums.policy / updatesMade;
        losses[`losses/${prefix}value_loss`] = sums.value / updatesMade;
        losses[`losses/${prefix}entropy`] = sums.entropy / updatesMade;
        losses[`losses/${prefix}approx_kl`] = sums.kl / updatesMade;
        losses[`losses/${prefix}clipfrac`] = sums.clipfrac / updatesMade;
      }
      updates++;
      lap('update');
      const selfPlayMetrics: Record<string, number> = {};
      if (config.selfPlay && updates % config.snapshotEvery === 0) {
        pools = roles.map((nets, r) => [...pools[r], nets.actor.getWeights()].slice(-config.opponentPool));
        Object.assign(selfPlayMetrics, measureSelfPlay(checkpoint(), config.selfPlayEpisodes ?? 50, config.seed));
      }

      hooks.onUpdate?.({
        'global/env_steps': envSteps,
        'global/updates': updates,
        ...summaryMetrics(stats.drain()),
        'train/env_steps_per_s': Math.round((T * e) / ((performance.now() - rolloutStart) / 1000)),
        'time/wall_s': (performance.now() - started) / 1000,
        'train/learning_rate': config.lr * lrScale,
        // where this update's time went
        'time/act_s': profile.act / 1000,
        'time/critic_s': profile.critic / 1000,
        'time/world_s': profile.world / 1000,
        'time/update_s': profile.update / 1000,
        ...losses,
        ...speakRates(),
        ...selfPlayMetrics,
      });
      if (hooks.onCheckpoint && performance.now() - lastCheckpoint >= (hooks.checkpointEverySeconds ?? 60) * 1000) {
        hooks.onCheckpoint(checkpoint());
        lastCheckpoint = performance.now();
      }
      await new Promise((resolve) => setImmediate(resolve)); // let signals and I/O through
    }
  } catch (err) {
    checkpointIfSimulatorLost(err, hooks, checkpoint);
  } finally {
    await pool?.close();
  }

  return checkpoint();
}

/**
 * A recurrent actor's training sequences when the run names none: the longest chunk of at most
 * 10 steps (the MAPPO paper's) that divides the rollout — 5 for the default 25-step rollout.
 * Measured on cue_recall_v0 (examples/worlds/recall.js, seed 1): whole 25-step rollouts learned
 * perfect recall by 41 k steps at 61 s of updates per 100 k steps; chunks of 5 by 51 k steps at
 * 13 s (each step of a sequence is a row of small tfjs calls, so fewer, wider steps run faster).
 */
export function defaultChunkLength(rolloutSteps: number): number {
  for (let length = Math.min(10, rolloutSteps); length > 1; length--) if (rolloutSteps % length === 0) return length;
  return 1;
}

/** Advantages to mean 0, standard deviation 1 over the rows that train (all by default). */
function normalizeInPlace(values: Float32Array | Float64Array, include: (k: number) => boolean = () => true): void {
  let count = 0;
  let mean = 0;
  for (let k = 0; k < values.length; k++) if (include(k)) { mean += values[k]; count++; }
  mean /= Math.max(1, count);
  let variance = 0;
  for (let k = 0; k < values.length; k++) if (include(k)) variance += (values[k] - mean) ** 2;
  const std = Math.sqrt(variance / Math.max(1, count)) + 1e-8;
  for (let k = 0; k < values.length; k++) values[k] = (values[k] - mean) / std;
}
