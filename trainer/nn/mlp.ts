// A multi-layer perceptron on tf.Variables: the actor's and the critic's network. Plain
// weights in and out (Float32Array), so checkpoints and the ONNX export read the same numbers.

import { tf, tidyNumbers } from '../backend.js';
import type { Rng } from '@fleetmind/worlds';
import { dense } from './dense.js';
import { inputLayer, type NetworkInput } from './input-layer.js';
import { layerNorm } from './layer-norm.js';
import { tanh } from './tanh.js';
import type { MlpWeights } from '../runs/checkpoint-schema.js';

export type Activation = 'tanh' | 'relu';
export type { MlpWeights };
/** layer widths (input first), activation, the last layer's initial scale, input and hidden LayerNorm */
export type MlpSpec = MlpWeights['spec'];
/**
 * How the weights start: 'gaussian' (He/Glorot-like scaled Gaussian) or 'orthogonal' (Saxe et al.
 * 2014, as the MAPPO paper's code: gain √2 after ReLU, 5/3 after tanh, the last layer outputGain).
 * Biases start at zero either way.
 */
export type MlpInit = 'gaussian' | 'orthogonal';

export class Mlp {
  readonly spec: MlpSpec;
  readonly variables: tf.Variable[] = [];
  private readonly ws: tf.Variable<tf.Rank.R2>[] = [];
  private readonly bs: tf.Variable<tf.Rank.R1>[] = [];

  /**
   * inputIsData: the input is data (observations, states), never a function of a variable, so no
   * gradient is computed for it (MADDPG's critic reads the actor's actions: it needs one)
   */
  constructor(spec: MlpSpec, rng: Rng, private readonly options: { inputIsData?: boolean; init?: MlpInit } = {}) {
    this.spec = spec;
    for (let l = 0; l + 1 < spec.sizes.length; l++) {
      const fanIn = spec.sizes[l];
      const fanOut = spec.sizes[l + 1];
      const last = l + 2 === spec.sizes.length;
      let w: Float32Array;
      if (options.init === 'orthogonal') {
        w = orthogonal(fanIn, fanOut, rng, last ? spec.outputGain : spec.activation === 'relu' ? Math.SQRT2 : 5 / 3);
      } else {
        // scaled Gaussian (He/Glorot-like) init; the last layer is shrunk by outputGain
        const scale = (last ? spec.outputGain : 1) * Math.sqrt((spec.activation === 'relu' ? 2 : 1) / fanIn);
        w = new Float32Array(fanIn * fanOut);
        for (let k = 0; k < w.length; k++) w[k] = gaussian(rng) * scale;
      }
      this.ws.push(tf.variable(tf.tensor2d(w, [fanIn, fanOut])));
      this.bs.push(tf.variable(tf.zeros([fanOut])));
    }
    this.variables.push(...this.ws, ...this.bs);
  }

  /** [B, in] → [B, out]; an input that is data may come sparse */
  apply(x: NetworkInput): tf.Tensor2D {
    const normalize = this.spec.inputLayerNorm === true;
    let h: tf.Tensor2D;
    if (this.options.inputIsData) h = inputLayer(x, this.ws[0], normalize);
    else if (x instanceof tf.Tensor) h = dense(normalize ? layerNorm(x) : x, this.ws[0]);
    else throw new Error('an MLP whose input is not data (it needs a gradient) takes a tensor, not sparse rows');
    for (let l = 0; l < this.ws.length; l++) {
      if (l > 0) h = dense(h, this.ws[l]);
      h = tf.add(h, this.bs[l]);
      if (l + 1 < this.ws.length) {
        h = this.spec.activation === 'tanh' ? tanh(h) : tf.relu(h);
        if (this.spec.hiddenLayerNorm === true) h = layerNorm(h);
      }
    }
    return h;
  }

  /** Forward pass on plain arrays, for acting: [B, in] → [B, out] */
  predict(x: Float32Array, rows: number): Float32Array {
    return tidyNumbers(() => this.apply(tf.tensor2d(x, [rows, this.spec.sizes[0]])).dataSync() as Float32Array);
  }

  getWeights(): MlpWeights {
    return {
      spec: this.spec,
      layers: this.ws.map((w, l) => ({ w: Array.from(w.dataSync()), b: Array.from(this.bs[l].dataSync()) })),
    };
  }

  setWeights(weights: MlpWeights): void {
    if (JSON.stringify(weights.spec.sizes) !== JSON.stringify(this.spec.sizes)) {
      throw new Error(`weights are for layers [${weights.spec.sizes}], this network has [${this.spec.sizes}]`);
    }
    weights.layers.forEach((layer, l) => {
      this.ws[l].assign(tf.tensor2d(layer.w, this.ws[l].shape));
      this.bs[l].assign(tf.tensor1d(layer.b));
    });
  }

  dispose(): void {
    this.variables.forEach((v) => v.dispose());
  }
}

/**
 * [rows, cols] row-major with orthonormal rows or columns (whichever are fewer), times gain: a
 * Gaussian matrix orthonormalised by Gram–Schmidt (in float64), as torch.nn.init.orthogonal_'s QR.
 */
function orthogonal(rows: number, cols: number, rng: Rng, gain: number): Float32Array {
  const [n, len] = rows <= cols ? [rows, cols] : [cols, rows];
  const vectors = Array.from({ length: n }, () => Float64Array.from({ length: len }, () => gaussian(rng)));
  for (let i = 0; i < n; i++) {
    const v = vectors[i];
    for (let j = 0; j < i; j++) {
      const u = vectors[j];
      let dot = 0;
      for (let k = 0; k < len; k++) dot += v[k] * u[k];
      for (let k = 0; k < len; k++) v[k] -= dot * u[k];
    }
    let norm = 0;
    for (let k = 0; k < len; k++) norm += v[k] * v[k];
    norm = Math.sqrt(norm);
    for (let k = 0; k < len; k++) v[k] /= norm;
  }
  const w = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) w[r * cols + c] = gain * (rows <= cols ? vectors[r][c] : vectors[c][r]);
  }
  return w;
}

function gaussian(rng: Rng): number {
  // Box–Muller
  const u = 1 - rng.next();
  const v = rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}
