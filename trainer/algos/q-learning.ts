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

import { discreteActions, openWorld, Rng, roleGroups, type World } from '@fleetmind/worlds';
import { tf } from '../backend.js';
import { Mlp } from '../nn/mlp.js';
import { Mixer } from '../nn/mixer.js';
import { actorInputSize, replayAgentInputs, writeActorInputs } from '../nn/agent-inputs.js';
import { Adam } from '../rl/adam.js';
import { clipByGlobalNorm } from '../rl/clip-grads.js';
import type { ReplayBuffer } from '../rl/replay-buffer.js';
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
  net: Mlp;
  target: Mlp;
  mixer: Mixer | null;
  targetMixer: Mixer | null;
  opt: Adam;
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
    const spec = { sizes: [actorInputSize(obsDim, agents.length, config.agentId), ...config.hidden, numActions], activation: config.activation, outputGain: 1, inputLayerNorm: config.inputLayerNorm };
    const net = new Mlp(spec, rng);
    const target = new Mlp(spec, rng);
    hardUpdate(target.variables, net.variables);
    const mixerSpec = config.algo === 'iql' ? null : {
      kind: config.algo, numAgents: agents.length, stateSize: world.stateSize, embed: config.mixerEmbed, hyperHidden: config.hyperHidden,
    };
    const mixer = mixerSpec ? new Mixer(mixerSpec, rng) : null;
    const targetMixer = mixerSpec ? new Mixer(mixerSpec, rng) : null;
    if (mixer && targetMixer) hardUpdate(targetMixer.variables, mixer.variables);
    const opt = new Adam([...net.variables, ...(mixer?.variables ?? [])], config.lr, 0.9, 0.999, 1e-5);
    return { role, agents, obsDim, numActions, net, target, mixer, targetMixer, opt };
  });
}

/** One gradient step of a role on a batch of replay slots; returns the TD loss. */
function updateRole(nets: RoleQ, replay: ReplayBuffer, slots: Int32Array, config: QLearningConfig): number {
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
      const x = new Float32Array(e * m * nets.net.spec.sizes[0]);
      writeActorInputs(nets, observations, e, this.config.agentId, x);
      const q = nets.net.predict(x, e * m);
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
    while (this.updates < due && (config.algo === 'iql' || replay.episodeCount > 0)) {
      for (const nets of this.roles) {
        const slots = config.algo === 'iql' ? replay.sampleTransitions(config.batchSize, rng) : replay.sampleEpisodes(config.batchEpisodes, rng);
        this.lossSum += updateRole(nets, replay, slots, config);
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
      roles[r].net.setWeights(saved.actor);
      roles[r].target.setWeights(saved.target);
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
