// The policy network of one role, whichever architecture: an MLP that sees only its own
// observation, or a CommNet whose agents also hear the teammates the mask lets through.
// Rows are always whole teams (env-major, then agent), so both run on the same batches.

import { tf } from '../backend.js';
import type { Rng } from '@fleetmind/worlds';
import { Mlp, type Activation, type MlpWeights } from './mlp.js';
import { CommNet, type CommNetWeights } from './commnet.js';

export type ActorKind = 'mlp' | 'commnet' | 'tarmac';

export type ActorWeights = MlpWeights | CommNetWeights;

export interface ActorOptions {
  kind: ActorKind;
  inputSize: number;
  numActions: number;
  /** MLP hidden widths; a CommNet uses the first as its hidden/message size */
  hidden: number[];
  activation: Activation;
  inputLayerNorm: boolean;
  /** CommNet communication rounds K */
  rounds: number;
  /** tarmac: the attention's query and key size (default: a quarter of the hidden width) */
  keySize?: number;
}

export interface Actor {
  readonly kind: ActorKind;
  readonly inputSize: number;
  readonly numActions: number;
  /** communication rounds (0 for an MLP) */
  readonly rounds: number;
  readonly variables: tf.Variable[];
  /** x: [E·n, in]; masks: [E, K, n, n] (ignored by an MLP). → logits [E·n, A] */
  apply(x: tf.Tensor2D, masks: tf.Tensor4D | null, teamSize: number): tf.Tensor2D;
  getWeights(): ActorWeights;
  setWeights(weights: ActorWeights): void;
  dispose(): void;
}

export function isCommNetWeights(weights: ActorWeights): weights is CommNetWeights {
  return 'tensors' in weights;
}

class MlpActor implements Actor {
  readonly kind = 'mlp';
  readonly rounds = 0;
  constructor(private readonly mlp: Mlp) {}
  get inputSize(): number { return this.mlp.spec.sizes[0]; }
  get numActions(): number { return this.mlp.spec.sizes[this.mlp.spec.sizes.length - 1]; }
  get variables(): tf.Variable[] { return this.mlp.variables; }
  apply(x: tf.Tensor2D): tf.Tensor2D { return this.mlp.apply(x); }
  getWeights(): ActorWeights { return this.mlp.getWeights(); }
  setWeights(weights: ActorWeights): void {
    if (isCommNetWeights(weights)) throw new Error('these are CommNet weights; this actor is an MLP');
    this.mlp.setWeights(weights);
  }
  dispose(): void { this.mlp.dispose(); }
}

class CommNetActor implements Actor {
  readonly kind: ActorKind;
  constructor(private readonly net: CommNet) {
    this.kind = net.spec.attention ? 'tarmac' : 'commnet';
  }
  get inputSize(): number { return this.net.spec.inputSize; }
  get numActions(): number { return this.net.spec.numActions; }
  get rounds(): number { return this.net.spec.rounds; }
  get variables(): tf.Variable[] { return this.net.variables; }
  apply(x: tf.Tensor2D, masks: tf.Tensor4D | null, teamSize: number): tf.Tensor2D {
    if (!masks) throw new Error('a CommNet actor needs communication masks');
    return this.net.apply(x, masks, teamSize);
  }
  getWeights(): ActorWeights { return this.net.getWeights(); }
  setWeights(weights: ActorWeights): void {
    if (!isCommNetWeights(weights)) throw new Error('these are MLP weights; this actor is a CommNet');
    this.net.setWeights(weights);
  }
  dispose(): void { this.net.dispose(); }
}

export function makeActor(o: ActorOptions, rng: Rng): Actor {
  if (o.kind === 'mlp') {
    return new MlpActor(new Mlp({ sizes: [o.inputSize, ...o.hidden, o.numActions], activation: o.activation, outputGain: 0.01, inputLayerNorm: o.inputLayerNorm }, rng, { inputIsData: true }));
  }
  const attention = o.kind === 'tarmac' ? { attention: { keySize: o.keySize ?? Math.max(1, Math.floor(o.hidden[0] / 4)) } } : {};
  return new CommNetActor(new CommNet({ inputSize: o.inputSize, hidden: o.hidden[0], rounds: o.rounds, numActions: o.numActions, inputLayerNorm: o.inputLayerNorm, ...attention }, rng));
}

/** An actor holding the given weights (for evaluation and export). */
export function actorFromWeights(weights: ActorWeights, rng: Rng): Actor {
  const actor = isCommNetWeights(weights)
    ? new CommNetActor(new CommNet(weights.spec, rng))
    : new MlpActor(new Mlp(weights.spec, rng));
  actor.setWeights(weights);
  return actor;
}

/** Forward pass on plain arrays, for acting: x [E·n, in], masks [E, K, n, n] → logits [E·n, A]. */
export function actorLogits(actor: Actor, x: Float32Array, masks: Float32Array | null, teamSize: number): Float32Array {
  const rows = x.length / actor.inputSize;
  const envs = rows / teamSize;
  return tf.tidy(() => {
    const m = masks && actor.rounds > 0 ? tf.tensor4d(masks, [envs, actor.rounds, teamSize, teamSize]) : null;
    return actor.apply(tf.tensor2d(x, [rows, actor.inputSize]), m, teamSize).dataSync() as Float32Array;
  });
}

/** The same weights with the output layer's bias set to `bias` (a Gaussian policy's mean starts at the box's centre). */
export function withOutputBias(weights: ActorWeights, bias: readonly number[]): ActorWeights {
  if (isCommNetWeights(weights)) {
    if (weights.tensors.out_b.length !== bias.length) throw new Error(`an output bias of ${bias.length} for ${weights.tensors.out_b.length} outputs`);
    return { ...weights, tensors: { ...weights.tensors, out_b: [...bias] } };
  }
  const last = weights.layers.length - 1;
  if (weights.layers[last].b.length !== bias.length) throw new Error(`an output bias of ${bias.length} for ${weights.layers[last].b.length} outputs`);
  return { ...weights, layers: weights.layers.map((layer, l) => (l === last ? { ...layer, b: [...bias] } : layer)) };
}
