// Global gradient-norm clipping: scale every gradient by min(1, maxNorm / ‖g‖) where ‖g‖ is the
// norm over all of them together, so one bad batch cannot throw the weights far.

import { tf } from '../backend.js';

export function clipByGlobalNorm(grads: tf.NamedTensorMap, maxNorm: number): tf.NamedTensorMap {
  return tf.tidy(() => {
    const names = Object.keys(grads);
    const norm = tf.sqrt(tf.addN(names.map((k) => tf.sum(tf.square(grads[k])))));
    const scale = tf.minimum(tf.scalar(1), tf.div(tf.scalar(maxNorm), tf.add(norm, 1e-6)));
    const clipped: tf.NamedTensorMap = {};
    for (const k of names) clipped[k] = tf.mul(grads[k], scale);
    return clipped;
  });
}
