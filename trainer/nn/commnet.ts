// The CommNet actor (Sukhbaatar et al. 2016, "Learning Multiagent Communication with
// Backpropagation"), in the form the runtime can execute stage by stage:
//   stage 0:  h⁰ = tanh(W_enc·x̂ + b_enc)  — x: own observation (+ agent id); x̂: x, or x
//             normalised across its features when inputLayerNorm is on
//   round k:  c^k = mean of the peers' h^(k−1) over the peers heard in round k (none → 0)
//             h^k = tanh(W_h^k·h^(k−1) + W_c^k·c^k + b^k)
//   final:    logits = W_out·h^K + b_out
// Each agent's message in round k is its h^(k−1), so every stage needs only the agent's own
// state and its inbox: the same arithmetic runs centrally in training and per robot at run time.

import { tf } from '../backend.js';
import type { Rng } from '@fleetmind/worlds';
import { dense, denseOnData } from './dense.js';
import { layerNorm } from './layer-norm.js';
import { tanh } from './tanh.js';
import type { CommNetWeights } from '../runs/checkpoint-schema.js';

export type { CommNetWeights };
/** input size (observation + agent id), hidden width H, rounds K, actions, input LayerNorm */
export type CommNetSpec = CommNetWeights['spec'];

export class CommNet {
  readonly spec: CommNetSpec;
  readonly variables: tf.Variable[] = [];
  private readonly params = new Map<string, tf.Variable>();

  constructor(spec: CommNetSpec, rng: Rng) {
    this.spec = spec;
    const { inputSize: i, hidden: h, rounds, numActions: a } = spec;
    const gauss = () => {
      const u = 1 - rng.next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
    };
    const add = (name: string, shape: number[], scale: number) => {
      const size = shape.reduce((x, y) => x * y, 1);
      const values = Float32Array.from({ length: size }, () => (scale === 0 ? 0 : gauss() * scale));
      const v = tf.variable(tf.tensor(values, shape));
      this.params.set(name, v);
      this.variables.push(v);
    };
    add('enc_w', [i, h], Math.sqrt(1 / i));
    add('enc_b', [h], 0);
    for (let k = 1; k <= rounds; k++) {
      add(`h_w_${k}`, [h, h], Math.sqrt(1 / (2 * h)));
      add(`c_w_${k}`, [h, h], Math.sqrt(1 / (2 * h)));
      add(`b_${k}`, [h], 0);
    }
    add('out_w', [h, a], 0.01 * Math.sqrt(1 / h));
    add('out_b', [a], 0);
  }

  private p(name: string): tf.Variable {
    return this.params.get(name)!;
  }

  /**
   * x: [E·n, in] rows in env-major, then agent, order (a team of n per env);
   * masks: [E, K, n, n], masks[e, k, i, j] = 1 when i heard j in round k. Returns logits [E·n, A].
   */
  apply(x: tf.Tensor2D, masks: tf.Tensor4D, teamSize: number): tf.Tensor2D {
    const { hidden: hd, rounds } = this.spec;
    const envs = x.shape[0] / teamSize;
    const input = this.spec.inputLayerNorm ? layerNorm(x) : x;
    // the observation is data: no gradient for it
    let h = tanh(tf.add(denseOnData(input, this.p('enc_w') as tf.Tensor2D), this.p('enc_b'))) as tf.Tensor2D;
    for (let k = 1; k <= rounds; k++) {
      const mask = tf.reshape(tf.slice(masks, [0, k - 1, 0, 0], [envs, 1, teamSize, teamSize]), [envs, teamSize, teamSize]) as tf.Tensor3D;
      const team = tf.reshape(h, [envs, teamSize, hd]) as tf.Tensor3D;
      const heard = tf.maximum(tf.sum(mask, 2, true), 1); // none heard → divide a zero sum by 1
      const c = tf.reshape(tf.div(tf.matMul(mask, team), heard), [envs * teamSize, hd]) as tf.Tensor2D;
      h = tanh(tf.add(tf.add(dense(h, this.p(`h_w_${k}`) as tf.Tensor2D), dense(c, this.p(`c_w_${k}`) as tf.Tensor2D)), this.p(`b_${k}`))) as tf.Tensor2D;
    }
    return tf.add(dense(h, this.p('out_w') as tf.Tensor2D), this.p('out_b')) as tf.Tensor2D;
  }

  getWeights(): CommNetWeights {
    const tensors: Record<string, number[]> = {};
    for (const [name, v] of this.params) tensors[name] = Array.from(v.dataSync());
    return { spec: this.spec, tensors };
  }

  setWeights(weights: CommNetWeights): void {
    if (JSON.stringify(weights.spec) !== JSON.stringify(this.spec)) {
      throw new Error(`weights are for ${JSON.stringify(weights.spec)}, this CommNet is ${JSON.stringify(this.spec)}`);
    }
    for (const [name, v] of this.params) {
      const values = weights.tensors[name];
      if (!values || values.length !== v.size) throw new Error(`CommNet weights: "${name}" is missing or has the wrong size`);
      v.assign(tf.tensor(values, v.shape));
    }
  }

  dispose(): void {
    this.variables.forEach((v) => v.dispose());
  }
}
