// The Beta distribution on (0, 1), for policies over a bounded box (Chou, Maturana & Scherer,
// "Improving Stochastic Policy Gradients in Continuous Control with Deep Reinforcement Learning
// using the Beta Distribution", ICML 2017): its support is the box itself, so no sample is clipped
// or squashed and the log-probability is that of the action the world is given. Both shape
// parameters are kept ≥ 1 (α = 1 + softplus(a)), so the density is unimodal and finite at the
// bounds.
//
// Sampling runs in plain numbers on the rollout's seeded stream (Marsaglia–Tsang gamma draws);
// the log-probability and the entropy also exist as TensorFlow.js ops for the loss, with log Γ
// and ψ written as differentiable series (TensorFlow.js has neither).

import type { Rng } from '@fleetmind/worlds';
import { tf } from '../backend.js';
import { standardNormal } from './normal.js';

/** How close to 0 and 1 a sample may come: log x and log(1 − x) stay finite in float32. */
export const BETA_EDGE = 1e-6;

/** 1 + softplus(a): a shape parameter ≥ 1 from an unbounded network output. */
export function betaShape(a: number): number {
  return 1 + (a > 20 ? a : Math.log1p(Math.exp(a)));
}

/**
 * The mode of Beta(α, β) for α, β ≥ 1: (α − 1) / (α + β − 2), with BETA_MODE_EPSILON added to both
 * shape excesses so that Beta(1, 1) (uniform: every point a mode) gives the centre, not 0 / 0.
 * The exported actor computes the same: (softplus(a) + ε) / (softplus(a) + softplus(b) + 2ε).
 */
export function betaMode(alpha: number, beta: number): number {
  return (alpha - 1 + BETA_MODE_EPSILON) / (alpha + beta - 2 + 2 * BETA_MODE_EPSILON);
}

export const BETA_MODE_EPSILON = 1e-6;

/** A Gamma(shape, 1) draw for shape ≥ 1 (Marsaglia & Tsang 2000). */
export function sampleGamma(shape: number, rng: Rng): number {
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const z = standardNormal(rng);
    const v0 = 1 + c * z;
    if (v0 <= 0) continue;
    const v = v0 * v0 * v0;
    const u = 1 - rng.next(); // (0, 1]
    if (u < 1 - 0.0331 * z ** 4 || Math.log(u) < 0.5 * z * z + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** A Beta(α, β) draw, kept BETA_EDGE inside (0, 1). */
export function sampleBeta(alpha: number, beta: number, rng: Rng): number {
  const x = sampleGamma(alpha, rng);
  const y = sampleGamma(beta, rng);
  return Math.min(Math.max(x / (x + y), BETA_EDGE), 1 - BETA_EDGE);
}

/** log Γ(x) for x > 0 (Stirling's series after shifting x by 6: error < 1e-10). */
export function logGamma(x: number): number {
  let shift = 0;
  let z = x;
  while (z < 7) { shift += Math.log(z); z += 1; }
  const z2 = z * z;
  return (z - 0.5) * Math.log(z) - z + 0.5 * Math.log(2 * Math.PI) + 1 / (12 * z) - 1 / (360 * z * z2) + 1 / (1260 * z * z2 * z2) - shift;
}

/** log density of Beta(α, β) at x. */
export function betaLogDensity(x: number, alpha: number, beta: number): number {
  return (alpha - 1) * Math.log(x) + (beta - 1) * Math.log1p(-x) - (logGamma(alpha) + logGamma(beta) - logGamma(alpha + beta));
}

// The TensorFlow.js series are evaluated at z = x + 3 ≥ 4 (the shape parameters are ≥ 1), where
// the first omitted terms are below 4e-8 — under float32's resolution — in few ops: a loss
// evaluates them on every row of every minibatch.
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** log Γ(x), elementwise, for x ≥ 1: Stirling's series at z = x + 3, less log(x (x + 1) (x + 2)). */
function tfLogGamma(x: tf.Tensor): tf.Tensor {
  const z = tf.add(x, 3);
  const inv = tf.reciprocal(z);
  const inv2 = tf.square(inv);
  // 1/(12z) − 1/(360z³) + 1/(1260z⁵)
  const series = tf.mul(inv, tf.add(1 / 12, tf.mul(inv2, tf.add(-1 / 360, tf.mul(inv2, 1 / 1260)))));
  const shift = tf.log(tf.mul(tf.mul(x, tf.add(x, 1)), tf.add(x, 2)));
  return tf.sub(tf.add(tf.sub(tf.mul(tf.sub(z, 0.5), tf.log(z)), z), tf.add(series, HALF_LOG_2PI)), shift);
}

/** ψ(x) (the digamma function), elementwise, for x ≥ 1: its asymptotic series at z = x + 3, less 1/x + 1/(x + 1) + 1/(x + 2). */
function tfDigamma(x: tf.Tensor): tf.Tensor {
  const z = tf.add(x, 3);
  const inv = tf.reciprocal(z);
  const inv2 = tf.square(inv);
  // −1/(2z) − 1/(12z²) + 1/(120z⁴) − 1/(252z⁶)
  const series = tf.add(tf.mul(inv, -0.5), tf.mul(inv2, tf.add(-1 / 12, tf.mul(inv2, tf.add(1 / 120, tf.mul(inv2, -1 / 252))))));
  const shift = tf.add(tf.add(tf.reciprocal(x), tf.reciprocal(tf.add(x, 1))), tf.reciprocal(tf.add(x, 2)));
  return tf.sub(tf.add(tf.log(z), series), shift);
}

/** α and β from the network's outputs [B, 2D]: the first D columns give α, the last D β. */
export function tfBetaShapes(outputs: tf.Tensor2D, d: number): { alpha: tf.Tensor2D; beta: tf.Tensor2D } {
  const rows = outputs.shape[0];
  return {
    alpha: tf.add(1, tf.softplus(tf.slice(outputs, [0, 0], [rows, d]))) as tf.Tensor2D,
    beta: tf.add(1, tf.softplus(tf.slice(outputs, [0, d], [rows, d]))) as tf.Tensor2D,
  };
}

/** log B(α, β) = log Γ(α) + log Γ(β) − log Γ(α + β) */
function tfLogBeta(alpha: tf.Tensor, beta: tf.Tensor): tf.Tensor {
  return tf.sub(tf.add(tfLogGamma(alpha), tfLogGamma(beta)), tfLogGamma(tf.add(alpha, beta)));
}

/** Σ over components of log Beta(x; α, β), [B]; x [B, D] inside (0, 1). */
export function tfBetaLogProb(alpha: tf.Tensor2D, beta: tf.Tensor2D, x: tf.Tensor2D): tf.Tensor1D {
  const density = tf.sub(tf.add(tf.mul(tf.sub(alpha, 1), tf.log(x)), tf.mul(tf.sub(beta, 1), tf.log1p(tf.neg(x)))), tfLogBeta(alpha, beta));
  return tf.sum(density, 1) as tf.Tensor1D;
}

/** Σ over components of the entropy of Beta(α, β), [B]. */
export function tfBetaEntropy(alpha: tf.Tensor2D, beta: tf.Tensor2D): tf.Tensor1D {
  const sum = tf.add(alpha, beta);
  const entropy = tf.add(
    tf.sub(tf.sub(tfLogBeta(alpha, beta), tf.mul(tf.sub(alpha, 1), tfDigamma(alpha))), tf.mul(tf.sub(beta, 1), tfDigamma(beta))),
    tf.mul(tf.sub(sum, 2), tfDigamma(sum)),
  );
  return tf.sum(entropy, 1) as tf.Tensor1D;
}
