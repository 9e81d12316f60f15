// Feature normalisation without learned scale or shift (MAPPO's feature normalisation on the
// network input): each row to mean 0 and variance 1 across its features. The ONNX export
// spells out the same arithmetic, epsilon included.

import { LAYER_NORM_EPSILON } from '@fleetmind/models/onnx';
import { tf } from '../backend.js';

export { LAYER_NORM_EPSILON };

/** [B, F] → [B, F] */
export function layerNorm(x: tf.Tensor2D): tf.Tensor2D {
  const { mean, variance } = tf.moments(x, 1, true);
  return tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, LAYER_NORM_EPSILON))) as tf.Tensor2D;
}
