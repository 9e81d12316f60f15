// A network's first layer on data (observations, states): x̂·W, where x̂ is x or x normalised
// across its features (input LayerNorm). The data comes as a tensor, or as SparseRows: its
// non-zero entries by row, kept in JS memory. Traffic junction observes one-hot cells — under
// 1 % of medium's 533 inputs and of hard's 1,325 are non-zero — so the trainer hands such
// minibatches over sparse, and this layer touches only the non-zeros, forward and backward,
// where a dense matMul (and its gradient's transpose of x) multiplies by zero almost everywhere:
//
//   LayerNorm:  x̂_b = (x_b − μ_b)/σ_b, so  x̂_b·W = (x_b·W − μ_b·Σ_i W_i)/σ_b
//   gradient:   dW_i = Σ_b x̂_bi·dy_b = Σ_b (x_bi/σ_b)·dy_b − Σ_b (μ_b/σ_b)·dy_b
//
// x_b·W and the first sum of dW read only the non-zeros; the second sum is one row added to
// every row of dW. μ_b and σ_b² (tf.moments' biased variance) come from the same non-zeros, in
// float64. No gradient flows to the data.

import { tf } from '../backend.js';
import { denseOnData } from './dense.js';
import { layerNorm, LAYER_NORM_EPSILON } from './layer-norm.js';

/** the largest fraction of non-zero values worth handing over sparse */
export const SPARSE_DENSITY = 0.05;

/** rows × width of data by its non-zero entries (compressed sparse rows) */
export interface SparseRows {
  rows: number;
  width: number;
  /** row b's entries are [starts[b], starts[b + 1]) */
  starts: Int32Array;
  columns: Int32Array;
  values: Float32Array;
  /** each row's sum and sum of squares (for LayerNorm) */
  sums: Float64Array;
  sumSquares: Float64Array;
  /** rows not read (asSparseRows' `read`): 1 = left out */
  leftOut?: Uint8Array;
}

/** What a network's first layer reads: a dense tensor [B, in], or the same rows sparse. */
export type NetworkInput = tf.Tensor2D | SparseRows;

/** the number of rows of an input */
export function inputRows(x: NetworkInput): number {
  return x instanceof tf.Tensor ? x.shape[0] : x.rows;
}

/**
 * [B, in] data by its non-zeros; null when more than SPARSE_DENSITY of it is non-zero (a dense
 * matMul is faster there). With `read`, only the rows b where read[b] ≠ 0 are read (the rows of
 * agents in the step, where most are not: hard's rollout is 60 % absent rows); the others are
 * left out, and picking one is refused.
 */
export function asSparseRows(data: Float32Array, width: number, read?: ArrayLike<number>): SparseRows | null {
  const rows = data.length / width;
  if (read && read.length !== rows) throw new Error(`${read.length} rows to read of ${rows}`);
  const isRead = (b: number) => !read || read[b] !== 0;
  let nonZeros = 0;
  let readRows = 0;
  for (let b = 0; b < rows; b++) {
    if (!isRead(b)) continue;
    readRows++;
    for (let k = b * width; k < (b + 1) * width; k++) if (data[k] !== 0) nonZeros++;
  }
  if (nonZeros > SPARSE_DENSITY * readRows * width) return null;
  const sparse = emptyRows(rows, width, nonZeros);
  if (read) sparse.leftOut = new Uint8Array(rows);
  let k = 0;
  for (let b = 0; b < rows; b++) {
    sparse.starts[b] = k;
    if (!isRead(b)) { sparse.leftOut![b] = 1; continue; }
    for (let i = 0; i < width; i++) {
      const v = data[b * width + i];
      if (v === 0) continue;
      sparse.columns[k] = i;
      sparse.values[k++] = v;
      sparse.sums[b] += v;
      sparse.sumSquares[b] += v * v;
    }
  }
  sparse.starts[rows] = k;
  return sparse;
}

/** The rows `picks` of `from`, in that order (a minibatch). */
export function pickRows(from: SparseRows, picks: Int32Array): SparseRows {
  let nonZeros = 0;
  for (const b of picks) {
    if (from.leftOut?.[b]) throw new Error(`row ${b} was left out when the rows were made sparse`);
    nonZeros += from.starts[b + 1] - from.starts[b];
  }
  const sparse = emptyRows(picks.length, from.width, nonZeros);
  let k = 0;
  picks.forEach((b, row) => {
    sparse.starts[row] = k;
    const start = from.starts[b];
    const end = from.starts[b + 1];
    sparse.columns.set(from.columns.subarray(start, end), k);
    sparse.values.set(from.values.subarray(start, end), k);
    k += end - start;
    sparse.sums[row] = from.sums[b];
    sparse.sumSquares[row] = from.sumSquares[b];
  });
  sparse.starts[picks.length] = k;
  return sparse;
}

/** x̂·W [B, out] for x [B, in] and W [in, out]; normalize: input LayerNorm first. */
export function inputLayer(x: NetworkInput, w: tf.Tensor2D, normalize: boolean): tf.Tensor2D {
  if (x instanceof tf.Tensor) return denseOnData(normalize ? layerNorm(x) : x, w);
  if (x.width !== w.shape[0]) throw new Error(`input rows of ${x.width} values for a layer of ${w.shape[0]} inputs`);
  const { mean, invStd } = normalization(x, normalize);
  const sparseOp = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const weights = args[0] as tf.Tensor2D;
    const outputs = weights.shape[1];
    return {
      value: tf.tensor2d(sparseTimes(x, mean, invStd, weights.dataSync() as Float32Array, outputs), [x.rows, outputs]),
      gradFunc: (dy: tf.Tensor) => [tf.tensor2d(sparseWeightGradient(x, mean, invStd, dy.dataSync() as Float32Array, outputs), weights.shape)],
    };
  });
  return sparseOp(w) as tf.Tensor2D;
}

function emptyRows(rows: number, width: number, nonZeros: number): SparseRows {
  return {
    rows, width,
    starts: new Int32Array(rows + 1),
    columns: new Int32Array(nonZeros),
    values: new Float32Array(nonZeros),
    sums: new Float64Array(rows),
    sumSquares: new Float64Array(rows),
  };
}

/** μ_b and 1/σ_b for every row (0 and 1 without LayerNorm) */
function normalization(x: SparseRows, normalize: boolean): { mean: Float64Array; invStd: Float64Array } {
  const mean = new Float64Array(x.rows);
  const invStd = new Float64Array(x.rows).fill(1);
  if (!normalize) return { mean, invStd };
  for (let b = 0; b < x.rows; b++) {
    mean[b] = x.sums[b] / x.width;
    const variance = Math.max(0, x.sumSquares[b] / x.width - mean[b] * mean[b]);
    invStd[b] = 1 / Math.sqrt(variance + LAYER_NORM_EPSILON);
  }
  return { mean, invStd };
}

/** (x_b·W − μ_b·Σ_i W_i)/σ_b for every row b */
function sparseTimes(x: SparseRows, mean: Float64Array, invStd: Float64Array, weights: Float32Array, outputs: number): Float32Array {
  const columnSums = new Float64Array(outputs);
  for (let i = 0; i < x.width; i++) for (let o = 0; o < outputs; o++) columnSums[o] += weights[i * outputs + o];
  const y = new Float32Array(x.rows * outputs);
  const acc = new Float64Array(outputs);
  for (let b = 0; b < x.rows; b++) {
    for (let o = 0; o < outputs; o++) acc[o] = -mean[b] * columnSums[o];
    for (let k = x.starts[b]; k < x.starts[b + 1]; k++) {
      const v = x.values[k];
      const base = x.columns[k] * outputs;
      for (let o = 0; o < outputs; o++) acc[o] += v * weights[base + o];
    }
    for (let o = 0; o < outputs; o++) y[b * outputs + o] = acc[o] * invStd[b];
  }
  return y;
}

/** dW_i = Σ_b (x_bi/σ_b)·dy_b − Σ_b (μ_b/σ_b)·dy_b */
function sparseWeightGradient(x: SparseRows, mean: Float64Array, invStd: Float64Array, dy: Float32Array, outputs: number): Float32Array {
  const shared = new Float64Array(outputs);
  for (let b = 0; b < x.rows; b++) {
    const scale = mean[b] * invStd[b];
    if (scale !== 0) for (let o = 0; o < outputs; o++) shared[o] -= scale * dy[b * outputs + o];
  }
  const dw = new Float64Array(x.width * outputs);
  for (let i = 0; i < x.width; i++) dw.set(shared, i * outputs);
  for (let b = 0; b < x.rows; b++) {
    for (let k = x.starts[b]; k < x.starts[b + 1]; k++) {
      const v = x.values[k] * invStd[b];
      const base = x.columns[k] * outputs;
      for (let o = 0; o < outputs; o++) dw[base + o] += v * dy[b * outputs + o];
    }
  }
  return Float32Array.from(dw);
}
