// A recurrent actor: an encoder, a GRU cell (Cho et al. 2014) and a linear head — the MAPPO
// paper's recurrent policy (rMAPPO), for worlds where one observation is not enough.
//   e_t = tanh(W_enc·x̂_t + b_enc)                 x: own observation (+ agent id); x̂ as in the MLP
//   z   = σ(W_z·e_t + U_z·h + b_z)                update gate
//   r   = σ(W_r·e_t + U_r·h + b_r)                reset gate
//   n   = tanh(W_n·e_t + U_n·(r ⊙ h) + b_n)        candidate
//   h_t = n + z ⊙ (h − n)                          = (1 − z)⊙n + z⊙h
//   logits_t = W_out·h_t + b_out
// h is the agent's memory: zero at an episode's start and whenever the agent was not in the
// previous step (it left, or has not entered yet), so training and a robot agree on when it
// forgets. The three input projections are one [H, 3H] matrix (z, r, n) and the two gate
// projections of h one [H, 2H]: one product each per step instead of three and two.
//
// Training unrolls chunks of L steps (chunked BPTT, as rMAPPO): each chunk starts from the state
// the rollout had there, held fixed, and a step where the state was reset starts from zero.

import { tf } from '../backend.js';
import type { Rng } from '@fleetmind/worlds';
import { dense } from './dense.js';
import { inputLayer, type NetworkInput } from './input-layer.js';
import { tanh } from './tanh.js';
import { NamedParameters } from './named-parameters.js';
import type { GruWeights } from '../runs/checkpoint-schema.js';

export type { GruWeights };
export type GruSpec = GruWeights['spec'];

/**
 * A recurrent actor's inputs beyond the observations: rows in time-major order (step t's B rows
 * are [t·B, (t+1)·B)), the state entering step 0 and, per row, whether its state was zeroed
 * before that step.
 */
export interface ActorSequence {
  steps: number;
  /** [B, stateSize], already zero where step 0's state was reset */
  initialState: tf.Tensor2D;
  /** [steps·B]: 1 where the state was zeroed before the step */
  resets: tf.Tensor1D;
}

/** A GRU cell's weights: x_w [H, 3H] and x_b [3H] project the input (z, r, n); h_w [H, 2H] the state into z and r; n_w [H, H] the reset state into n. */
export interface GruCellWeights {
  x_w: tf.Tensor;
  x_b: tf.Tensor;
  h_w: tf.Tensor;
  n_w: tf.Tensor;
}

/**
 * The cell over L steps of B rows, time-major: inputs [L·B, H], resets [L·B] (1: zeroed before
 * that step), h0 [B, H] entering step 0 (its reset already in it). → every step's state [L·B, H]
 * and the last [B, H]. The input projections run once for all steps.
 */
export function unrollGru(inputs: tf.Tensor2D, w: GruCellWeights, resets: tf.Tensor1D, h0: tf.Tensor2D, steps: number): { states: tf.Tensor2D; last: tf.Tensor2D } {
  const rows = h0.shape[0];
  const H = h0.shape[1];
  const projected = tf.add(dense(inputs, w.x_w as tf.Tensor2D), w.x_b) as tf.Tensor2D;
  const keep = tf.reshape(tf.sub(1, resets), [steps, rows, 1]);
  let h = h0;
  const outputs: tf.Tensor2D[] = [];
  for (let t = 0; t < steps; t++) {
    // (step 0's state is h0 as given: its reset is already in it)
    if (t > 0) h = tf.mul(h, tf.reshape(tf.slice(keep, [t, 0, 0], [1, rows, 1]), [rows, 1])) as tf.Tensor2D;
    const g = tf.slice(projected, [t * rows, 0], [rows, 3 * H]);
    const gates = tf.sigmoid(tf.add(tf.slice(g, [0, 0], [rows, 2 * H]), dense(h, w.h_w as tf.Tensor2D)));
    const z = tf.slice(gates, [0, 0], [rows, H]);
    const r = tf.slice(gates, [0, H], [rows, H]);
    const n = tanh(tf.add(tf.slice(g, [0, 2 * H], [rows, H]), dense(tf.mul(r, h) as tf.Tensor2D, w.n_w as tf.Tensor2D)));
    h = tf.add(n, tf.mul(z, tf.sub(h, n))) as tf.Tensor2D;
    outputs.push(h);
  }
  return { states: outputs.length === 1 ? outputs[0] : tf.concat(outputs, 0), last: h };
}

export class Gru {
  readonly spec: GruSpec;
  private readonly params: NamedParameters;

  constructor(spec: GruSpec, rng: Rng) {
    this.spec = spec;
    const { inputSize: i, hidden: h, numActions: a } = spec;
    this.params = new NamedParameters(rng, 'GRU');
    const add = (name: string, shape: number[], scale: number) => this.params.add(name, shape, scale);
    add('enc_w', [i, h], Math.sqrt(1 / i));
    add('enc_b', [h], 0);
    add('x_w', [h, 3 * h], Math.sqrt(1 / h));
    add('x_b', [3 * h], 0);
    add('h_w', [h, 2 * h], Math.sqrt(1 / h));
    add('n_w', [h, h], Math.sqrt(1 / h));
    add('out_w', [h, a], 0.01 * Math.sqrt(1 / h));
    add('out_b', [a], 0);
  }

  get variables(): tf.Variable[] {
    return this.params.variables;
  }

  private p(name: string): tf.Tensor2D {
    return this.params.get(name) as tf.Tensor2D;
  }

  /**
   * A sequence of L steps for B rows, time-major: x [L·B, in] (step t's rows are [t·B, (t+1)·B)),
   * resets [L·B] (1: the state was zeroed before that step), h0 [B, H] the state entering step 0
   * (already zero where it was reset). → logits [L·B, A] and the state after the last step.
   */
  applySequence(x: NetworkInput, resets: tf.Tensor1D, h0: tf.Tensor2D, steps: number): { logits: tf.Tensor2D; state: tf.Tensor2D } {
    const encoded = tanh(tf.add(inputLayer(x, this.p('enc_w'), this.spec.inputLayerNorm === true), this.p('enc_b'))) as tf.Tensor2D;
    const { states, last } = unrollGru(encoded, { x_w: this.p('x_w'), x_b: this.p('x_b'), h_w: this.p('h_w'), n_w: this.p('n_w') }, resets, h0, steps);
    return { logits: tf.add(dense(states, this.p('out_w')), this.p('out_b')) as tf.Tensor2D, state: last };
  }

  getWeights(): GruWeights {
    return { spec: this.spec, tensors: this.params.values() };
  }

  setWeights(weights: GruWeights): void {
    if (JSON.stringify(weights.spec) !== JSON.stringify(this.spec)) {
      throw new Error(`weights are for ${JSON.stringify(weights.spec)}, this GRU is ${JSON.stringify(this.spec)}`);
    }
    this.params.assign(weights.tensors);
  }

  dispose(): void {
    this.params.dispose();
  }
}
