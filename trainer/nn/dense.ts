// x·W with a gradient that transposes explicitly. tfjs's built-in matMul gradient passes
// transpose flags to matMul, which the WebAssembly backend runs ~7× slower than a transpose
// followed by a plain matMul (measured here: a MAPPO update at batch 4096 went 118 → 54 ms).

import { tf } from '../backend.js';

const denseOp = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, w, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
  save([x, w]);
  return {
    value: tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as tf.Tensor2D[];
      return [tf.matMul(dy as tf.Tensor2D, tf.transpose(ws)), tf.matMul(tf.transpose(xs), dy as tf.Tensor2D)];
    },
  };
});

/** [B, in] · [in, out] → [B, out] */
export function dense(x: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  return denseOp(x, w) as tf.Tensor2D;
}

// The first layer of a network whose input is data (observations, states) needs no gradient for
// that input: its x·W gradient skips dy·Wᵀ, a third of the layer's backward arithmetic — the most
// of a network with a wide input (traffic junction medium: 533 inputs to 64).
const denseOnDataOp = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, w, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
  save([x]);
  return {
    value: tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs] = saved as tf.Tensor2D[];
      return [tf.zerosLike(xs), tf.matMul(tf.transpose(xs), dy as tf.Tensor2D)];
    },
  };
});

/** dense() for an input that is data: no gradient flows to x (it is zero). */
export function denseOnData(x: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  return denseOnDataOp(x, w) as tf.Tensor2D;
}
