// The rows of whole teams that are present. Where agents come and go (traffic junction hard:
// two cars in five are on the grid at a step) a communicating actor need not compute its layers
// on the rows of agents not in the step — nobody hears them and no loss reads them — but its
// means over teammates are batched over whole teams. So the layers run on the present rows, and
// each round puts them into their teams (absent rows zero) and takes the result back out.
//
// Both moves copy rows, and so do their gradients (each the other move). They are done in JS
// memory (nn/row-copies.ts): with tfjs-wasm's gather they took longer than the layers they
// save (29 % of a traffic junction hard run).

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
