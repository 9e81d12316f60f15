// The Gumbel-softmax (Jang et al. 2017; Maddison et al. 2017): a differentiable stand-in for a
// sample from a categorical distribution, softmax((logits + g) / τ) with g = −log(−log u),
// u ~ U(0, 1). As τ → 0 it approaches the one-hot sample; its gradient reaches the logits.
// The uniforms come from the caller so that training stays reproducible from its seed.

import { tf } from '../backend.js';

/** logits, uniforms: [B, A] (uniforms in (0, 1)) → relaxed one-hot samples [B, A] */
export function gumbelSoftmax(logits: tf.Tensor2D, uniforms: tf.Tensor2D, temperature: number): tf.Tensor2D {
  return tf.tidy(() => {
    const u = tf.clipByValue(uniforms, 1e-10, 1 - 1e-7);
    const gumbel = tf.neg(tf.log(tf.neg(tf.log(u))));
    return tf.softmax(tf.div(tf.add(logits, gumbel), temperature)) as tf.Tensor2D;
  });
}
