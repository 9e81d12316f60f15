// The rows of whole teams that are present. Where agents come and go (traffic junction hard:
// two cars in five are on the grid at a step) a communicating actor need not compute its layers
// on the rows of agents not in the step — nobody hears them and no loss reads them — but its
// means over teammates are batched over whole teams. So the layers run on the present rows, and
// each round puts them into their teams (absent rows zero) and takes the result back out.
//
// Both moves copy rows, and so do their gradients (each the other move). They are done in JS
// memory (nn/row-copies.ts): with tfjs-wasm's gather they took longer than the layers they
// save (29 % of a traffic junction hard run). A CommNet's mean needs no move at all: each
// present row's mean over the present teammates it heard is computed here from the rows as they
// are (heardMean), a few teammates each, where the batched mean multiplies whole teams.

import { tf } from '../backend.js';
import { gatherRows, scatterRows } from './row-copies.js';

/** rows `positions` (ascending) of a [total, ·] team layout */
export interface PresentRows {
  positions: Int32Array;
  total: number;
}

const into = (x: tf.Tensor2D, present: PresentRows) => tf.tensor2d(scatterRows(x.dataSync() as Float32Array, x.shape[1], present.positions, present.total), [present.total, x.shape[1]]);
const outOf = (x: tf.Tensor2D, present: PresentRows) => tf.tensor2d(gatherRows(x.dataSync() as Float32Array, x.shape[1], present.positions), [present.positions.length, x.shape[1]]);

/** [present, width] → [total, width]: each present row at its place in the teams, the absent rows zero */
export function intoTeams(rows: tf.Tensor2D, present: PresentRows): tf.Tensor2D {
  if (rows.shape[0] !== present.positions.length) throw new Error(`${rows.shape[0]} rows for ${present.positions.length} present`);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: into(args[0] as tf.Tensor2D, present),
    gradFunc: (dy: tf.Tensor) => outOf(dy as tf.Tensor2D, present),
  }));
  return op(rows) as tf.Tensor2D;
}

/** [total, width] → [present, width]: the present rows of whole teams */
export function outOfTeams(teams: tf.Tensor2D, present: PresentRows): tf.Tensor2D {
  if (teams.shape[0] !== present.total) throw new Error(`${teams.shape[0]} rows for teams of ${present.total}`);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: outOf(args[0] as tf.Tensor2D, present),
    gradFunc: (dy: tf.Tensor) => into(dy as tf.Tensor2D, present),
  }));
  return op(teams) as tf.Tensor2D;
}

/**
 * A CommNet's round on present rows: c_i = Σ_j m_ij h_j / max(1, Σ_j m_ij) over i's teammates j,
 * as the batched mean over whole teams computes it for the present rows when the absent are
 * heard by nobody. h: [present, width]; masks: [E, K, n, n] as the actor is given them; round k
 * (0-based). Its gradient: dh_j = Σ_i m_ij dc_i / max(1, Σ_j m_ij).
 */
export function heardMean(h: tf.Tensor2D, present: PresentRows, masks: Float32Array, rounds: number, round: number, teamSize: number): tf.Tensor2D {
  const count = present.positions.length;
  if (h.shape[0] !== count) throw new Error(`${h.shape[0]} rows for ${count} present`);
  const width = h.shape[1];
  // each present row: where its mask row starts, its team's present rows [first, end), 1/heard
  const maskRow = new Int32Array(count);
  const first = new Int32Array(count);
  const end = new Int32Array(count);
  const heard = new Float32Array(count);
  for (let p = 0, start = 0; p < count; p++) {
    const team = Math.floor(present.positions[p] / teamSize);
    if (p > 0 && Math.floor(present.positions[p - 1] / teamSize) !== team) start = p;
    first[p] = start;
    maskRow[p] = ((team * rounds + round) * teamSize + present.positions[p] % teamSize) * teamSize;
    let sum = 0;
    for (let j = 0; j < teamSize; j++) sum += masks[maskRow[p] + j];
    heard[p] = Math.max(1, sum);
  }
  for (let p = count - 1, stop = count; p >= 0; p--) {
    if (p < count - 1 && first[p + 1] !== first[p]) stop = p + 1;
    end[p] = stop;
  }
  const slot = (q: number) => present.positions[q] % teamSize;
  const mean = (rows: Float32Array): Float32Array => {
    const out = new Float32Array(count * width);
    for (let p = 0; p < count; p++) {
      const to = p * width;
      for (let q = first[p]; q < end[p]; q++) {
        const m = masks[maskRow[p] + slot(q)];
        if (m === 0) continue;
        for (let d = 0; d < width; d++) out[to + d] += m * rows[q * width + d];
      }
      for (let d = 0; d < width; d++) out[to + d] /= heard[p];
    }
    return out;
  };
  const meanGradient = (dc: Float32Array): Float32Array => {
    const out = new Float32Array(count * width);
    const scaled = new Float32Array(width);
    for (let p = 0; p < count; p++) {
      for (let d = 0; d < width; d++) scaled[d] = dc[p * width + d] / heard[p];
      for (let q = first[p]; q < end[p]; q++) {
        const m = masks[maskRow[p] + slot(q)];
        if (m === 0) continue;
        for (let d = 0; d < width; d++) out[q * width + d] += m * scaled[d];
      }
    }
    return out;
  };
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: tf.tensor2d(mean((args[0] as tf.Tensor).dataSync() as Float32Array), [count, width]),
    gradFunc: (dy: tf.Tensor) => tf.tensor2d(meanGradient(dy.dataSync() as Float32Array), [count, width]),
  }));
  return op(h) as tf.Tensor2D;
}
