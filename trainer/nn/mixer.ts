// Value decomposition: how a team's per-agent Q-values Q_i(o_i, a_i) become Q_tot(s, a).
//
// VDN (Sunehag et al. 2018): Q_tot = Σ_i Q_i.
// QMIX (Rashid et al. 2018): Q_tot = w₂ᵀ · elu(W₁ᵀ q + b₁) + V(s), where W₁ [n, embed] and
// w₂ [embed] are |hypernetwork(s)| (absolute values, so ∂Q_tot/∂Q_i ≥ 0: each agent's greedy
// action is the team's greedy action), b₁ = hyper(s) and V(s) a small state-value network.

import type { Rng } from '@fleetmind/worlds';
import { tf } from '../backend.js';
import { Mlp, type MlpWeights } from './mlp.js';
import type { MixerWeights } from '../runs/checkpoint-schema.js';

export type MixerKind = 'vdn' | 'qmix';

export type { MixerWeights };
export type MixerSpec = MixerWeights['spec'];

export class Mixer {
  readonly variables: tf.Variable[];
  private readonly nets: Mlp[];

  constructor(readonly spec: MixerSpec, rng: Rng) {
    const { numAgents: n, stateSize: s, embed, hyperHidden } = spec;
    // the state is layer-normalised first and the hypernetworks start small: raw states (grid cells
    // 0…9) and unit-gain outputs made |W| and so Q_tot tens of times the agents' Qs, and the TD loss diverge
    const net = (sizes: number[]) => new Mlp({ sizes, activation: 'relu', outputGain: 0.1, inputLayerNorm: true }, rng);
    this.nets = spec.kind === 'vdn' ? [] : [net([s, hyperHidden, n * embed]), net([s, embed]), net([s, hyperHidden, embed]), net([s, embed, 1])];
    this.variables = this.nets.flatMap((net) => net.variables);
  }

  /** qs [B, n] (each agent's Q of its action), states [B, S] → Q_tot [B] */
  apply(qs: tf.Tensor2D, states: tf.Tensor2D): tf.Tensor1D {
    if (this.spec.kind === 'vdn') return tf.sum(qs, 1);
    const { numAgents: n, embed } = this.spec;
    const [hyperW1, hyperB1, hyperW2, value] = this.nets;
    const w1 = tf.reshape(tf.abs(hyperW1.apply(states)), [-1, n, embed]);
    const hidden = tf.elu(tf.add(tf.sum(tf.mul(tf.expandDims(qs, 2), w1), 1), hyperB1.apply(states)));
    const w2 = tf.abs(hyperW2.apply(states));
    return tf.add(tf.sum(tf.mul(hidden, w2), 1), tf.reshape(value.apply(states), [-1])) as tf.Tensor1D;
  }

  getWeights(): MixerWeights {
    return { spec: this.spec, nets: this.nets.map((net) => net.getWeights()) };
  }

  setWeights(weights: MixerWeights): void {
    if (weights.nets.length !== this.nets.length) throw new Error(`mixer weights hold ${weights.nets.length} networks, a ${this.spec.kind} mixer has ${this.nets.length}`);
    weights.nets.forEach((w, k) => this.nets[k].setWeights(w));
  }

  dispose(): void {
    this.nets.forEach((net) => net.dispose());
  }
}
