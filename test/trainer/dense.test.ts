import t from 'tap';
import { dense, tf, useBackend } from '@fleetmind/trainer';

t.test('the auto backend here is WebAssembly (tfjs-node cannot install on this machine)', async (t) => {
  const name = await useBackend('auto');
  t.ok(name === 'wasm' || name === 'node', `got ${name}`);
  t.equal(await useBackend('cpu'), 'cpu');
  t.equal(tf.getBackend(), 'cpu');
  await useBackend('wasm');
});

t.test('an unavailable backend is refused with the reason', async (t) => {
  let available = true;
  try {
    await import('@tensorflow/tfjs-node' as string);
  } catch {
    available = false;
  }
  if (available) return t.pass('tfjs-node is installed here');
  await t.rejects(useBackend('node'), { code: 'FM_ERR_BACKEND', message: /tfjs-node is not installed/ });
});

for (const backend of ['wasm', 'cpu'] as const) {
  t.test(`on ${backend}, dense(x, W) and its explicit-transpose gradient equal matMul's`, async (t) => {
    await useBackend(backend);
    const x = tf.randomNormal([7, 5], 0, 1, 'float32', 1) as tf.Tensor2D;
    const w = tf.randomNormal([5, 3], 0, 1, 'float32', 2) as tf.Tensor2D;
    const dy = tf.randomNormal([7, 3], 0, 1, 'float32', 3);
    const ours = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(dense(a as tf.Tensor2D, b as tf.Tensor2D), dy)))([x, w]);
    const builtIn = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D), dy)))([x, w]);
    const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];
    t.ok(maxDiff(dense(x, w), tf.matMul(x, w)) < 1e-6, 'forward');
    t.ok(maxDiff(ours[0], builtIn[0]) < 1e-5, 'd/dx');
    t.ok(maxDiff(ours[1], builtIn[1]) < 1e-5, 'd/dW');
  });
}
