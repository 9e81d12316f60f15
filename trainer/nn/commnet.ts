// The CommNet actor (Sukhbaatar et al. 2016, "Learning Multiagent Communication with
// Backpropagation"), in the form the runtime can execute stage by stage:
//   stage 0:  h⁰ = tanh(W_enc·x̂ + b_enc)  — x: own observation (+ agent id); x̂: x, or x
//             normalised across its features when inputLayerNorm is on
//   round k:  c^k = mean of the peers' h^(k−1) over the peers heard in round k (none → 0)
//             h^k = tanh(W_h^k·h^(k−1) + W_c^k·c^k + b^k)
//   final:    logits = W_out·h^K + b_out
// Each agent's message in round k is its h^(k−1), so every stage needs only the agent's own
// state and its inbox: the same arithmetic runs centrally in training and per robot at run time.
//
// With attention (TarMAC, Das et al. 2019, "Targeted Multi-Agent Communication"), c^k is not the
// mean but an attention-weighted sum of the messages heard: agent i's query q = W_q^k·h_i and
// each sender j's key k_j = W_k^k·h_j score it, α = softmax over the heard j of q·k_j/√d, and
// c^k = Σ α_j h_j (nobody heard → 0). TarMAC's sender computes its key and sends it; here the
// receiver computes it from the message with the role's shared W_k: the same function, and the
// message stays the sender's state (so peer checks and the wire are unchanged).
//
// CommNet-GRU (spec.recurrent): stage 0 passes the encoding through a GRU cell (nn/gru.ts) with
// the agent's state, h⁰ = GRU(tanh(W_enc·x̂ + b_enc), m), and h⁰ is also the state m of its next
// step. The rounds and the head are the CommNet's: an agent remembers what it saw, and hears
// each tick what its teammates remember. Rows are then time-major whole teams (step t's teams,
// then step t + 1's), and the rounds run on every step's teams at once.
//
// Gated (spec.gated, IC3Net: Singh et al. 2019, "Learning when to Communicate at Scale"): each
// agent also chooses, from its h⁰ and before any round, whether to speak this step: gate logits
// g = W_g·h⁰ + b_g over (silent, speak). A silent agent's messages reach nobody in any round of
// the step (column j of every round's mask is zeroed), and it still hears the others. The gate is
// an action like the others, trained by the policy gradient; acting greedily it speaks when
// g_speak > g_silent.

import { tf } from '../backend.js';
import type { Rng } from '@fleetmind/worlds';
import { dense } from './dense.js';
import { inputLayer, inputRows, type NetworkInput } from './input-layer.js';
import { ATTENTION_MASK_PENALTY } from '@fleetmind/models/onnx';
import { tanh } from './tanh.js';
import { NamedParameters } from './named-parameters.js';
import { unrollGru, type ActorSequence } from './gru.js';
import { heardMean, intoTeams, outOfTeams, type PresentRows } from './team-rows.js';
import type { CommNetWeights } from '../runs/checkpoint-schema.js';

export type { CommNetWeights };
/** input size (observation + agent id), hidden width H, rounds K, actions, input LayerNorm */
export type CommNetSpec = CommNetWeights['spec'];
/** a gated CommNet's choice of speakers: gate logits [rows, 2] → [rows] of 1 (speaks) or 0 (silent) */
export type Speakers = (gateLogits: tf.Tensor2D) => tf.Tensor;

/** What forward() is given beside the rows and masks (see there). */
export interface CommNetPass {
  sequence?: ActorSequence;
  speakers?: Speakers;
  present?: PresentRows;
}


export class CommNet {
  readonly spec: CommNetSpec;
  private readonly params: NamedParameters;

  constructor(spec: CommNetSpec, rng: Rng) {
    this.spec = spec;
    const { inputSize: i, hidden: h, rounds, numActions: a } = spec;
    this.params = new NamedParameters(rng, 'CommNet');
    const add = (name: string, shape: number[], scale: number) => this.params.add(name, shape, scale);
    add('enc_w', [i, h], Math.sqrt(1 / i));
    add('enc_b', [h], 0);
    for (let k = 1; k <= rounds; k++) {
      add(`h_w_${k}`, [h, h], Math.sqrt(1 / (2 * h)));
      add(`c_w_${k}`, [h, h], Math.sqrt(1 / (2 * h)));
      add(`b_${k}`, [h], 0);
      if (spec.attention) {
        add(`q_w_${k}`, [h, spec.attention.keySize], Math.sqrt(1 / h));
        add(`k_w_${k}`, [h, spec.attention.keySize], Math.sqrt(1 / h));
      }
    }
    add('out_w', [h, a], 0.01 * Math.sqrt(1 / h));
    add('out_b', [a], 0);
    // (after the CommNet's own, so a CommNet without recurrence draws what it always drew)
    if (spec.recurrent) {
      add('gru_x_w', [h, 3 * h], Math.sqrt(1 / h));
      add('gru_x_b', [3 * h], 0);
      add('gru_h_w', [h, 2 * h], Math.sqrt(1 / h));
      add('gru_n_w', [h, h], Math.sqrt(1 / h));
    }
    if (spec.gated) {
      // small, and (silent, speak) even at the start: every agent speaks half the time until it learns when
      add('gate_w', [h, 2], 0.01 * Math.sqrt(1 / h));
      add('gate_b', [2], 0);
    }
  }

  get variables(): tf.Variable[] {
    return this.params.variables;
  }

  private p(name: string): tf.Variable {
    return this.params.get(name);
  }

  /**
   * x: [E·n, in] rows in env-major, then agent, order (a team of n per env);
   * masks: [E, K, n, n], masks[e, k, i, j] = 1 when i heard j in round k. Returns logits [E·n, A].
   */
  apply(x: tf.Tensor2D, masks: tf.Tensor4D, teamSize: number, sequence?: ActorSequence): tf.Tensor2D {
    return this.forward(x, masks, teamSize, { sequence }).logits;
  }

  /**
   * apply(), and for a recurrent CommNet its state after the sequence's last step (h⁰ there);
   * for a gated one its gate logits [rows, 2] (silent, speak).
   * sequence: a recurrent CommNet's steps and the state entering them (its rows are time-major
   * whole teams).
   * speakers: a gated CommNet choosing its gates now (acting): given the gate logits, 1 for each
   * row that speaks and 0 for each that is silent; the masks are then gated here. Without it the
   * masks are taken as already gated (training replays the masks its rollout gated).
   * present: x holds only these rows of the teams (the agents in the step; the masks must let
   * nobody hear the others). The layers run on them alone and the logits are theirs; the rounds
   * put them into their teams for the means. Not with memory (a state runs on every row).
   * Speakers still see and choose for every row (the absent rows' gate logits zero).
   */
  forward(x: NetworkInput, masks: tf.Tensor4D, teamSize: number, pass: CommNetPass = {}): { logits: tf.Tensor2D; memory: tf.Tensor2D | null; gateLogits: tf.Tensor2D | null } {
    const { sequence, speakers, present } = pass;
    const { hidden: hd, rounds } = this.spec;
    if (present && this.spec.recurrent) throw new Error('a CommNet runs on present rows only when it is feed-forward');
    const rows = present ? present.total : inputRows(x);
    const envs = rows / teamSize;
    let h = tanh(tf.add(inputLayer(x, this.p('enc_w') as tf.Tensor2D, this.spec.inputLayerNorm === true), this.p('enc_b'))) as tf.Tensor2D;
    let memory: tf.Tensor2D | null = null;
    if (this.spec.recurrent) {
      if (!sequence) throw new Error('a recurrent CommNet needs its state: give it a sequence');
      const cell = { x_w: this.p('gru_x_w'), x_b: this.p('gru_x_b'), h_w: this.p('gru_h_w'), n_w: this.p('gru_n_w') };
      ({ states: h, last: memory } = unrollGru(h, cell, sequence.resets, sequence.initialState, sequence.steps));
    }
    let gateLogits: tf.Tensor2D | null = null;
    if (this.spec.gated) {
      gateLogits = tf.add(dense(h, this.p('gate_w') as tf.Tensor2D), this.p('gate_b')) as tf.Tensor2D;
      // sender j silent: column j of every round's mask is 0
      if (speakers) masks = tf.mul(masks, tf.reshape(speakers(present ? intoTeams(gateLogits, present) : gateLogits), [envs, 1, 1, teamSize])) as tf.Tensor4D;
    } else if (speakers) throw new Error('only a gated CommNet chooses whether to speak');
    // (on present rows a CommNet's mean reads the masks as numbers; attention moves the rows into their teams)
    const maskData = present && !this.spec.attention ? masks.dataSync() as Float32Array : null;
    for (let k = 1; k <= rounds; k++) {
      let c: tf.Tensor2D;
      if (maskData) c = heardMean(h, present!, maskData, rounds, k - 1, teamSize);
      else {
        const mask = tf.reshape(tf.slice(masks, [0, k - 1, 0, 0], [envs, 1, teamSize, teamSize]), [envs, teamSize, teamSize]) as tf.Tensor3D;
        const teamRows = present ? intoTeams(h, present) : h;
        const team = tf.reshape(teamRows, [envs, teamSize, hd]) as tf.Tensor3D;
        const heard = this.spec.attention ? this.attend(teamRows, team, mask, k, envs, teamSize) : this.mean(team, mask, envs, teamSize);
        c = present ? outOfTeams(heard, present) : heard;
      }
      h = tanh(tf.add(tf.add(dense(h, this.p(`h_w_${k}`) as tf.Tensor2D), dense(c, this.p(`c_w_${k}`) as tf.Tensor2D)), this.p(`b_${k}`))) as tf.Tensor2D;
    }
    return { logits: tf.add(dense(h, this.p('out_w') as tf.Tensor2D), this.p('out_b')) as tf.Tensor2D, memory, gateLogits };
  }

  /** CommNet: c_i = the mean of the h_j heard (none heard → 0) */
  private mean(team: tf.Tensor3D, mask: tf.Tensor3D, envs: number, teamSize: number): tf.Tensor2D {
    const heard = tf.maximum(tf.sum(mask, 2, true), 1); // none heard → divide a zero sum by 1
    return tf.reshape(tf.div(tf.matMul(mask, team), heard), [envs * teamSize, this.spec.hidden]) as tf.Tensor2D;
  }

  /** TarMAC: c_i = Σ_j α_ij h_j, α_i = softmax over the heard j of q_i·k_j/√d (none heard → 0) */
  private attend(h: tf.Tensor2D, team: tf.Tensor3D, mask: tf.Tensor3D, k: number, envs: number, teamSize: number): tf.Tensor2D {
    const d = this.spec.attention!.keySize;
    const q = tf.reshape(dense(h, this.p(`q_w_${k}`) as tf.Tensor2D), [envs, teamSize, d]);
    const keys = tf.reshape(dense(h, this.p(`k_w_${k}`) as tf.Tensor2D), [envs, teamSize, d]);
    const scores = tf.div(tf.matMul(q, tf.transpose(keys, [0, 2, 1])), Math.sqrt(d));
    // unheard senders out of the softmax; a row with nobody heard gets weights 0 after the mask
    const weights = tf.mul(tf.softmax(tf.add(scores, tf.mul(tf.sub(mask, 1), ATTENTION_MASK_PENALTY))), mask) as tf.Tensor3D;
    return tf.reshape(tf.matMul(weights, team), [envs * teamSize, this.spec.hidden]) as tf.Tensor2D;
  }

  getWeights(): CommNetWeights {
    return { spec: this.spec, tensors: this.params.values() };
  }

  setWeights(weights: CommNetWeights): void {
    if (JSON.stringify(weights.spec) !== JSON.stringify(this.spec)) {
      throw new Error(`weights are for ${JSON.stringify(weights.spec)}, this CommNet is ${JSON.stringify(this.spec)}`);
    }
    this.params.assign(weights.tensors);
  }

  dispose(): void {
    this.params.dispose();
  }
}
