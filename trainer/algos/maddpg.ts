// MADDPG (Lowe et al. 2017, "Multi-Agent Actor-Critic for Mixed Cooperative-Competitive
// Environments"): each agent's actor sees only its own observation; its
// critic Q_i(s, a_1, …, a_N) sees the global state and every agent's action, so the other
// agents' changing policies are part of what it conditions on, not noise it must average over.
//
//   critic:  Q_i(s, a) ← r_i + γ · Q̄_i(s′, ā′)           ā′_j = one-hot argmax of the target actor j on o′_j
//   actor:   maximise Q_i(s, a_1, …, y_i, …, a_N)           y_i = Gumbel-softmax(logits_i(o_i), τ)
//
// The relaxed sample y_i (Jang et al. 2017) lets the critic's gradient reach the actor through a
// discrete choice; a small penalty on the logits keeps them from running off. Targets follow the
// online networks by Polyak averaging. Agents of a role share actor and critic, told apart by a
// one-hot agent id; rollouts sample actions from the actor's softmax. The greedy actor (argmax of
// its logits) is the policy a robot runs.
//
// Continuous actions (a Box), as in the paper: the actor is deterministic, a = μ_i(o_i), its output
// the action vector itself (starting at the box's centre), and the policy gradient flows through
// the critic straight into it:  maximise Q_i(s, a_1, …, μ_i(o_i), …, a_N). Rollouts add Gaussian
// noise and clip into the box; targets use μ̄′ clipped; a penalty on the actor's distance outside
// the box keeps it where the critic has seen actions.

import { openWorld, Rng, roleGroups, type Actions, type ActionSpace, type World, type ContinuousSpace } from '@fleetmind/worlds';
import { tf } from '../backend.js';
import { Mlp, type MlpWeights } from '../nn/mlp.js';
import { actorInputSize, replayAgentInputs, writeActorInputs } from '../nn/agent-inputs.js';
import { Adam } from '../rl/adam.js';
import { actCategorical } from '../rl/categorical.js';
import { standardNormal } from '../rl/normal.js';
import { withOutputBias } from '../nn/actor.js';
import { clipByGlobalNorm } from '../rl/clip-grads.js';
import { gumbelSoftmax } from '../rl/gumbel-softmax.js';
import type { ReplayBuffer } from '../rl/replay-buffer.js';
import { hardUpdate, polyakUpdate } from '../rl/target-network.js';
import { defaultMaddpgConfig, type MaddpgConfig } from './maddpg-config.js';
import type { TrainingHooks } from './hooks.js';
import { runOffPolicy, type OffPolicyLearner } from './off-policy-loop.js';
import type { MaddpgCheckpoint, MaddpgRoleCheckpoint } from '../runs/checkpoint-schema.js';

export { defaultMaddpgConfig, type MaddpgConfig };

interface RoleNets {
  role: string;
  agents: number[];
  obsDim: number;
  /** discrete: the number of actions (a one-hot of that width in the critic); continuous: the vector's length */
  numActions: number;
  /** the role's box, for continuous actions (null: discrete) */
  box: ContinuousSpace | null;
  actor: Mlp;
  targetActor: Mlp;
  critic: Mlp;
  targetCritic: Mlp;
  actorOpt: Adam;
  criticOpt: Adam;
}

/** How wide an agent's action is in the critic's input: a one-hot of n, or the vector of D. */
const actionWidth = (space: ActionSpace) => (space.kind === 'discrete' ? space.n : space.shape[0]);

/** Where each agent's action sits in the critic's joint-action input. */
function actionOffsets(world: World): number[] {
  const offsets: number[] = [];
  let at = 0;
  for (const agent of world.possibleAgents) { offsets.push(at); at += actionWidth(world.actionSpace(agent)); }
  return offsets;
}

function buildRoles(world: World, config: MaddpgConfig, rng: Rng): RoleNets[] {
  const jointActions = world.possibleAgents.reduce((sum, a) => sum + actionWidth(world.actionSpace(a)), 0);
  return roleGroups(world.roles).map(({ role, agents }) => {
    const obsDim = world.observationSpace(agents[0]).shape[0];
    const space = world.actionSpace(agents[0]);
    const numActions = actionWidth(space);
    const box = space.kind === 'continuous' ? space : null;
    const idSize = config.agentId ? agents.length : 0;
    const actorSpec = { sizes: [actorInputSize(obsDim, agents.length, config.agentId), ...config.hidden, numActions], activation: config.activation, outputGain: 0.01, inputLayerNorm: config.inputLayerNorm };
    const criticSpec = { sizes: [world.stateSize + jointActions + idSize, ...config.hidden, 1], activation: config.activation, outputGain: 1, inputLayerNorm: config.inputLayerNorm };
    const actor = new Mlp(actorSpec, rng);
    if (box) actor.setWeights(withOutputBias(actor.getWeights(), box.low.map((low, k) => (low + box.high[k]) / 2)) as MlpWeights);
    const targetActor = new Mlp(actorSpec, rng);
    const critic = new Mlp(criticSpec, rng);
    const targetCritic = new Mlp(criticSpec, rng);
    hardUpdate(targetActor.variables, actor.variables);
    hardUpdate(targetCritic.variables, critic.variables);
    return {
      role, agents, obsDim, numActions, box, actor, targetActor, critic, targetCritic,
      actorOpt: new Adam(actor.variables, config.actorLr, 0.9, 0.999, 1e-5),
      criticOpt: new Adam(critic.variables, config.criticLr, 0.9, 0.999, 1e-5),
    };
  });
}

class MaddpgLearner implements OffPolicyLearner {
  updates = 0;
  private readonly offsets: number[];
  private readonly jointActions: number;
  private sums = { critic: 0, actor: 0, count: 0 };
  /** the world's actions are a box */
  private readonly continuous: boolean;

  constructor(private readonly world: World, private readonly roles: RoleNets[], private readonly config: MaddpgConfig) {
    this.offsets = actionOffsets(world);
    this.continuous = world.actionSpace(0).kind === 'continuous';
    this.jointActions = world.possibleAgents.reduce((sum, a) => sum + actionWidth(world.actionSpace(a)), 0);
  }

  act(observations: readonly Float32Array[], actions: Actions, _envSteps: number, rng: Rng): void {
    const e = this.config.numEnvs;
    const n = this.world.possibleAgents.length;
    for (const nets of this.roles) {
      const m = nets.agents.length;
      const x = new Float32Array(e * m * nets.actor.spec.sizes[0]);
      writeActorInputs(nets, observations, e, this.config.agentId, x);
      const out = nets.actor.predict(x, e * m);
      if (!nets.box) {
        actCategorical(out, nets.numActions, rng, actions as Int32Array, (row) => Math.floor(row / m) * n + nets.agents[row % m], new Float32Array(e * m));
        continue;
      }
      // μ(o) + Gaussian noise, clipped into the box (what is stored is what the world does)
      const { low, high } = nets.box;
      const d = nets.numActions;
      const noise = this.config.explorationNoise ?? 0.2;
      for (let row = 0; row < e * m; row++) {
        const slot = (Math.floor(row / m) * n + nets.agents[row % m]) * d;
        for (let k = 0; k < d; k++) {
          actions[slot + k] = Math.min(Math.max(out[row * d + k] + noise * (high[k] - low[k]) / 2 * standardNormal(rng), low[k]), high[k]);
        }
      }
    }
  }

  learn(replay: ReplayBuffer, envSteps: number, rng: Rng): void {
    const { config } = this;
    const due = envSteps < config.learningStarts ? 0 : Math.floor((envSteps - config.learningStarts) / config.trainEvery) + 1;
    while (this.updates < due) {
      const slots = replay.sampleTransitions(config.batchSize, rng);
      const nextJoint = this.targetJointActions(replay, slots);
      for (const nets of this.roles) this.updateRole(nets, replay, slots, nextJoint, rng);
      for (const nets of this.roles) {
        polyakUpdate(nets.targetActor.variables, nets.actor.variables, config.tau);
        polyakUpdate(nets.targetCritic.variables, nets.critic.variables, config.tau);
      }
      this.updates++;
    }
  }

  drainMetrics(): Record<string, number> {
    const { critic, actor, count } = this.sums;
    this.sums = { critic: 0, actor: 0, count: 0 };
    return { 'global/updates': this.updates, 'losses/critic_loss': count ? critic / count : NaN, 'losses/actor_loss': count ? actor / count : NaN };
  }

  /** every agent's next action by its target actor (greedy), one-hot or the vector clipped into the box: [B, Σ A] */
  private targetJointActions(replay: ReplayBuffer, slots: Int32Array): Float32Array {
    const b = slots.length;
    const out = new Float32Array(b * this.jointActions);
    for (const nets of this.roles) {
      const m = nets.agents.length;
      const logits = nets.targetActor.predict(replayAgentInputs(replay, nets, slots, this.config.agentId, true), b * m);
      for (let k = 0; k < b; k++) {
        nets.agents.forEach((agent, q) => {
          const row = (k * m + q) * nets.numActions;
          if (nets.box) {
            const { low, high } = nets.box;
            for (let c = 0; c < nets.numActions; c++) out[k * this.jointActions + this.offsets[agent] + c] = Math.min(Math.max(logits[row + c], low[c]), high[c]);
            return;
          }
          let best = 0;
          for (let a = 1; a < nets.numActions; a++) if (logits[row + a] > logits[row + best]) best = a;
          out[k * this.jointActions + this.offsets[agent] + best] = 1;
        });
      }
    }
    return out;
  }

  /**
   * Critic inputs for each agent q of the role: [s, joint one-hot actions, id_q], row k·m + q.
   * With `blankOwn`, agent q's own action is left zero (the actor's relaxed sample goes there).
   */
  private criticInputs(nets: RoleNets, states: Float32Array, joint: Float32Array, b: number, blankOwn: boolean): Float32Array {
    const m = nets.agents.length;
    const s = this.world.stateSize;
    const j = this.jointActions;
    const cDim = nets.critic.spec.sizes[0];
    const out = new Float32Array(b * m * cDim);
    for (let k = 0; k < b; k++) {
      nets.agents.forEach((agent, q) => {
        const row = (k * m + q) * cDim;
        out.set(states.subarray(k * s, (k + 1) * s), row);
        out.set(joint.subarray(k * j, (k + 1) * j), row + s);
        if (blankOwn) out.fill(0, row + s + this.offsets[agent], row + s + this.offsets[agent] + nets.numActions);
        if (this.config.agentId) out[row + s + j + q] = 1;
      });
    }
    return out;
  }

  private updateRole(nets: RoleNets, replay: ReplayBuffer, slots: Int32Array, nextJoint: Float32Array, rng: Rng): void {
    const { config } = this;
    const m = nets.agents.length;
    const b = slots.length;
    const joint = new Float32Array(b * this.jointActions);
    const rewards = new Float32Array(b * m);
    const notDone = new Float32Array(b * m);
    for (let k = 0; k < b; k++) {
      this.world.possibleAgents.forEach((_, agent) => {
        if (this.continuous) joint.set(replay.actionVectorOf(agent, slots[k]), k * this.jointActions + this.offsets[agent]);
        else joint[k * this.jointActions + this.offsets[agent] + replay.actionOf(agent, slots[k])] = 1;
      });
      nets.agents.forEach((agent, q) => {
        rewards[k * m + q] = replay.rewardOf(agent, slots[k]);
        notDone[k * m + q] = replay.isTerminal(slots[k]) ? 0 : 1;
      });
    }
    const states = replay.statesOf(slots, false);
    const cDim = nets.critic.spec.sizes[0];
    const uniforms = new Float32Array(b * m * nets.numActions);
    for (let k = 0; k < uniforms.length; k++) uniforms[k] = rng.next();
    tf.tidy(() => {
      // critic: regress on r + γ·(1 − terminal)·Q̄(s′, ā′)
      const nextIn = tf.tensor2d(this.criticInputs(nets, replay.statesOf(slots, true), nextJoint, b, false), [b * m, cDim]);
      const target = tf.add(tf.tensor1d(rewards), tf.mul(tf.mul(tf.tensor1d(notDone), config.gamma), tf.reshape(nets.targetCritic.apply(nextIn), [-1])));
      const cIn = tf.tensor2d(this.criticInputs(nets, states, joint, b, false), [b * m, cDim]);
      const critic = tf.variableGrads(() => tf.mean(tf.square(tf.sub(tf.reshape(nets.critic.apply(cIn), [-1]), target))) as tf.Scalar, nets.critic.variables);
      nets.criticOpt.applyGradients(clipByGlobalNorm(critic.grads, config.maxGradNorm));
      // actor: the critic's value with the agent's own action replaced by its relaxed sample
      const x = tf.tensor2d(replayAgentInputs(replay, nets, slots, this.config.agentId, false), [b * m, nets.actor.spec.sizes[0]]);
      const others = tf.tensor2d(this.criticInputs(nets, states, joint, b, true), [b * m, cDim]);
      const actor = tf.variableGrads(() => {
        const logits = nets.actor.apply(x);
        // discrete: the relaxed sample; continuous: μ(o) itself, the gradient flowing into it
        const y = nets.box ? logits : gumbelSoftmax(logits, tf.tensor2d(uniforms, [b * m, nets.numActions]), config.gumbelTemperature);
        // place y_q at agent q's action slot of its own row
        const placed = this.placeOwnAction(nets, y, b, cDim);
        const q = nets.critic.apply(tf.add(others, placed) as tf.Tensor2D);
        const penalty = nets.box
          ? tf.mul(config.boxPenalty ?? 1, tf.mean(tf.add(tf.square(tf.relu(tf.sub(logits, tf.tensor1d([...nets.box.high])))), tf.square(tf.relu(tf.sub(tf.tensor1d([...nets.box.low]), logits))))))
          : tf.mul(config.logitPenalty, tf.mean(tf.square(logits)));
        return tf.add(tf.neg(tf.mean(q)), penalty) as tf.Scalar;
      }, nets.actor.variables);
      nets.actorOpt.applyGradients(clipByGlobalNorm(actor.grads, config.maxGradNorm));
      this.sums.critic += critic.value.dataSync()[0];
      this.sums.actor += actor.value.dataSync()[0];
      this.sums.count++;
    });
  }

  /** y [B·m, A] → [B·m, cDim] with row (k, q)'s y at agent q's action slot */
  private placeOwnAction(nets: RoleNets, y: tf.Tensor2D, b: number, cDim: number): tf.Tensor2D {
    const m = nets.agents.length;
    const s = this.world.stateSize;
    // per agent position q: y shifted to q's slot, kept only on the rows of position q
    const parts = nets.agents.map((agent, q) => {
      const rowMask = new Float32Array(b * m);
      for (let k = 0; k < b; k++) rowMask[k * m + q] = 1;
      const left = s + this.offsets[agent];
      const shifted = tf.pad(y, [[0, 0], [left, cDim - left - nets.numActions]]);
      return tf.mul(shifted, tf.tensor2d(rowMask, [b * m, 1]));
    });
    return tf.addN(parts) as tf.Tensor2D;
  }
}

export async function trainMaddpg(config: MaddpgConfig, hooks: TrainingHooks<MaddpgCheckpoint> = {}, resume?: MaddpgCheckpoint): Promise<MaddpgCheckpoint> {
  const rng = new Rng(config.seed, 0xdd96);
  const world = openWorld(config.world, { numEnvs: config.numEnvs, config: config.worldConfig });
  const roles = buildRoles(world, config, rng);
  const learner = new MaddpgLearner(world, roles, config);
  if (resume) {
    resume.roles.forEach((saved, r) => {
      roles[r].actor.setWeights(saved.actor);
      roles[r].targetActor.setWeights(saved.targetActor);
      roles[r].critic.setWeights(saved.critic);
      roles[r].targetCritic.setWeights(saved.targetCritic);
      roles[r].actorOpt.setState(saved.actorOptimizer);
      roles[r].criticOpt.setState(saved.criticOptimizer);
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
          actor: nets.actor.getWeights(),
          targetActor: nets.targetActor.getWeights(),
          critic: nets.critic.getWeights(),
          targetCritic: nets.targetCritic.getWeights(),
          actorOptimizer: nets.actorOpt.state(),
          criticOptimizer: nets.criticOpt.state(),
        })),
      }),
    });
  } finally {
    for (const nets of roles) {
      [nets.actor, nets.targetActor, nets.critic, nets.targetCritic].forEach((net) => net.dispose());
      nets.actorOpt.dispose();
      nets.criticOpt.dispose();
    }
  }
}
