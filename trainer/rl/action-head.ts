// How an actor's outputs become actions and how likely an action was under them, for the
// two kinds of action space: a categorical distribution over logits (Discrete), and a diagonal
// Gaussian around the outputs as its mean with a learned, state-independent log-std (Box).
//
// A Gaussian's samples reach the box in one of two ways:
// - *clipped* (the default): the world clips them (as PettingZoo's ClipOutOfBoundsWrapper does),
//   so the policy's random choice is the unclipped sample and its log-probability is the plain
//   Gaussian density of that sample, exactly; the greedy action is the mean, the actor's output.
//   The standard deviation is capped at the box's half-width: wider, nearly every sample is
//   clipped to a bound, and the policy turns into random bang-bang pushes that no longer depend
//   on the mean.
// - *squashed* (squash: true, as SAC does): the sample x goes through a = centre + half-width ·
//   tanh(x), so every action is inside the box and none piles up on a bound. What is stored and
//   trained on is x: PPO's ratio compares the same x under two policies, so tanh's Jacobian,
//   the same in both, cancels and the Gaussian density of x is all it needs. The greedy action is
//   the squashed mean; the exported actor ends in the same squash. The std (of x) is capped at 1.
//
// - *state-dependent spread* (actionDistribution: 'gaussian-state'): the actor gives the log-std
//   beside the mean, one per component, so the noise may shrink where precision pays (an agent on
//   its landmark) and stay wide elsewhere; log σ = log σ_max − softplus(c − s) keeps it under the
//   same cap, softly. Clipped by the world as the default; the greedy action is the mean.
// - *bins* (actionDistribution: 'bins'): each component is a categorical choice among K evenly
//   spaced values from low to high (the box's bounds included), the components independent
//   (Tang & Agrawal, "Discretizing Continuous Action Space for On-Policy Optimization", AAAI
//   2020). The actor gives K logits per component; the spread is the softmax's, so it narrows
//   state by state as a discrete policy's does, and the greedy action is each component's argmax,
//   exactly a value the policy tried. What is stored is each component's bin index.
// - *Beta* (actionDistribution: 'beta'; rl/beta.ts): the actor gives two numbers per component,
//   α = 1 + softplus(a) and β = 1 + softplus(b), and the action is low + (high − low) · x with
//   x ~ Beta(α, β): the box is the distribution's support, so nothing is clipped or squashed and
//   the spread may differ from state to state (narrow where precision pays). What is stored is x;
//   the greedy action is the mode, the most likely action: (α − 1) / (α + β − 2), which reaches
//   the bounds as β (or α) nears 1, where the mean α / (α + β) never does (measured on continuous
//   simple_spread: the mode −8.24, the mean −9.19, the same actor); the exported actor computes it.
//
// Actions are stored as float rows of `width` numbers (a discrete action is its index); toWorld
// turns a stored number into what the world is given, fromWorld the other way.

import type { ActionSpace, ContinuousSpace, Rng } from '@fleetmind/worlds';
import { tf } from '../backend.js';
import { actCategorical } from './categorical.js';
import { BETA_EDGE, betaLogDensity, betaMode, betaShape, sampleBeta, tfBetaEntropy, tfBetaLogProb, tfBetaShapes } from './beta.js';
import { standardNormal } from './normal.js';

export interface ActionHead {
  readonly kind: 'categorical' | 'gaussian' | 'gaussian-state' | 'bins' | 'beta';
  /** actor outputs per row: the logits, the mean, or the Beta's two shape parameters per component */
  readonly outputs: number;
  /** numbers per action: 1 (the index) or the box's length */
  readonly width: number;
  /** trainable parameters of the head itself (the Gaussian's log-std) */
  readonly variables: tf.Variable[];
  /** outputs [B, outputs] → actions [B, width] and log π(a) [B]; rng null: the greedy action (argmax or mean) */
  act(outputs: Float32Array, rng: Rng | null, actions: Float32Array, logProbs: Float32Array): void;
  /** log π(actions | outputs), [B] */
  logProb(outputs: tf.Tensor2D, actions: tf.Tensor2D): tf.Tensor1D;
  /** each row's entropy, [B] */
  entropy(outputs: tf.Tensor2D): tf.Tensor1D;
  /** component k of a stored action as the world takes it */
  toWorld(stored: number, k: number): number;
  /** component k of an action the world took (a scripted one) as it is stored */
  fromWorld(action: number, k: number): number;
}

export class CategoricalHead implements ActionHead {
  readonly kind = 'categorical';
  readonly width = 1;
  readonly variables: tf.Variable[] = [];
  constructor(readonly outputs: number) {}

  act(logits: Float32Array, rng: Rng | null, actions: Float32Array, logProbs: Float32Array): void {
    actCategorical(logits, this.outputs, rng, actions, (row) => row, logProbs);
  }

  logProb(logits: tf.Tensor2D, actions: tf.Tensor2D): tf.Tensor1D {
    const onehot = tf.oneHot(tf.cast(tf.reshape(actions, [-1]), 'int32') as tf.Tensor1D, this.outputs);
    return tf.sum(tf.mul(tf.logSoftmax(logits), onehot), 1) as tf.Tensor1D;
  }

  entropy(logits: tf.Tensor2D): tf.Tensor1D {
    const logProbs = tf.logSoftmax(logits);
    return tf.neg(tf.sum(tf.mul(tf.exp(logProbs), logProbs), 1)) as tf.Tensor1D;
  }

  toWorld(stored: number): number { return stored; }
  fromWorld(action: number): number { return action; }
}

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

export class GaussianHead implements ActionHead {
  readonly kind = 'gaussian';
  readonly logStd: tf.Variable;
  private std = new Float32Array(0);
  /** per component: log of the box's half-width, the cap of the standard deviation */
  private readonly maxLogStd: Float32Array;

  private readonly squashing: BoxSquash | null;

  /**
   * initialStd: each component's standard deviation at the start, as a fraction of the box's
   * half-width (squashed: of tanh's argument, where 1 spans the box); squash: tanh into the box
   * instead of clipping
   */
  constructor(readonly space: ContinuousSpace, initialStd: number, readonly squash = false) {
    const d = space.shape[0];
    const logStd = new Float32Array(d);
    this.maxLogStd = new Float32Array(d);
    this.squashing = squash ? boxSquash(space) : null;
    for (let k = 0; k < d; k++) {
      const scale = squash ? 1 : (space.high[k] - space.low[k]) / 2;
      this.maxLogStd[k] = Math.log(scale);
      logStd[k] = Math.min(Math.log(initialStd * scale), this.maxLogStd[k]);
    }
    this.logStd = tf.variable(tf.tensor1d(logStd), true, undefined);
  }

  get outputs(): number { return this.space.shape[0]; }
  get width(): number { return this.space.shape[0]; }
  get variables(): tf.Variable[] { return [this.logStd]; }

  /** the log-std as plain numbers (for checkpoints) */
  getLogStd(): number[] { return Array.from(this.logStd.dataSync()); }
  setLogStd(values: readonly number[]): void {
    if (values.length !== this.width) throw new Error(`a log-std of ${values.length} numbers for actions of ${this.width}`);
    this.logStd.assign(tf.tensor1d(Float32Array.from(values)));
  }

  /** the initial mean (the actor's output bias starts there): the box's centre, or 0 where tanh maps 0 to it */
  centre(): number[] {
    return this.squash ? this.space.low.map(() => 0) : this.space.low.map((low, k) => (low + this.space.high[k]) / 2);
  }

  toWorld(stored: number, k: number): number {
    return this.squashing ? this.squashing.centre[k] + this.squashing.halfWidth[k] * Math.tanh(stored) : stored;
  }

  fromWorld(action: number, k: number): number {
    if (!this.squashing) return action;
    const u = (action - this.squashing.centre[k]) / this.squashing.halfWidth[k];
    return Math.atanh(Math.min(Math.max(u, -1 + 1e-6), 1 - 1e-6));
  }

  act(means: Float32Array, rng: Rng | null, actions: Float32Array, logProbs: Float32Array): void {
    const d = this.width;
    const raw = this.logStd.dataSync() as Float32Array;
    if (this.std.length !== d) this.std = new Float32Array(d);
    let logNorm = 0;
    for (let k = 0; k < d; k++) {
      const logStd = Math.min(raw[k], this.maxLogStd[k]);
      this.std[k] = Math.exp(logStd);
      logNorm += logStd + HALF_LOG_2PI;
    }
    for (let b = 0; b < means.length / d; b++) {
      let logp = -logNorm;
      for (let k = 0; k < d; k++) {
        const z = rng === null ? 0 : standardNormal(rng);
        actions[b * d + k] = means[b * d + k] + this.std[k] * z;
        logp -= 0.5 * z * z;
      }
      logProbs[b] = logp;
    }
  }

  /** the log-std in use: the variable, capped */
  private cappedLogStd(): tf.Tensor1D {
    return tf.minimum(this.logStd, tf.tensor1d(this.maxLogStd)) as tf.Tensor1D;
  }

  logProb(means: tf.Tensor2D, actions: tf.Tensor2D): tf.Tensor1D {
    const logStd = this.cappedLogStd();
    const z = tf.div(tf.sub(actions, means), tf.exp(logStd));
    const logNorm = tf.add(tf.sum(logStd), this.width * HALF_LOG_2PI);
    return tf.sub(tf.mul(-0.5, tf.sum(tf.square(z), 1)), logNorm) as tf.Tensor1D;
  }

  /** the same for every row: the spread does not depend on the state */
  entropy(means: tf.Tensor2D): tf.Tensor1D {
    const perRow = tf.add(tf.sum(this.cappedLogStd()), this.width * (HALF_LOG_2PI + 0.5));
    return tf.mul(tf.ones([means.shape[0]]), perRow) as tf.Tensor1D;
  }
}

export class StateStdGaussianHead implements ActionHead {
  readonly kind = 'gaussian-state';
  readonly variables: tf.Variable[] = [];
  /** per component: log of the box's half-width, the cap of the standard deviation */
  private readonly maxLogStd: Float32Array;
  /** c in log σ = log σ_max − softplus(c − s): an output of 0 gives the initial std */
  private readonly offset: Float32Array;

  /** initialStd: each component's standard deviation where the actor's log-std output is 0, as a fraction (< 1) of the box's half-width */
  constructor(readonly space: ContinuousSpace, initialStd: number) {
    if (!(initialStd < 1)) throw new Error(`a state-dependent std starts below its cap (the box's half-width): actionStd ${initialStd} must be under 1`);
    const d = space.shape[0];
    this.maxLogStd = Float32Array.from(space.low, (low, k) => Math.log((space.high[k] - low) / 2));
    // softplus(c) = log σ_max − log σ_0 = −log(initialStd)
    this.offset = new Float32Array(d).fill(Math.log(Math.expm1(-Math.log(initialStd))));
  }

  get outputs(): number { return 2 * this.space.shape[0]; }
  get width(): number { return this.space.shape[0]; }

  /** the initial output bias: the means at the box's centre, the log-std outputs at 0 */
  centre(): number[] {
    return [...this.space.low.map((low, k) => (low + this.space.high[k]) / 2), ...this.space.low.map(() => 0)];
  }

  toWorld(stored: number): number { return stored; }
  fromWorld(action: number): number { return action; }

  private logStdOf(output: number, k: number): number {
    const x = this.offset[k] - output;
    return this.maxLogStd[k] - (x > 20 ? x : Math.log1p(Math.exp(x)));
  }

  act(outputs: Float32Array, rng: Rng | null, actions: Float32Array, logProbs: Float32Array): void {
    const d = this.width;
    for (let b = 0; b < outputs.length / (2 * d); b++) {
      let logp = 0;
      for (let k = 0; k < d; k++) {
        const logStd = this.logStdOf(outputs[b * 2 * d + d + k], k);
        const z = rng === null ? 0 : standardNormal(rng);
        actions[b * d + k] = outputs[b * 2 * d + k] + Math.exp(logStd) * z;
        logp -= 0.5 * z * z + logStd + HALF_LOG_2PI;
      }
      logProbs[b] = logp;
    }
  }

  private split(outputs: tf.Tensor2D): { means: tf.Tensor2D; logStd: tf.Tensor2D } {
    const [rows, d] = [outputs.shape[0], this.width];
    const raw = tf.slice(outputs, [0, d], [rows, d]);
    return {
      means: tf.slice(outputs, [0, 0], [rows, d]) as tf.Tensor2D,
      logStd: tf.sub(tf.tensor1d(this.maxLogStd), tf.softplus(tf.sub(tf.tensor1d(this.offset), raw))) as tf.Tensor2D,
    };
  }

  logProb(outputs: tf.Tensor2D, actions: tf.Tensor2D): tf.Tensor1D {
    const { means, logStd } = this.split(outputs);
    const z = tf.div(tf.sub(actions, means), tf.exp(logStd));
    return tf.neg(tf.sum(tf.add(tf.add(tf.mul(0.5, tf.square(z)), logStd), HALF_LOG_2PI), 1)) as tf.Tensor1D;
  }

  entropy(outputs: tf.Tensor2D): tf.Tensor1D {
    return tf.sum(tf.add(this.split(outputs).logStd, HALF_LOG_2PI + 0.5), 1) as tf.Tensor1D;
  }
}

export class BinnedHead implements ActionHead {
  readonly kind = 'bins';
  readonly variables: tf.Variable[] = [];
  private readonly step: number[];
  private componentLogProbs = new Float32Array(0);

  constructor(readonly space: ContinuousSpace, readonly bins: number) {
    if (!Number.isInteger(bins) || bins < 2) throw new Error(`actionBins: ${bins} values per component; at least 2 (the box's bounds)`);
    this.step = space.high.map((high, k) => (high - space.low[k]) / (bins - 1));
  }

  get outputs(): number { return this.space.shape[0] * this.bins; }
  get width(): number { return this.space.shape[0]; }

  toWorld(stored: number, k: number): number {
    return this.space.low[k] + stored * this.step[k];
  }

  /** the nearest bin (a scripted action need not be on one) */
  fromWorld(action: number, k: number): number {
    return Math.min(Math.max(Math.round((action - this.space.low[k]) / this.step[k]), 0), this.bins - 1);
  }

  act(logits: Float32Array, rng: Rng | null, actions: Float32Array, logProbs: Float32Array): void {
    const d = this.width;
    const rows = logits.length / this.outputs;
    if (this.componentLogProbs.length !== rows * d) this.componentLogProbs = new Float32Array(rows * d);
    // the logits are rows of D consecutive groups of K: one categorical per (row, component)
    actCategorical(logits, this.bins, rng, actions, (group) => group, this.componentLogProbs);
    for (let b = 0; b < rows; b++) {
      let logp = 0;
      for (let k = 0; k < d; k++) logp += this.componentLogProbs[b * d + k];
      logProbs[b] = logp;
    }
  }

  private componentLogSoftmax(logits: tf.Tensor2D): tf.Tensor2D {
    return tf.logSoftmax(tf.reshape(logits, [logits.shape[0] * this.width, this.bins])) as tf.Tensor2D;
  }

  logProb(logits: tf.Tensor2D, actions: tf.Tensor2D): tf.Tensor1D {
    const onehot = tf.oneHot(tf.cast(tf.reshape(actions, [-1]), 'int32') as tf.Tensor1D, this.bins);
    const perComponent = tf.sum(tf.mul(this.componentLogSoftmax(logits), onehot), 1);
    return tf.sum(tf.reshape(perComponent, [logits.shape[0], this.width]), 1) as tf.Tensor1D;
  }

  entropy(logits: tf.Tensor2D): tf.Tensor1D {
    const logProbs = this.componentLogSoftmax(logits);
    const perComponent = tf.neg(tf.sum(tf.mul(tf.exp(logProbs), logProbs), 1));
    return tf.sum(tf.reshape(perComponent, [logits.shape[0], this.width]), 1) as tf.Tensor1D;
  }
}

export class BetaHead implements ActionHead {
  readonly kind = 'beta';
  readonly variables: tf.Variable[] = [];
  private readonly span: number[];

  constructor(readonly space: ContinuousSpace) {
    this.span = space.high.map((high, k) => high - space.low[k]);
  }

  get outputs(): number { return 2 * this.space.shape[0]; }
  get width(): number { return this.space.shape[0]; }

  toWorld(stored: number, k: number): number {
    return this.space.low[k] + this.span[k] * stored;
  }

  fromWorld(action: number, k: number): number {
    return Math.min(Math.max((action - this.space.low[k]) / this.span[k], BETA_EDGE), 1 - BETA_EDGE);
  }

  act(outputs: Float32Array, rng: Rng | null, actions: Float32Array, logProbs: Float32Array): void {
    const d = this.width;
    for (let b = 0; b < outputs.length / (2 * d); b++) {
      let logp = 0;
      for (let k = 0; k < d; k++) {
        const alpha = betaShape(outputs[b * 2 * d + k]);
        const beta = betaShape(outputs[b * 2 * d + d + k]);
        // the stored (float32) number is the one the loss will score
        const x = Math.fround(rng === null ? betaMode(alpha, beta) : sampleBeta(alpha, beta, rng));
        actions[b * d + k] = x;
        logp += betaLogDensity(x, alpha, beta);
      }
      logProbs[b] = logp;
    }
  }

  logProb(outputs: tf.Tensor2D, actions: tf.Tensor2D): tf.Tensor1D {
    const { alpha, beta } = tfBetaShapes(outputs, this.width);
    return tfBetaLogProb(alpha, beta, actions);
  }

  entropy(outputs: tf.Tensor2D): tf.Tensor1D {
    const { alpha, beta } = tfBetaShapes(outputs, this.width);
    return tfBetaEntropy(alpha, beta);
  }
}

/** A box as tanh's image: a = centre + halfWidth · tanh(x), per component. */
export interface BoxSquash {
  centre: number[];
  halfWidth: number[];
}

export function boxSquash(space: ContinuousSpace): BoxSquash {
  return {
    centre: space.low.map((low, k) => (low + space.high[k]) / 2),
    halfWidth: space.low.map((low, k) => (space.high[k] - low) / 2),
  };
}
