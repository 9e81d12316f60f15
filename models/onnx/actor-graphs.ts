// The policy networks as ONNX graphs, from plain weights (the trainer's checkpoint format, no
// TensorFlow.js here). Every graph takes the observation and the agent's one-hot index within
// its role as separate inputs, so a robot never assembles the network's input itself.
//
// MLP actor:  obs, agent_id → logits, action
// CommNet (ARCHITECTURE.md, "Data flow": one graph per stage; the message of round k is h^(k−1)):
//   stage0:   obs, agent_id → message = next_state = h⁰
//   stage k:  state [B,H], inbox [B,C,H], mask [B,C] → message = next_state = h^k, where
//             c = Σ_j mask_j·inbox_j / max(Σ_j mask_j, 1)   (heard nobody → c = 0)
//   final:    state → logits, action
//   fallback: obs, agent_id → logits, action — the same network with every round's mask empty
// A recurrent CommNet (CommNet-GRU) makes h⁰ with a GRU cell over the encoding and the agent's
// state: its stage 0 and fallback also take `state` [B, H] and return `next_state` = h⁰, which is
// both round 1's state and the state the agent keeps for its next tick.
// A gated CommNet (IC3Net's gate) also returns from stage 0 `gate` [B] (int64): 1 where the agent
// speaks this tick, 0 where it chose silence — ArgMax over (silent, speak) of W_g·h⁰ + b_g.
// The batch B and the inbox capacity C are dynamic dimensions.
// A continuous policy (io.continuous) ends in `action` [B, D] instead: the network's output is the
// action vector itself (a Gaussian policy's mean, its greedy action), with no logits and no ArgMax.

import { GraphBuilder, type Dim } from './graph-builder.js';
import { affine, gruCell } from './layers.js';

/** TensorProto.DataType.FLOAT, Cast's `to` for float32 */
const ONNX_FLOAT = 1;

export const LAYER_NORM_EPSILON = 1e-5;
/** TarMAC: added to the attention scores of senders not heard, so that their softmax weight underflows to 0 (the trainer uses the same) */
export const ATTENTION_MASK_PENALTY = 1e9;

export interface MlpGraphWeights {
  spec: { sizes: number[]; activation: 'tanh' | 'relu'; inputLayerNorm?: boolean; hiddenLayerNorm?: boolean };
  /** per layer: W [in, out] row-major, b [out] */
  layers: { w: ArrayLike<number>; b: ArrayLike<number> }[];
}

export interface CommNetGraphWeights {
  spec: { inputSize: number; hidden: number; rounds: number; numActions: number; inputLayerNorm?: boolean; attention?: { keySize: number }; recurrent?: 'gru'; gated?: true };
  /** enc_w [in, H], enc_b, h_w_k / c_w_k [H, H], b_k, out_w [H, A], out_b; with attention q_w_k / k_w_k [H, d]; gated: gate_w [H, 2], gate_b [2] */
  tensors: Record<string, ArrayLike<number>>;
}

export interface ActorIo {
  /** observation length */
  obsSize: number;
  /** one-hot agent index length (0: the actor takes no index) */
  agentIdSize: number;
  /** the output is the action vector (continuous actions), not logits */
  continuous?: boolean;
  /**
   * continuous: the network's output is tanh's argument, and the action is centre + halfWidth ·
   * tanh(output) (a policy trained with its actions squashed into the box)
   */
  squash?: { centre: number[]; halfWidth: number[] };
  /**
   * continuous: the network gives a Beta's two shape parameters per component (the first D
   * outputs a, the last D b; α = 1 + softplus(a), β likewise), and the action is its mode in the
   * box, low + span · (α − 1) / (α + β − 2) = low + span · (softplus(a) + ε) / (softplus(a) +
   * softplus(b) + 2ε) (a policy trained with a Beta distribution; ε keeps Beta(1, 1) at the centre)
   */
  beta?: { low: number[]; span: number[]; epsilon: number };
  /**
   * continuous: the network gives the Gaussian's mean (the first D outputs) and then its log-std
   * (the last D); the action is the mean
   */
  stateStd?: boolean;
  /**
   * continuous: the network gives K logits per component (D groups of K), and the action is each
   * component's argmax bin as its value, low + index · step (a policy trained on K values a component)
   */
  bins?: { bins: number; low: number[]; step: number[] };
}

/** How the network's last layer becomes the action: what policyOutputs needs of an ActorIo. */
export type ActorOutputs = Pick<ActorIo, 'continuous' | 'squash' | 'beta' | 'stateStd' | 'bins'>;

export const BATCH: Dim = 'batch';

/** obs (+ agent_id) → the network's input row, layer-normalised if the network does */
export function actorInput(g: GraphBuilder, io: ActorIo, layerNorm: boolean): string {
  const obs = g.input('obs', [BATCH, io.obsSize]);
  let x = obs;
  if (io.agentIdSize > 0) x = g.op('Concat', [obs, g.input('agent_id', [BATCH, io.agentIdSize])], { axis: 1 });
  return layerNorm ? layerNormalize(g, x, io.obsSize + io.agentIdSize) : x;
}

/**
 * (x − mean) / √(variance + ε) across each row's `width` features, spelled as ONNX Runtime
 * recognises a layer normalisation (squares by Pow, a unit scale and a zero shift) so that it runs
 * the whole as its LayerNormalization kernel: one node instead of eight, and a call about 1.5 µs
 * shorter. The kernel sums x and x² in one pass; on rows far from zero that is closer to the exact
 * value than the eight nodes' float32 mean, and at most a few 1e-6 from it near zero.
 */
function layerNormalize(g: GraphBuilder, x: string, width: number, name = 'ln'): string {
  const mean = g.op('ReduceMean', [x], { axes: [-1], keepdims: 1 });
  const centred = g.op('Sub', [x, mean]);
  const variance = g.op('ReduceMean', [g.op('Pow', [centred, g.constant(`${name}_two`, [2], [])])], { axes: [-1], keepdims: 1 });
  const std = g.op('Sqrt', [g.op('Add', [variance, g.constant(`${name}_epsilon`, [LAYER_NORM_EPSILON], [])])]);
  const normalised = g.op('Div', [centred, std]);
  return g.op('Add', [g.op('Mul', [normalised, g.constant(`${name}_scale`, new Array(width).fill(1), [width])]), g.constant(`${name}_shift`, new Array(width).fill(0), [width])]);
}


/** numOutputs: the network's last layer (logits; a continuous action's D, or 2D for a Beta) */
export function policyOutputs(g: GraphBuilder, logits: string, numOutputs: number, { continuous = false, squash, beta, stateStd, bins }: ActorOutputs = {}): void {
  const numActions = bins ? numOutputs / bins.bins : beta || stateStd ? numOutputs / 2 : numOutputs;
  if (continuous && bins) {
    // [B, D·K] → [B, D, K] → each component's argmax → its value
    const grouped = g.op('Reshape', [logits, g.int64s('bins_shape', [0, numActions, bins.bins])]);
    const index = g.op('Cast', [g.op('ArgMax', [grouped], { axis: 2, keepdims: 0 })], { to: ONNX_FLOAT });
    const action = g.op('Add', [g.op('Mul', [index, g.constant('bins_step', bins.step, [numActions])]), g.constant('bins_low', bins.low, [numActions])]);
    g.output(action, 'action', [BATCH, numActions]);
    return;
  }
  if (continuous && stateStd) {
    const mean = g.op('Slice', [logits, g.int64s('mean_start', [0]), g.int64s('mean_end', [numActions]), g.int64s('mean_axis', [1])]);
    g.output(mean, 'action', [BATCH, numActions]);
    return;
  }
  if (continuous && beta) {
    // softplus(a) + ε = α − 1 + ε, likewise for β
    const excess = (from: number, name: string) => g.op('Add', [g.op('Softplus', [
      g.op('Slice', [logits, g.int64s(`${name}_start`, [from]), g.int64s(`${name}_end`, [from + numActions]), g.int64s(`${name}_axis`, [1])]),
    ]), g.constant(`${name}_epsilon`, [beta.epsilon], [])]);
    const alpha = excess(0, 'beta_alpha');
    const fraction = g.op('Div', [alpha, g.op('Add', [alpha, excess(numActions, 'beta_beta')])]);
    const action = g.op('Add', [g.op('Mul', [fraction, g.constant('beta_span', beta.span, [numActions])]), g.constant('beta_low', beta.low, [numActions])]);
    g.output(action, 'action', [BATCH, numActions]);
    return;
  }
  if (continuous) {
    const action = squash
      ? g.op('Add', [g.op('Mul', [g.op('Tanh', [logits]), g.constant('squash_half_width', squash.halfWidth, [numActions])]), g.constant('squash_centre', squash.centre, [numActions])])
      : logits;
    g.output(action, 'action', [BATCH, numActions]);
    return;
  }
  g.output(logits, 'logits', [BATCH, numActions]);
  g.output(g.op('ArgMax', [logits], { axis: 1, keepdims: 0 }), 'action', [BATCH], 'int64');
}

function mlpOutput(g: GraphBuilder, weights: MlpGraphWeights, io: ActorIo): string {
  const { sizes, activation, inputLayerNorm, hiddenLayerNorm } = weights.spec;
  if (sizes[0] !== io.obsSize + io.agentIdSize) throw new Error(`the MLP takes ${sizes[0]} inputs, obs ${io.obsSize} + agent id ${io.agentIdSize} given`);
  let h = actorInput(g, io, Boolean(inputLayerNorm));
  weights.layers.forEach((layer, l) => {
    h = affine(g, h, layer.w, layer.b, sizes[l], sizes[l + 1], `layer${l}`);
    if (l + 1 < weights.layers.length) {
      h = g.op(activation === 'tanh' ? 'Tanh' : 'Relu', [h]);
      if (hiddenLayerNorm === true) h = layerNormalize(g, h, sizes[l + 1], `layer${l}_ln`);
    }
  });
  return h;
}

export function mlpActorGraph(weights: MlpGraphWeights, io: ActorIo): Uint8Array {
  const g = new GraphBuilder('mlp_actor');
  policyOutputs(g, mlpOutput(g, weights, io), weights.spec.sizes[weights.spec.sizes.length - 1], io);
  return g.toBytes('fleetmind MLP actor: obs, agent_id → logits, action');
}

/** A value-based policy (IQL/DQN, QMIX/VDN agent network): obs, agent_id → q_values, greedy action. */
export function mlpQGraph(weights: MlpGraphWeights, io: ActorIo): Uint8Array {
  const g = new GraphBuilder('mlp_q');
  const q = mlpOutput(g, weights, io);
  const n = weights.spec.sizes[weights.spec.sizes.length - 1];
  g.output(q, 'q_values', [BATCH, n]);
  g.output(g.op('ArgMax', [q], { axis: 1, keepdims: 0 }), 'action', [BATCH], 'int64');
  return g.toBytes('fleetmind Q-network: obs, agent_id → q_values, greedy action');
}

function tensor(weights: CommNetGraphWeights, name: string): ArrayLike<number> {
  const t = weights.tensors[name];
  if (!t) throw new Error(`CommNet weights lack "${name}"`);
  return t;
}

function encode(g: GraphBuilder, weights: CommNetGraphWeights, io: ActorIo): string {
  const { inputSize, hidden, inputLayerNorm } = weights.spec;
  if (inputSize !== io.obsSize + io.agentIdSize) throw new Error(`the CommNet takes ${inputSize} inputs, obs ${io.obsSize} + agent id ${io.agentIdSize} given`);
  const x = actorInput(g, io, Boolean(inputLayerNorm));
  return g.op('Tanh', [affine(g, x, tensor(weights, 'enc_w'), tensor(weights, 'enc_b'), inputSize, hidden, 'enc')]);
}

/** h⁰: the encoding, or a recurrent CommNet's GRU cell over it and the agent's state (a `state` input) */
function firstState(g: GraphBuilder, weights: CommNetGraphWeights, io: ActorIo): string {
  const e = encode(g, weights, io);
  if (!weights.spec.recurrent) return e;
  const H = weights.spec.hidden;
  const cell = { x_w: tensor(weights, 'gru_x_w'), x_b: tensor(weights, 'gru_x_b'), h_w: tensor(weights, 'gru_h_w'), n_w: tensor(weights, 'gru_n_w') };
  return gruCell(g, e, g.input('state', [BATCH, H]), cell, H, 'gru');
}

/** h^k = tanh(W_h·h + W_c·c + b) */
function round(g: GraphBuilder, weights: CommNetGraphWeights, k: number, h: string, c: string): string {
  const H = weights.spec.hidden;
  const own = affine(g, h, tensor(weights, `h_w_${k}`), null, H, H, `h${k}`);
  const heard = affine(g, c, tensor(weights, `c_w_${k}`), null, H, H, `c${k}`);
  return g.op('Tanh', [g.op('Add', [g.op('Add', [own, heard]), g.constant(`b${k}`, tensor(weights, `b_${k}`), [H])])]);
}

function head(g: GraphBuilder, weights: CommNetGraphWeights, h: string, outputs: ActorOutputs): void {
  const { hidden, numActions } = weights.spec;
  policyOutputs(g, affine(g, h, tensor(weights, 'out_w'), tensor(weights, 'out_b'), hidden, numActions, 'out'), numActions, outputs);
}

export function commNetStage0Graph(weights: CommNetGraphWeights, io: ActorIo): Uint8Array {
  const g = new GraphBuilder('commnet_stage0');
  const h = firstState(g, weights, io);
  g.output(h, 'message', [BATCH, weights.spec.hidden]);
  g.output(h, 'next_state', [BATCH, weights.spec.hidden]);
  if (weights.spec.gated) {
    const gateLogits = affine(g, h, tensor(weights, 'gate_w'), tensor(weights, 'gate_b'), weights.spec.hidden, 2, 'gate');
    g.output(g.op('ArgMax', [gateLogits], { axis: 1, keepdims: 0 }), 'gate', [BATCH], 'int64');
  }
  return g.toBytes(`fleetmind CommNet stage 0: obs, agent_id${weights.spec.recurrent ? ', state' : ''} → message, next_state${weights.spec.gated ? ', gate' : ''}`);
}

export function commNetRoundGraph(weights: CommNetGraphWeights, k: number): Uint8Array {
  const H = weights.spec.hidden;
  const g = new GraphBuilder(`commnet_stage${k}`);
  const state = g.input('state', [BATCH, H]);
  const inbox = g.input('inbox', [BATCH, 'capacity', H]);
  const mask = g.input('mask', [BATCH, 'capacity']);
  const c = weights.spec.attention ? attend(g, weights, k, state, inbox, mask) : meanOf(g, inbox, mask);
  const h = round(g, weights, k, state, c);
  g.output(h, 'message', [BATCH, H]);
  g.output(h, 'next_state', [BATCH, H]);
  return g.toBytes(`fleetmind CommNet stage ${k}: state, inbox, mask → message, next_state`);
}

/** CommNet: c = mask·inbox / max(Σ mask, 1): [B,1,C] × [B,C,H] → [B,1,H] → [B,H] */
function meanOf(g: GraphBuilder, inbox: string, mask: string): string {
  const summed = g.op('MatMul', [g.op('Unsqueeze', [mask, g.int64s('axis1', [1])]), inbox]);
  const total = g.op('Squeeze', [summed, g.int64s('squeeze_axis1', [1])]);
  const heard = g.op('Max', [g.op('ReduceSum', [mask, g.int64s('sum_axis1', [1])], { keepdims: 1 }), g.constant('one', [1], [])]);
  return g.op('Div', [total, heard]);
}

/** TarMAC: c = Σ_j α_j inbox_j, α = softmax over the heard slots of (W_q·state)·(W_k·inbox_j)/√d, times the mask */
function attend(g: GraphBuilder, weights: CommNetGraphWeights, k: number, state: string, inbox: string, mask: string): string {
  const H = weights.spec.hidden;
  const d = weights.spec.attention!.keySize;
  const q = g.op('MatMul', [state, g.constant(`q_w_${k}`, tensor(weights, `q_w_${k}`), [H, d])]); // [B, d]
  const keys = g.op('MatMul', [inbox, g.constant(`k_w_${k}`, tensor(weights, `k_w_${k}`), [H, d])]); // [B, C, d]
  // [B, C, d] × [B, d, 1] → [B, C, 1] → [B, C]
  const dots = g.op('Squeeze', [g.op('MatMul', [keys, g.op('Unsqueeze', [q, g.int64s('axis2', [2])])]), g.int64s('squeeze_axis2', [2])]);
  const scores = g.op('Div', [dots, g.constant('sqrt_d', [Math.sqrt(d)], [])]);
  const penalty = g.op('Mul', [g.op('Sub', [mask, g.constant('one_mask', [1], [])]), g.constant('mask_penalty', [ATTENTION_MASK_PENALTY], [])]);
  const alpha = g.op('Mul', [g.op('Softmax', [g.op('Add', [scores, penalty])], { axis: 1 }), mask]);
  // [B, 1, C] × [B, C, H] → [B, 1, H] → [B, H]
  return g.op('Squeeze', [g.op('MatMul', [g.op('Unsqueeze', [alpha, g.int64s('axis1', [1])]), inbox]), g.int64s('squeeze_axis1', [1])]);
}

export function commNetFinalGraph(weights: CommNetGraphWeights, outputs: ActorOutputs = {}): Uint8Array {
  const g = new GraphBuilder('commnet_final');
  head(g, weights, g.input('state', [BATCH, weights.spec.hidden]), outputs);
  return g.toBytes('fleetmind CommNet final stage: state → logits, action');
}

/** The CommNet with nobody heard in any round: c = 0, so h^k = tanh(W_h·h^(k−1) + b_k). */
export function commNetFallbackGraph(weights: CommNetGraphWeights, io: ActorIo): Uint8Array {
  const H = weights.spec.hidden;
  const g = new GraphBuilder('commnet_fallback');
  let h = firstState(g, weights, io);
  if (weights.spec.recurrent) g.output(h, 'next_state', [BATCH, H]);
  for (let k = 1; k <= weights.spec.rounds; k++) {
    const own = affine(g, h, tensor(weights, `h_w_${k}`), null, H, H, `h${k}`);
    h = g.op('Tanh', [g.op('Add', [own, g.constant(`b${k}`, tensor(weights, `b_${k}`), [H])])]);
  }
  head(g, weights, h, io);
  return g.toBytes(`fleetmind CommNet fallback: obs, agent_id${weights.spec.recurrent ? ', state' : ''} → logits, action${weights.spec.recurrent ? ', next_state' : ''}, with no messages`);
}
