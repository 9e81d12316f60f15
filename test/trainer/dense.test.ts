import t from 'tap';
import { dense, denseOnData, tf, useBackend } from '@fleetmind/trainer';

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

t.test('denseOnData: the same forward and the same d/dW as dense, and no gradient for its input (data)', async (t) => {
  await useBackend('wasm');
  const x = tf.randomNormal([9, 6], 0, 1, 'float32', 4) as tf.Tensor2D;
  const w = tf.randomNormal([6, 4], 0, 1, 'float32', 5) as tf.Tensor2D;
  const dy = tf.randomNormal([9, 4], 0, 1, 'float32', 6);
  const onData = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(denseOnData(a as tf.Tensor2D, b as tf.Tensor2D), dy)))([x, w]);
  const plain = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(dense(a as tf.Tensor2D, b as tf.Tensor2D), dy)))([x, w]);
  t.same([...denseOnData(x, w).dataSync()], [...dense(x, w).dataSync()], 'forward: bit for bit');
  t.same([...onData[1].dataSync()], [...plain[1].dataSync()], 'd/dW: bit for bit');
  t.ok(onData[0].dataSync().every((v) => v === 0), 'd/dx: zero');
  t.ok(plain[0].dataSync().some((v) => v !== 0), '(where dense gives one)');
});
