// The policy network of one role, whichever architecture: an MLP that sees only its own
// observation, a CommNet whose agents also hear the teammates the mask lets through, or a GRU
// that also remembers (its state: `stateSize` numbers per agent, carried from step to step).
// Rows are always whole teams (env-major, then agent), so all run on the same batches.

import { tf, tidyNumbers } from '../backend.js';
import type { Rng } from '@fleetmind/worlds';
import { Mlp, type Activation, type MlpInit, type MlpWeights } from './mlp.js';
import { CommNet, type CommNetWeights, type Speakers } from './commnet.js';
import type { PresentRows } from './team-rows.js';
import { Gru, type ActorSequence, type GruWeights } from './gru.js';
import { asSparseRows, inputRows, pickRows, type NetworkInput } from './input-layer.js';
import { gatherRows, scatterRows } from './row-copies.js';

export type { ActorSequence };

export type ActorKind = 'mlp' | 'commnet' | 'tarmac' | 'gru' | 'commnet-gru' | 'tarmac-gru';

/** The kind of a CommNet with these options: attention (TarMAC) and memory (a GRU stage 0) are independent. */
function commNetKind(spec: { attention?: unknown; recurrent?: unknown }): ActorKind {
  if (spec.recurrent) return spec.attention ? 'tarmac-gru' : 'commnet-gru';
  return spec.attention ? 'tarmac' : 'commnet';
}

export type ActorWeights = MlpWeights | CommNetWeights | GruWeights;


export interface ActorOptions {
  kind: ActorKind;
  inputSize: number;
  numActions: number;
  /** MLP hidden widths; a CommNet uses the first as its hidden/message size */
  hidden: number[];
  activation: Activation;
  inputLayerNorm: boolean;
  /** mlp: LayerNorm after every hidden layer's activation (nn/mlp.ts) */
  hiddenLayerNorm?: true;
  /** mlp: initial weights (nn/mlp.ts; default gaussian) */
  init?: MlpInit;
  /** CommNet communication rounds K */
  rounds: number;
  /** tarmac: the attention's query and key size (default: a quarter of the hidden width) */
  keySize?: number;
  /** a communicating actor: IC3Net's gate (each agent chooses every step whether to speak) */
  gated?: boolean;
}

export interface Actor {
  readonly kind: ActorKind;
  readonly inputSize: number;
  readonly numActions: number;
  /** communication rounds (0 for an MLP) */
  readonly rounds: number;
  /** numbers of memory per agent carried between steps (0: none) */
  readonly stateSize: number;
  /** a gated CommNet: each agent also chooses whether to speak (nn/commnet.ts) */
  readonly gated: boolean;
  readonly variables: tf.Variable[];
  /**
   * x: [E·n, in]; masks: [E, K, n, n] (ignored by an MLP; a gated actor's already gated);
   * sequence: a recurrent actor's steps and state (required by one, ignored by the others).
   * → logits [E·n, A]
   */
  apply(x: NetworkInput, masks: tf.Tensor4D | null, teamSize: number, sequence?: ActorSequence): tf.Tensor2D;
  /**
   * apply(), with a gated actor's gate logits [E·n, 2] (silent, speak) from the same pass (null for others).
   * present: x holds only these rows of the teams, and the logits are theirs (a feed-forward
   * actor; a recurrent one refuses it): see CommNet.forward.
   */
  applyWithGates(x: NetworkInput, masks: tf.Tensor4D | null, teamSize: number, sequence?: ActorSequence, present?: PresentRows): { logits: tf.Tensor2D; gateLogits: tf.Tensor2D | null };
  getWeights(): ActorWeights;
  setWeights(weights: ActorWeights): void;
  dispose(): void;
}

export function isCommNetWeights(weights: ActorWeights): weights is CommNetWeights {
  return 'tensors' in weights && 'rounds' in weights.spec;
}

/** an MLP-GRU's weights (a CommNet-GRU's are CommNet weights) */
export function isGruWeights(weights: ActorWeights): weights is GruWeights {
  return 'tensors' in weights && !('rounds' in weights.spec);
}

/** What kind of actor these weights make. */
export function actorKindOf(weights: ActorWeights): ActorKind {
  if (isGruWeights(weights)) return 'gru';
  if (isCommNetWeights(weights)) return commNetKind(weights.spec);
  return 'mlp';
}

class MlpActor implements Actor {
  readonly kind = 'mlp';
  readonly rounds = 0;
  readonly stateSize = 0;
  readonly gated = false;
  constructor(private readonly mlp: Mlp) {}
  get inputSize(): number { return this.mlp.spec.sizes[0]; }
  get numActions(): number { return this.mlp.spec.sizes[this.mlp.spec.sizes.length - 1]; }
  get variables(): tf.Variable[] { return this.mlp.variables; }
  apply(x: NetworkInput): tf.Tensor2D { return this.mlp.apply(x); }
  // (each row alone: present rows are just rows)
  applyWithGates(x: NetworkInput): { logits: tf.Tensor2D; gateLogits: null } { return { logits: this.mlp.apply(x), gateLogits: null }; }
  getWeights(): ActorWeights { return this.mlp.getWeights(); }
  setWeights(weights: ActorWeights): void {
    if ('tensors' in weights) throw new Error(`these are ${actorKindOf(weights)} weights; this actor is an MLP`);
    this.mlp.setWeights(weights);
  }
  dispose(): void { this.mlp.dispose(); }
}

class CommNetActor implements Actor {
  readonly kind: ActorKind;
  constructor(private readonly net: CommNet) {
    this.kind = commNetKind(net.spec);
  }
  get inputSize(): number { return this.net.spec.inputSize; }
  get numActions(): number { return this.net.spec.numActions; }
  get rounds(): number { return this.net.spec.rounds; }
  get stateSize(): number { return this.net.spec.recurrent ? this.net.spec.hidden : 0; }
  get gated(): boolean { return this.net.spec.gated === true; }
  get variables(): tf.Variable[] { return this.net.variables; }
  apply(x: NetworkInput, masks: tf.Tensor4D | null, teamSize: number, sequence?: ActorSequence): tf.Tensor2D {
    return this.applyWithGates(x, masks, teamSize, sequence).logits;
  }
  applyWithGates(x: NetworkInput, masks: tf.Tensor4D | null, teamSize: number, sequence?: ActorSequence, present?: PresentRows): { logits: tf.Tensor2D; gateLogits: tf.Tensor2D | null } {
    if (!masks) throw new Error('a CommNet actor needs communication masks');
    return this.net.forward(x, masks, teamSize, { sequence, present });
  }
  /** Acting: one step, a gated actor choosing its speakers (speakers), a recurrent one from its state, a feed-forward one on the present rows if told them. */
  act(x: NetworkInput, masks: tf.Tensor4D | null, teamSize: number, state: tf.Tensor2D | null, speakers?: Speakers, present?: PresentRows): { logits: tf.Tensor2D; state: tf.Tensor2D | null } {
    if (!masks) throw new Error('a CommNet actor needs communication masks');
    const sequence = state ? { steps: 1, initialState: state, resets: tf.zeros([inputRows(x)]) as tf.Tensor1D } : undefined;
    const { logits, memory } = this.net.forward(x, masks, teamSize, { sequence, speakers, present });
    return { logits, state: memory };
  }
  getWeights(): ActorWeights { return this.net.getWeights(); }
  setWeights(weights: ActorWeights): void {
    if (!isCommNetWeights(weights)) throw new Error(`these are ${actorKindOf(weights)} weights; this actor is a CommNet`);
    this.net.setWeights(weights);
  }
  dispose(): void { this.net.dispose(); }
}

class GruActor implements Actor {
  readonly kind = 'gru';
  readonly rounds = 0;
  readonly gated = false;
  constructor(private readonly net: Gru) {}
  get inputSize(): number { return this.net.spec.inputSize; }
  get numActions(): number { return this.net.spec.numActions; }
  get stateSize(): number { return this.net.spec.hidden; }
  get variables(): tf.Variable[] { return this.net.variables; }
  apply(x: NetworkInput, _masks: tf.Tensor4D | null, _teamSize: number, sequence?: ActorSequence): tf.Tensor2D {
    if (!sequence) throw new Error('a recurrent actor needs its state: give apply() a sequence');
    return this.net.applySequence(x, sequence.resets, sequence.initialState, sequence.steps).logits;
  }
  applyWithGates(x: NetworkInput, masks: tf.Tensor4D | null, teamSize: number, sequence?: ActorSequence, present?: PresentRows): { logits: tf.Tensor2D; gateLogits: null } {
    if (present) throw new Error('a recurrent actor runs on every row: its state does');
    return { logits: this.apply(x, masks, teamSize, sequence), gateLogits: null };
  }
  /** One step: x [B, in], state [B, H] (already reset) → logits and the next state. */
  step(x: NetworkInput, _masks: tf.Tensor4D | null, _teamSize: number, state: tf.Tensor2D): { logits: tf.Tensor2D; state: tf.Tensor2D } {
    return this.net.applySequence(x, tf.zeros([inputRows(x)]), state, 1);
  }
  getWeights(): ActorWeights { return this.net.getWeights(); }
  setWeights(weights: ActorWeights): void {
    if (!isGruWeights(weights)) throw new Error(`these are ${actorKindOf(weights)} weights; this actor is a GRU`);
    this.net.setWeights(weights);
  }
  dispose(): void { this.net.dispose(); }
}

export function makeActor(o: ActorOptions, rng: Rng): Actor {
  if (o.gated && (o.kind === 'mlp' || o.kind === 'gru')) throw new Error(`a gate chooses whether to send messages: ${o.kind} sends none`);
  if (o.kind === 'mlp') {
    const hiddenLayerNorm = o.hiddenLayerNorm ? { hiddenLayerNorm: true } : {};
    return new MlpActor(new Mlp({ sizes: [o.inputSize, ...o.hidden, o.numActions], activation: o.activation, outputGain: 0.01, inputLayerNorm: o.inputLayerNorm, ...hiddenLayerNorm }, rng, { inputIsData: true, init: o.init }));
  }
  if (o.hiddenLayerNorm || (o.init ?? 'gaussian') !== 'gaussian') {
    throw new Error(`hiddenLayerNorm and init: 'orthogonal' are options of the MLP actor (and the critic); a ${o.kind} actor has neither`);
  }
  if (o.kind === 'gru') {
    return new GruActor(new Gru({ recurrent: 'gru', inputSize: o.inputSize, hidden: o.hidden[0], numActions: o.numActions, inputLayerNorm: o.inputLayerNorm }, rng));
  }
  const attention = o.kind === 'tarmac' || o.kind === 'tarmac-gru' ? { attention: { keySize: o.keySize ?? Math.max(1, Math.floor(o.hidden[0] / 4)) } } : {};
  const recurrent = o.kind === 'commnet-gru' || o.kind === 'tarmac-gru' ? { recurrent: 'gru' as const } : {};
  const gated = o.gated ? { gated: true as const } : {};
  return new CommNetActor(new CommNet({ inputSize: o.inputSize, hidden: o.hidden[0], rounds: o.rounds, numActions: o.numActions, inputLayerNorm: o.inputLayerNorm, ...attention, ...recurrent, ...gated }, rng));
}

/** An actor holding the given weights (for evaluation and export). */
export function actorFromWeights(weights: ActorWeights, rng: Rng): Actor {
  const actor = isGruWeights(weights) ? new GruActor(new Gru(weights.spec, rng))
    : isCommNetWeights(weights) ? new CommNetActor(new CommNet(weights.spec, rng))
      : new MlpActor(new Mlp(weights.spec, rng, { inputIsData: true }));
  actor.setWeights(weights);
  return actor;
}

/**
 * A recurrent actor's memory while acting: each row's state [rows, stateSize], advanced in place
 * by actorLogits, and the rows whose state is zeroed before the next step (set by the caller:
 * a new episode, an agent that was not in the last step).
 */
export interface ActorMemory {
  state: Float32Array;
  resets: Uint8Array;
}

/** A zeroed memory for `rows` agents, every row reset. */
export function newActorMemory(actor: Actor, rows: number): ActorMemory {
  return { state: new Float32Array(rows * actor.stateSize), resets: new Uint8Array(rows).fill(1) };
}

/**
 * A gated actor's choice of who speaks, on plain arrays: gate logits [rows·2] (silent, speak) →
 * 1 for each row that speaks, 0 for each silent one.
 */
export type ChooseSpeakers = (gateLogits: Float32Array) => Float32Array;

/** Acting greedily: speak when the gate's speak logit is the larger (a tie is silence, as ONNX's ArgMax takes the first) */
export const greedySpeakers: ChooseSpeakers = (gateLogits) => Float32Array.from({ length: gateLogits.length / 2 }, (_, row) => (gateLogits[2 * row + 1] > gateLogits[2 * row] ? 1 : 0));

/** What acting is told beside the inputs (see actorLogits). */
export interface Acting {
  memory?: ActorMemory;
  speakers?: ChooseSpeakers;
  inStep?: ArrayLike<number>;
}

/**
 * Forward pass on plain arrays, for acting: x [E·n, in], masks [E, K, n, n] → logits [E·n, A].
 * A recurrent actor needs its memory: the rows marked are zeroed first, then every row's state
 * advances one step (and the marks are cleared). A gated actor chooses who speaks (default:
 * greedily) and gates `masks` in place: column j of every round zeroed where j is silent.
 * inStep (1 per row whose agent is in the step; the masks must let nobody hear the others): a
 * feed-forward actor computes only those rows, and the others' logits are 0 (traffic junction
 * hard: three rows in five).
 */
export function actorLogits(actor: Actor, x: Float32Array, masks: Float32Array | null, teamSize: number, acting: Acting = {}): Float32Array {
  const { memory, speakers = greedySpeakers, inStep } = acting;
  const rows = x.length / actor.inputSize;
  const envs = rows / teamSize;
  const recurrent = (actor instanceof GruActor || actor instanceof CommNetActor) && actor.stateSize > 0;
  if (recurrent && !memory) throw new Error('a recurrent actor acts with its memory: give actorLogits() one');
  const H = actor.stateSize;
  if (recurrent) {
    for (let row = 0; row < rows; row++) if (memory!.resets[row]) memory!.state.fill(0, row * H, (row + 1) * H);
    memory!.resets.fill(0);
  }
  if (inStep && inStep.length !== rows) throw new Error(`${inStep.length} rows in the step for ${rows} rows`);
  const present = inStep && !recurrent ? presentRows(inStep, rows) : undefined;
  return tidyNumbers(() => {
    const m = masks && actor.rounds > 0 ? tf.tensor4d(masks, [envs, actor.rounds, teamSize, teamSize]) : null;
    // observations that are mostly zeros (traffic junction) go by their non-zeros
    const input = present ? presentInput(x, actor.inputSize, inStep!, present) : asSparseRows(x, actor.inputSize) ?? tf.tensor2d(x, [rows, actor.inputSize]);
    const state = recurrent ? tf.tensor2d(memory!.state, [rows, H]) : null;
    let out: { logits: tf.Tensor2D; state: tf.Tensor2D | null };
    if (actor instanceof CommNetActor) {
      const choose: Speakers | undefined = actor.gated ? (gateLogits) => {
        const speak = speakers(gateLogits.dataSync() as Float32Array);
        gateMasks(masks!, speak, envs, actor.rounds, teamSize);
        return tf.tensor1d(speak);
      } : undefined;
      out = actor.act(input, m, teamSize, state, choose, present);
    } else if (actor instanceof GruActor) out = actor.step(input, m, teamSize, state!);
    else out = { logits: actor.apply(input, m, teamSize), state: null };
    if (recurrent) memory!.state.set(out.state!.dataSync());
    const logits = out.logits.dataSync() as Float32Array;
    return present ? scatterRows(logits, actor.numActions, present.positions, rows) : logits;
  });
}

/** the rows in the step, when some are not (undefined: every row is) */
function presentRows(inStep: ArrayLike<number>, rows: number): PresentRows | undefined {
  const positions: number[] = [];
  for (let row = 0; row < rows; row++) if (inStep[row] !== 0) positions.push(row);
  return positions.length < rows ? { positions: Int32Array.from(positions), total: rows } : undefined;
}

/** the present rows of x, sparse where they are mostly zeros */
function presentInput(x: Float32Array, width: number, inStep: ArrayLike<number>, present: PresentRows): NetworkInput {
  const sparse = asSparseRows(x, width, inStep);
  return sparse ? pickRows(sparse, present.positions) : tf.tensor2d(gatherRows(x, width, present.positions), [present.positions.length, width]);
}

/** masks [E, K, n, n]: nobody hears a silent sender j (speak[e·n + j] = 0) in any round */
export function gateMasks(masks: Float32Array, speak: ArrayLike<number>, envs: number, rounds: number, teamSize: number): void {
  for (let env = 0; env < envs; env++) {
    for (let j = 0; j < teamSize; j++) {
      if (speak[env * teamSize + j]) continue;
      for (let k = 0; k < rounds; k++) for (let i = 0; i < teamSize; i++) masks[((env * rounds + k) * teamSize + i) * teamSize + j] = 0;
    }
  }
}

/** The same weights with the output layer's bias set to `bias` (a Gaussian policy's mean starts at the box's centre). */
export function withOutputBias(weights: ActorWeights, bias: readonly number[]): ActorWeights {
  if ('tensors' in weights) {
    if (weights.tensors.out_b.length !== bias.length) throw new Error(`an output bias of ${bias.length} for ${weights.tensors.out_b.length} outputs`);
    return { ...weights, tensors: { ...weights.tensors, out_b: [...bias] } } as ActorWeights;
  }
  const last = weights.layers.length - 1;
  if (weights.layers[last].b.length !== bias.length) throw new Error(`an output bias of ${bias.length} for ${weights.layers[last].b.length} outputs`);
  return { ...weights, layers: weights.layers.map((layer, l) => (l === last ? { ...layer, b: [...bias] } : layer)) };
}
