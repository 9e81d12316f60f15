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
// are (heardMean): the team's sum less what each did not hear, where the batched mean multiplies
// whole teams.

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
 *
 * A car usually hears every teammate in the step but itself, so its sum is the team's sum less
 * what it did not hear: each row costs its exceptions (m_ij ≠ 1), not its team (20 cars a team
 * on hard). A row that hears fewer than it misses is summed directly. Sums are float64.
 */
export function heardMean(h: tf.Tensor2D, present: PresentRows, masks: Float32Array, rounds: number, round: number, teamSize: number): tf.Tensor2D {
  const count = present.positions.length;
  if (h.shape[0] !== count) throw new Error(`${h.shape[0]} rows for ${count} present`);
  const width = h.shape[1];
  // each present row: where its mask row starts, 1/heard, whether it is summed as the team less its exceptions;
  // teams: the present rows of each, [teamStarts[t], teamStarts[t + 1])
  const maskRow = new Int32Array(count);
  const inverseHeard = new Float64Array(count);
  const lessExceptions = new Uint8Array(count);
  const teamStarts: number[] = [];
  for (let p = 0; p < count; p++) {
    const team = Math.floor(present.positions[p] / teamSize);
    if (p === 0 || Math.floor(present.positions[p - 1] / teamSize) !== team) teamStarts.push(p);
    maskRow[p] = ((team * rounds + round) * teamSize + present.positions[p] % teamSize) * teamSize;
  }
  teamStarts.push(count);
  const slot = (q: number) => present.positions[q] % teamSize;
  for (let t = 0; t + 1 < teamStarts.length; t++) {
    for (let p = teamStarts[t]; p < teamStarts[t + 1]; p++) {
      let sum = 0;
      let heardCount = 0;
      for (let j = 0; j < teamSize; j++) sum += masks[maskRow[p] + j];
      for (let q = teamStarts[t]; q < teamStarts[t + 1]; q++) if (masks[maskRow[p] + slot(q)] !== 0) heardCount++;
      inverseHeard[p] = 1 / Math.max(1, sum);
      lessExceptions[p] = heardCount > (teamStarts[t + 1] - teamStarts[t]) / 2 ? 1 : 0;
    }
  }
  const mean = (rows: Float32Array): Float32Array => {
    const out = new Float32Array(count * width);
    const teamSum = new Float64Array(width);
    const acc = new Float64Array(width);
    for (let t = 0; t + 1 < teamStarts.length; t++) {
      const [first, end] = [teamStarts[t], teamStarts[t + 1]];
      teamSum.fill(0);
      for (let q = first; q < end; q++) for (let d = 0; d < width; d++) teamSum[d] += rows[q * width + d];
      for (let p = first; p < end; p++) {
        // Σ_j m_pj h_j = Σ_j h_j + Σ_{m_pj ≠ 1} (m_pj − 1) h_j, or directly Σ_{m_pj ≠ 0} m_pj h_j
        const skip = lessExceptions[p] ? 1 : 0;
        if (skip) acc.set(teamSum);
        else acc.fill(0);
        for (let q = first; q < end; q++) {
          const m = masks[maskRow[p] + slot(q)] - skip;
          if (m === 0) continue;
          for (let d = 0; d < width; d++) acc[d] += m * rows[q * width + d];
        }
        for (let d = 0; d < width; d++) out[p * width + d] = acc[d] * inverseHeard[p];
      }
    }
    return out;
  };
  const meanGradient = (dc: Float32Array): Float32Array => {
    const out = new Float32Array(count * width);
    const everyone = new Float64Array(width);
    let acc = new Float64Array(0);
    const scaled = new Float64Array(width);
    for (let t = 0; t + 1 < teamStarts.length; t++) {
      const [first, end] = [teamStarts[t], teamStarts[t + 1]];
      everyone.fill(0);
      if (acc.length < (end - first) * width) acc = new Float64Array((end - first) * width);
      else acc.fill(0, 0, (end - first) * width);
      for (let p = first; p < end; p++) {
        for (let d = 0; d < width; d++) scaled[d] = dc[p * width + d] * inverseHeard[p];
        const skip = lessExceptions[p] ? 1 : 0;
        if (skip) for (let d = 0; d < width; d++) everyone[d] += scaled[d];
        for (let q = first; q < end; q++) {
          const m = masks[maskRow[p] + slot(q)] - skip;
          if (m === 0) continue;
          const at = (q - first) * width;
          for (let d = 0; d < width; d++) acc[at + d] += m * scaled[d];
        }
      }
      for (let q = first; q < end; q++) for (let d = 0; d < width; d++) out[q * width + d] = everyone[d] + acc[(q - first) * width + d];
    }
    return out;
  };
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: tf.tensor2d(mean((args[0] as tf.Tensor).dataSync() as Float32Array), [count, width]),
    gradFunc: (dy: tf.Tensor) => tf.tensor2d(meanGradient(dy.dataSync() as Float32Array), [count, width]),
  }));
  return op(h) as tf.Tensor2D;
}
