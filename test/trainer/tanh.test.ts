import t from 'tap';
import { tanh, tf, useBackend } from '@fleetmind/trainer';

t.before(async () => { await useBackend('auto'); });

t.test('the fast tanh is tanh to float32 rounding, with the same gradient', async (t) => {
  const x = tf.linspace(-12, 12, 4001);
  const err = tf.max(tf.abs(tf.sub(tanh(x), tf.tanh(x)))).dataSync()[0];
  t.ok(err <= 3e-7, `max |2σ(2x) − 1 − tanh x| = ${err}`);
  const ours = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tanh(v), tf.sin(v))))(x);
  const theirs = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.tanh(v), tf.sin(v))))(x);
  const gradErr = tf.max(tf.abs(tf.sub(ours, theirs))).dataSync()[0];
  t.ok(gradErr <= 1e-6, `max gradient difference ${gradErr}`);
});
