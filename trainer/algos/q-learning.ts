// Deep Q-learning for teams: independent Q-learning (IQL: Tan 1993 with DQN's replay and target
// network, Mnih et al. 2015), VDN (Sunehag et al. 2018) and QMIX (Rashid et al. 2018). They share
// everything but how an agent's Q-value meets its target:
//
//   IQL:       Q_i(o_i, a_i)                 ← r_i + γ · Q̄_i(o′_i, a*_i)
//   VDN/QMIX:  Q_tot(s, Q_1(o_1,a_1), …)    ← r_team + γ · Q̄_tot(s′, Q̄_1(o′_1, a*_1), …)
//
// with a*_i = argmax Q_i(o′_i, ·) of the online network (double Q-learning) and Q̄ the target
// networks, copied from the online ones every targetUpdateEvery updates. Agents of a role share
// one Q-network (with an optional one-hot agent id); each role is its own team with its own
// mixer, so a competitive world (predators and prey) trains both sides. The greedy Q-network is
// the policy: argmax_a Q_i(o_i, a) from the agent's own observation, as on a robot.
//
// Acting is ε-greedy with ε falling linearly; every trainEvery env steps one update on a batch
// from the replay (whole episodes for VDN/QMIX, transitions for IQL). A step-limit cut is not
// terminal: the target bootstraps from the final observation.
//
// The Q-network is an MLP of the agent's observation, or a GRU that remembers the episode so far
// (PyMARL's RNN agent): it acts with each agent's state carried from step to step (zeroed where
// a robot's would be: policy/forgetting.ts), and learns on whole episodes, each unrolled from its
// start over o_0 … o_T so that Q(o_t) and the bootstrap's Q̄(o_t+1) come from the same pass.

import { discreteActions, openWorld, Rng, roleGroups, type World } from '@fleetmind/worlds';
import { tf, tidyNumbers } from '../backend.js';
import { Mlp } from '../nn/mlp.js';
import { Gru } from '../nn/gru.js';
import { isGruWeights, type ActorWeights } from '../nn/actor.js';
import { Forgetting } from '../policy/forgetting.js';
import { Mixer } from '../nn/mixer.js';
import { actorInputSize, replayAgentInputs, writeActorInputs } from '../nn/agent-inputs.js';
import { Adam } from '../rl/adam.js';
import { clipByGlobalNorm } from '../rl/clip-grads.js';
import type { EpisodeSequences, ReplayBuffer } from '../rl/replay-buffer.js';
import { hardUpdate } from '../rl/target-network.js';
import { defaultQLearningConfig, type QLearningConfig } from './q-learning-config.js';
import type { TrainingHooks } from './hooks.js';
import { runOffPolicy, type OffPolicyLearner } from './off-policy-loop.js';
import type { QLearningCheckpoint, QRoleCheckpoint } from '../runs/checkpoint-schema.js';

export { defaultQLearningConfig, type QLearningConfig };

interface RoleQ {
  role: string;
  agents: number[];
  obsDim: number;
  numActions: number;
  net: Mlp | Gru;
  target: Mlp | Gru;
  mixer: Mixer | null;
  targetMixer: Mixer | null;
  opt: Adam;
  /** a GRU's acting memory: each row's state [E·m, H] (rows env-major, then agent) and when it is zeroed */
  memory: { state: Float32Array; forgetting: Forgetting } | null;
}

/** Loads saved weights into a Q-network of the same kind, or says what does not fit. */
function setQWeights(net: Mlp | Gru, weights: ActorWeights, what: string): void {
  if (net instanceof Gru !== isGruWeights(weights)) throw new Error(`the checkpoint's ${what} is ${isGruWeights(weights) ? 'a GRU' : 'an MLP'}; this run's is ${net instanceof Gru ? 'a GRU' : 'an MLP'}`);
  if (net instanceof Gru) net.setWeights(weights as Parameters<Gru['setWeights']>[0]);
  else net.setWeights(weights as Parameters<Mlp['setWeights']>[0]);
}

/** ε at a given number of env steps: linear from epsilonStart to epsilonEnd over epsilonSteps. */
export function epsilonAt(config: Pick<QLearningConfig, 'epsilonStart' | 'epsilonEnd' | 'epsilonSteps'>, envSteps: number): number {
  const progress = Math.min(1, envSteps / Math.max(1, config.epsilonSteps));
  return config.epsilonStart + (config.epsilonEnd - config.epsilonStart) * progress;
}

function buildRoles(world: World, config: QLearningConfig, rng: Rng): RoleQ[] {
  return roleGroups(world.roles).map(({ role, agents }) => {
    const obsDim = world.observationSpace(agents[0]).shape[0];
    const numActions = discreteActions(world, agents[0], 'IQL/VDN/QMIX');
    const inputSize = actorInputSize(obsDim, agents.length, config.agentId);
    const spec = { sizes: [inputSize, ...config.hidden, numActions], activation: config.activation, outputGain: 1, inputLayerNorm: config.inputLayerNorm };
    const gruSpec = { recurrent: 'gru' as const, inputSize, hidden: config.hidden[0], numActions, inputLayerNorm: config.inputLayerNorm };
    const makeNet = () => (config.actor === 'gru' ? new Gru(gruSpec, rng) : new Mlp(spec, rng));
    const net = makeNet();
    const target = makeNet();
    hardUpdate(target.variables, net.variables);
    const mixerSpec = config.algo === 'iql' ? null : {
      kind: config.algo, numAgents: agents.length, stateSize: world.stateSize, embed: config.mixerEmbed, hyperHidden: config.hyperHidden,
    };
    const mixer = mixerSpec ? new Mixer(mixerSpec, rng) : null;
    const targetMixer = mixerSpec ? new Mixer(mixerSpec, rng) : null;
    if (mixer && targetMixer) hardUpdate(targetMixer.variables, mixer.variables);
    const opt = new Adam([...net.variables, ...(mixer?.variables ?? [])], config.lr, 0.9, 0.999, 1e-5);
    const rows = config.numEnvs * agents.length;
    const memory = net instanceof Gru ? { state: new Float32Array(rows * gruSpec.hidden), forgetting: new Forgetting(world, agents, rows) } : null;
    return { role, agents, obsDim, numActions, net, target, mixer, targetMixer, opt, memory };
  });
}

/** Q-values for acting, [rows, A]: a GRU from each row's state, which it advances (zeroed first where a robot's would be). */
function actingQ(nets: RoleQ, x: Float32Array, rows: number, envs: number): Float32Array {
  const { net, memory } = nets;
  if (!(net instanceof Gru) || !memory) return (net as Mlp).predict(x, rows);
  const H = net.spec.hidden;
  const resets = new Uint8Array(rows);
  memory.forgetting.mark(resets, envs);
  for (let row = 0; row < rows; row++) if (resets[row]) memory.state.fill(0, row * H, (row + 1) * H);
  return tidyNumbers(() => {
    const out = net.applySequence(tf.tensor2d(x, [rows, net.spec.inputSize]), tf.zeros([rows]), tf.tensor2d(memory.state, [rows, H]), 1);
    memory.state.set(out.state.dataSync());
    return out.logits.dataSync() as Float32Array;
  });
}

/** One gradient step of a role on a batch of replay slots; returns the TD loss. */
function updateRole(nets: RoleQ & { net: Mlp; target: Mlp }, replay: ReplayBuffer, slots: Int32Array, config: QLearningConfig): number {
  const m = nets.agents.length;
  const b = slots.length;
  const inDim = nets.net.spec.sizes[0];
  const actions = new Int32Array(b * m);
  const notDone = new Float32Array(b);
  const rewards = new Float32Array(nets.mixer ? b : b * m);
  for (let k = 0; k < b; k++) {
    notDone[k] = replay.isTerminal(slots[k]) ? 0 : 1;
    nets.agents.forEach((agent, q) => {
      actions[k * m + q] = replay.actionOf(agent, slots[k]);
      if (nets.mixer) rewards[k] += replay.rewardOf(agent, slots[k]);
      else rewards[k * m + q] = replay.rewardOf(agent, slots[k]);
    });
  }
  return tf.tidy(() => {
    const x = tf.tensor2d(replayAgentInputs(replay, nets, slots, config.agentId, false), [b * m, inDim]);
    const xNext = tf.tensor2d(replayAgentInputs(replay, nets, slots, config.agentId, true), [b * m, inDim]);
    const taken = tf.oneHot(tf.tensor1d(actions, 'int32'), nets.numActions);
    // the target: r + γ·(1 − terminal)·Q̄(next, a*) — no gradient flows through it
    const qNextTarget = nets.target.apply(xNext);
    const nextBest = config.doubleQ ? tf.argMax(nets.net.apply(xNext), 1) : tf.argMax(qNextTarget, 1);
    const qNext = tf.sum(tf.mul(qNextTarget, tf.oneHot(nextBest, nets.numActions)), 1);
    const states = nets.mixer ? tf.tensor2d(replay.statesOf(slots, false), [b, replay.layout.stateSize]) : null;
    const bootstrap = nets.targetMixer
      ? nets.targetMixer.apply(tf.reshape(qNext, [b, m]), tf.tensor2d(replay.statesOf(slots, true), [b, replay.layout.stateSize]))
      : qNext;
    const discount = nets.mixer ? tf.mul(tf.tensor1d(notDone), config.gamma) : tf.reshape(tf.tile(tf.reshape(tf.mul(tf.tensor1d(notDone), config.gamma), [b, 1]), [1, m]), [-1]);
    const target = tf.add(tf.tensor1d(rewards), tf.mul(discount, bootstrap));
    const { value, grads } = tf.variableGrads(() => {
      const q = tf.sum(tf.mul(nets.net.apply(x), taken), 1);
      const estimate = nets.mixer && states ? nets.mixer.apply(tf.reshape(q, [b, m]), states) : q;
      return tf.mean(tf.square(tf.sub(estimate, target))) as tf.Scalar;
    }, [...nets.net.variables, ...(nets.mixer?.variables ?? [])]);
    nets.opt.applyGradients(clipByGlobalNorm(grads, config.maxGradNorm));
    return value.dataSync()[0];
  });
}

/**
 * One gradient step of a role with GRU Q-networks on whole episodes; returns the TD loss (the
 * mean over the steps inside their episodes). Every episode is unrolled from a zero state over
 * its observations o_0 … o_T (o_T: the final one), online and target alike: step t's output is
 * Q(o_t), step t+1's the bootstrap's. Steps past a shorter episode's end are left out.
 */
function updateRoleRecurrent(nets: RoleQ & { net: Gru; target: Gru }, replay: ReplayBuffer, batch: EpisodeSequences, config: QLearningConfig): number {
  const m = nets.agents.length;
  const { steps: T, episodes: B, slots, valid, lengths } = batch;
  const inDim = nets.net.spec.inputSize;
  const H = nets.net.spec.hidden;
  const A = nets.numActions;
  const rows = B * m; // rows per step
  const x = new Float32Array((T + 1) * rows * inDim);
  x.set(replayAgentInputs(replay, nets, slots, config.agentId, false));
  const finals = replayAgentInputs(replay, nets, Int32Array.from(lengths, (length, b) => slots[(length - 1) * B + b]), config.agentId, true);
  for (let b = 0; b < B; b++) {
    // o_length at step length, and repeated after it (those steps are never valid)
    for (let t = lengths[b]; t <= T; t++) x.set(finals.subarray(b * m * inDim, (b + 1) * m * inDim), (t * rows + b * m) * inDim);
  }
  const actions = new Int32Array(T * rows);
  const notDone = new Float32Array(T * B);
  const rewards = new Float32Array(nets.mixer ? T * B : T * rows);
  const weights = new Float32Array(nets.mixer ? T * B : T * rows);
  for (let k = 0; k < T * B; k++) {
    notDone[k] = replay.isTerminal(slots[k]) ? 0 : 1;
    if (nets.mixer) weights[k] = valid[k];
    nets.agents.forEach((agent, q) => {
      actions[k * m + q] = replay.actionOf(agent, slots[k]);
      if (nets.mixer) rewards[k] += replay.rewardOf(agent, slots[k]);
      else {
        rewards[k * m + q] = replay.rewardOf(agent, slots[k]);
        weights[k * m + q] = valid[k];
      }
    });
  }
  return tf.tidy(() => {
    const input = tf.tensor2d(x, [(T + 1) * rows, inDim]);
    const noResets = tf.zeros([(T + 1) * rows]) as tf.Tensor1D;
    const h0 = tf.zeros([rows, H]) as tf.Tensor2D;
    const now = (q: tf.Tensor2D) => tf.slice(q, [0, 0], [T * rows, A]);
    const next = (q: tf.Tensor2D) => tf.slice(q, [rows, 0], [T * rows, A]);
    const qNextTarget = next(nets.target.applySequence(input, noResets, h0, T + 1).logits);
    const taken = tf.oneHot(tf.tensor1d(actions, 'int32'), A);
    // per step (a team's Q_tot), or per step and agent (IQL)
    const perStep = tf.mul(tf.tensor1d(notDone), config.gamma);
    const discount = nets.mixer ? perStep : tf.reshape(tf.tile(tf.reshape(perStep, [T * B, 1]), [1, m]), [-1]);
    const mask = tf.tensor1d(weights);
    const states = nets.mixer ? tf.tensor2d(replay.statesOf(slots, false), [T * B, replay.layout.stateSize]) : null;
    const nextStates = nets.targetMixer ? tf.tensor2d(replay.statesOf(slots, true), [T * B, replay.layout.stateSize]) : null;
    const { value, grads } = tf.variableGrads(() => {
      const qAll = nets.net.applySequence(input, noResets, h0, T + 1).logits;
      // (the argmax carries no gradient: the target stays fixed, as with the MLP's separate pass)
      const nextBest = config.doubleQ ? tf.argMax(next(qAll), 1) : tf.argMax(qNextTarget, 1);
      const qNext = tf.sum(tf.mul(qNextTarget, tf.oneHot(nextBest, A)), 1);
      const bootstrap = nets.targetMixer && nextStates ? nets.targetMixer.apply(tf.reshape(qNext, [T * B, m]), nextStates) : qNext;
      const target = tf.add(tf.tensor1d(rewards), tf.mul(discount, bootstrap));
      const q = tf.sum(tf.mul(now(qAll), taken), 1);
      const estimate = nets.mixer && states ? nets.mixer.apply(tf.reshape(q, [T * B, m]), states) : q;
      return tf.div(tf.sum(tf.mul(tf.square(tf.sub(estimate, target)), mask)), tf.sum(mask)) as tf.Scalar;
    }, [...nets.net.variables, ...(nets.mixer?.variables ?? [])]);
    nets.opt.applyGradients(clipByGlobalNorm(grads, config.maxGradNorm));
    return value.dataSync()[0];
  });
}

function isRecurrent(nets: RoleQ): nets is RoleQ & { net: Gru; target: Gru } {
  return nets.net instanceof Gru && nets.target instanceof Gru;
}

/** The Q-learner the off-policy loop drives: ε-greedy acting, due updates, target copies. */
class QLearner implements OffPolicyLearner {
  updates = 0;
  private lossSum = 0;
  private lossCount = 0;

  constructor(private readonly roles: RoleQ[], private readonly config: QLearningConfig, private readonly numAgents: number) {}

  act(observations: readonly Float32Array[], actions: Int32Array, envSteps: number, rng: Rng): void {
    const epsilon = epsilonAt(this.config, envSteps);
    const e = this.config.numEnvs;
    for (const nets of this.roles) {
      const m = nets.agents.length;
      const x = new Float32Array(e * m * actorInputSize(nets.obsDim, m, this.config.agentId));
      writeActorInputs(nets, observations, e, this.config.agentId, x);
      const q = actingQ(nets, x, e * m, e);
      for (let row = 0; row < e * m; row++) {
        let a = 0;
        if (rng.next() < epsilon) a = rng.int(nets.numActions);
        else for (let k = 1; k < nets.numActions; k++) if (q[row * nets.numActions + k] > q[row * nets.numActions + a]) a = k;
        actions[Math.floor(row / m) * this.numAgents + nets.agents[row % m]] = a;
      }
    }
  }

  learn(replay: ReplayBuffer, envSteps: number, rng: Rng): void {
    const { config } = this;
    const due = envSteps < config.learningStarts ? 0 : Math.floor((envSteps - config.learningStarts) / config.trainEvery) + 1;
    const byTransitions = config.algo === 'iql' && config.actor === 'mlp';
    while (this.updates < due && (byTransitions || replay.episodeCount > 0)) {
      for (const nets of this.roles) {
        if (isRecurrent(nets)) this.lossSum += updateRoleRecurrent(nets, replay, replay.sampleEpisodeSequences(config.batchEpisodes, rng), config);
        else this.lossSum += updateRole(nets as RoleQ & { net: Mlp; target: Mlp }, replay, byTransitions ? replay.sampleTransitions(config.batchSize, rng) : replay.sampleEpisodes(config.batchEpisodes, rng), config);
        this.lossCount++;
      }
      this.updates++;
      if (this.updates % config.targetUpdateEvery === 0) {
        for (const nets of this.roles) {
          hardUpdate(nets.target.variables, nets.net.variables);
          if (nets.mixer && nets.targetMixer) hardUpdate(nets.targetMixer.variables, nets.mixer.variables);
        }
      }
    }
  }

  drainMetrics(envSteps: number): Record<string, number> {
    const metrics = { 'global/updates': this.updates, 'train/epsilon': epsilonAt(this.config, envSteps), 'losses/td_loss': this.lossCount ? this.lossSum / this.lossCount : NaN };
    this.lossSum = 0;
    this.lossCount = 0;
    return metrics;
  }
}

export async function trainQLearning(config: QLearningConfig, hooks: TrainingHooks<QLearningCheckpoint> = {}, resume?: QLearningCheckpoint): Promise<QLearningCheckpoint> {
  const rng = new Rng(config.seed, 0x91ea);
  const world = openWorld(config.world, { numEnvs: config.numEnvs, config: config.worldConfig });
  const roles = buildRoles(world, config, rng);
  const learner = new QLearner(roles, config, world.possibleAgents.length);
  if (resume) {
    resume.roles.forEach((saved, r) => {
      setQWeights(roles[r].net, saved.actor, `${saved.role} Q-network`);
      setQWeights(roles[r].target, saved.target, `${saved.role} target Q-network`);
      const memory = roles[r].memory;
      if (memory) {
        if (!saved.memory || saved.memory.state.length !== memory.state.length) throw new Error(`the checkpoint's ${saved.role} role has no acting memory for its GRU of ${memory.state.length} numbers`);
        memory.state.set(saved.memory.state);
        memory.forgetting.restore(Uint8Array.from(saved.memory.wasActive));
      }
      if (saved.mixer) roles[r].mixer?.setWeights(saved.mixer);
      if (saved.targetMixer) roles[r].targetMixer?.setWeights(saved.targetMixer);
      roles[r].opt.setState(saved.optimizer);
    });
    learner.updates = resume.updates;
  }
  try {
    return await runOffPolicy({
      world, config, learner, rng, hooks, resume,
      checkpoint: (state) => ({
        config, ...state, updates: learner.updates,
        roles: roles.map((nets) => ({
          role: nets.role,
          actor: nets.net.getWeights(),
          target: nets.target.getWeights(),
          mixer: nets.mixer?.getWeights() ?? null,
          targetMixer: nets.targetMixer?.getWeights() ?? null,
          optimizer: nets.opt.state(),
          ...(nets.memory ? { memory: { state: Array.from(nets.memory.state), wasActive: Array.from(nets.memory.forgetting.saved()) } } : {}),
        })),
      }),
    });
  } finally {
    for (const nets of roles) {
      [nets.net, nets.target, nets.mixer, nets.targetMixer].forEach((net) => net?.dispose());
      nets.opt.dispose();
    }
  }
}
