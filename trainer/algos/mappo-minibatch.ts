// One MAPPO/IPPO minibatch step's gradients, for a part of the minibatch (a shard): the
// clipped-surrogate actor loss and the clipped-value critic loss, each a sum over the shard's rows
// divided by the rows of the whole minibatch, so that the shards' gradients add up to the
// minibatch's. A shard is a list of blocks (whole teams over a chunk of steps), as the update
// draws them; it reads the rollout by block and row, never through the world.
//
// The same function runs on the update's own thread and in gradient workers
// (gradient-worker.ts): a shard gives the same numbers wherever it is computed.

import { tf } from '../backend.js';
import type { Actor } from '../nn/actor.js';
import type { Mlp } from '../nn/mlp.js';
import { asSparseRows, pickRows, type SparseRows } from '../nn/input-layer.js';
import { gatherRows } from '../nn/row-copies.js';
import { CategoricalHead, type ActionHead } from '../rl/action-head.js';
import type { MappoConfig } from './mappo-config.js';

/** a gated actor's gate: a choice of (silent, speak) each step, index 1 speaks */
export const GATE = new CategoricalHead(2);

/** the networks a shard's losses differentiate */
export interface MinibatchNets {
  actor: Actor;
  head: ActionHead;
  critic: Mlp;
}

/**
 * One role's rollout as the update reads it: [T, E·roleSize, …] rows, time-major; masks
 * [T, E, K, n, n]; the advantages, value targets and old values of this update, normalised.
 */
export interface RoleRollout {
  envs: number;
  roleSize: number;
  /** steps per training chunk (1: every feed-forward actor) */
  chunk: number;
  inDim: number;
  cDim: number;
  maskSize: number;
  /** a recurrent actor's state size (0: none) */
  H: number;
  x: Float32Array;
  c: Float32Array;
  masks: Float32Array;
  actions: Float32Array;
  logp: Float32Array;
  adv: Float32Array;
  target: Float32Array;
  vOld: Float32Array;
  /** 1 where the agent took part in the step */
  active: Float32Array;
  /** a gated actor: 1 where the agent spoke */
  gates: Float32Array;
  /** a recurrent actor: the state entering each step, and whether it was zeroed before it */
  states: Float32Array;
  resets: Float32Array;
}

/** The settings a shard's losses read. */
export type LossSettings = Pick<MappoConfig, 'clip' | 'valueClip' | 'entropyCoef' | 'continuousEntropyCoef'>;

/**
 * inputs that are mostly zeros (traffic junction's one-hot cells) go to the networks by their
 * non-zeros, read only where a minibatch will: the critic's and a feed-forward actor's rows are
 * those of agents in the step (made once per update)
 */
export interface SparseInputs {
  x: SparseRows | null;
  c: SparseRows | null;
}

export function sparseInputs(rollout: RoleRollout): SparseInputs {
  return {
    x: asSparseRows(rollout.x, rollout.inDim, rollout.H === 0 ? rollout.active : undefined),
    c: asSparseRows(rollout.c, rollout.cDim, rollout.active),
  };
}

/**
 * Block (c, env) = c·E + env holds, at step t of its chunk, the rows [((c·L + t)·E + env)·n, …+n).
 * A shard lists its rows time-major (step t of every block, then step t + 1), as a recurrent
 * actor unrolls them.
 */
export function rowOf(rollout: RoleRollout, block: number, t: number, q: number): number {
  const e = rollout.envs;
  return ((Math.floor(block / e) * rollout.chunk + t) * e + block % e) * rollout.roleSize + q;
}

/** the rows of these blocks whose agent took part in the step (the divisor of every loss) */
export function presentRows(rollout: RoleRollout, blocks: Int32Array): number {
  let count = 0;
  for (const block of blocks) for (let t = 0; t < rollout.chunk; t++) for (let q = 0; q < rollout.roleSize; q++) count += rollout.active[rowOf(rollout, block, t, q)] === 1 ? 1 : 0;
  return count;
}

/** `blocks` in `shards` consecutive parts, the last taking what does not divide */
export function splitBlocks(blocks: Int32Array, shards: number): Int32Array[] {
  const size = Math.floor(blocks.length / shards);
  return Array.from({ length: shards }, (_, k) => blocks.subarray(k * size, k + 1 === shards ? blocks.length : (k + 1) * size));
}

export interface ShardResult<G> {
  /** the gradients, in the order of [...actor.variables, ...head.variables] and of critic.variables */
  actor: G[];
  critic: G[];
  /** this shard's part of the minibatch's losses and statistics (the parts add up) */
  policy: number;
  value: number;
  entropy: number;
  kl: number;
  clipfrac: number;
}

/** The gradients of a shard of a minibatch of `count` present rows (tensors the caller disposes). */
export function shardGradients(nets: MinibatchNets, settings: LossSettings, rollout: RoleRollout, sparse: SparseInputs, blocks: Int32Array, count: number): ShardResult<tf.Tensor> {
  const { roleSize, chunk: L, inDim, cDim, H } = rollout;
  const rounds = nets.actor.rounds;
  const mbBlocks = blocks.length;
  const rowsOf = new Int32Array(L * mbBlocks * roleSize);
  for (let t = 0; t < L; t++) for (let b = 0; b < mbBlocks; b++) for (let q = 0; q < roleSize; q++) rowsOf[(t * mbBlocks + b) * roleSize + q] = rowOf(rollout, blocks[b], t, q);
  // a CommNet's masks, one per team and step, in the rows' order
  const teamsOf = new Int32Array(L * mbBlocks);
  for (let k = 0; k < teamsOf.length; k++) teamsOf[k] = rowsOf[k * roleSize] / roleSize;
  const feedForward = H === 0;
  // the rows of agents not in the step add nothing to a loss: the critic and a
  // feed-forward actor skip them (traffic junction medium: seven rows in ten), a
  // communicating one too, told where its rows sit in their teams for its means (the
  // masks let nobody hear the others); a recurrent actor's state runs on every row
  const present = Int32Array.from({ length: rowsOf.length }, (_, k) => k).filter((k) => rollout.active[rowsOf[k]] === 1);
  const criticRows = present.map((k) => rowsOf[k]);
  const actorRows = feedForward ? criticRows : rowsOf;
  const someoneOut = rounds > 0 && feedForward && present.length < rowsOf.length;
  const stats = { policy: 0, value: 0, entropy: 0, kl: 0, clipfrac: 0 };
  const grads = tf.tidy(() => {
    const x = sparse.x ? pickRows(sparse.x, actorRows) : tf.tensor2d(gatherRows(rollout.x, inDim, actorRows), [actorRows.length, inDim]);
    // a recurrent actor starts each chunk from the state the rollout had there
    const sequence = H > 0 ? {
      steps: L,
      initialState: tf.tensor2d(gatherRows(rollout.states, H, rowsOf.subarray(0, mbBlocks * roleSize)), [mbBlocks * roleSize, H]),
      resets: tf.tensor1d(gatherRows(rollout.resets, 1, rowsOf)),
    } : undefined;
    const masks = rounds > 0 ? tf.tensor4d(gatherRows(rollout.masks, rollout.maskSize / rollout.envs, teamsOf), [teamsOf.length, rounds, roleSize, roleSize]) as tf.Tensor4D : null;
    const c = sparse.c ? pickRows(sparse.c, criticRows) : tf.tensor2d(gatherRows(rollout.c, cDim, criticRows), [criticRows.length, cDim]);
    const a = tf.tensor2d(gatherRows(rollout.actions, nets.head.width, actorRows), [actorRows.length, nets.head.width]);
    const gates = nets.actor.gated ? tf.tensor1d(gatherRows(rollout.gates, 1, actorRows)) : null;
    const logpOld = tf.tensor1d(gatherRows(rollout.logp, 1, actorRows));
    const adv = tf.tensor1d(gatherRows(rollout.adv, 1, actorRows));
    const target = tf.tensor1d(gatherRows(rollout.target, 1, criticRows));
    const vOld = tf.tensor1d(gatherRows(rollout.vOld, 1, criticRows));
    // means over the minibatch's rows whose agent took part in the step (a recurrent actor's
    // rows include the others, weighted 0 here)
    const total = Math.max(1, count);
    const overPresent = (t: tf.Tensor) => tf.div(tf.sum(t), total) as tf.Scalar;
    const taking = feedForward ? null : tf.tensor1d(gatherRows(rollout.active, 1, actorRows));
    const mean = taking ? (t: tf.Tensor) => overPresent(tf.mul(t, taking)) : overPresent;
    const actorVariables = [...nets.actor.variables, ...nets.head.variables];
    // Policy loss: −E[min(ρA, clip(ρ, 1±ε)A)] − c_ent·H
    const actor = tf.variableGrads(() => {
      const { logits: outputs, gateLogits } = nets.actor.applyWithGates(x, masks, roleSize, sequence, someoneOut ? { positions: present, total: rowsOf.length } : undefined);
      // a gated actor's step is the action and the gate together
      const logp = gateLogits ? tf.add(nets.head.logProb(outputs, a), GATE.logProb(gateLogits, tf.reshape(gates!, [-1, 1]))) : nets.head.logProb(outputs, a);
      const ratio = tf.exp(tf.sub(logp, logpOld));
      const surr = tf.minimum(tf.mul(ratio, adv), tf.mul(tf.clipByValue(ratio, 1 - settings.clip, 1 + settings.clip), adv));
      const entropy = mean(gateLogits ? tf.add(nets.head.entropy(outputs), GATE.entropy(gateLogits)) : nets.head.entropy(outputs));
      stats.entropy = entropy.dataSync()[0];
      stats.kl = mean(tf.sub(logpOld, logp)).dataSync()[0];
      stats.clipfrac = mean(tf.cast(tf.greater(tf.abs(tf.sub(ratio, 1)), settings.clip), 'float32')).dataSync()[0];
      const entropyCoef = nets.head.kind !== 'categorical' ? settings.continuousEntropyCoef ?? settings.entropyCoef : settings.entropyCoef;
      return tf.sub(tf.neg(mean(surr)), tf.mul(entropyCoef, entropy)) as tf.Scalar;
    }, actorVariables);
    // Value loss: max of the plain and the clipped squared error
    const critic = tf.variableGrads(() => {
      const v = tf.reshape(nets.critic.apply(c), [-1]);
      const vClipped = tf.add(vOld, tf.clipByValue(tf.sub(v, vOld), -settings.valueClip, settings.valueClip));
      return tf.mul(0.5, overPresent(tf.maximum(tf.square(tf.sub(v, target)), tf.square(tf.sub(vClipped, target))))) as tf.Scalar;
    }, nets.critic.variables);
    stats.policy = actor.value.dataSync()[0];
    stats.value = critic.value.dataSync()[0];
    return { actor: actorVariables.map((v) => actor.grads[v.name]), critic: nets.critic.variables.map((v) => critic.grads[v.name]) };
  });
  return { ...grads, ...stats };
}
