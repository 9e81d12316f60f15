// On the WebAssembly backend a clone (Identity: what tfjs runs for every tensor it saves for the
// backward pass) shares its input's data, counted, instead of copying it (trainer/wasm-identity.ts).

import t from 'tap';
import { tf, useBackend } from '@fleetmind/trainer';

t.before(async () => { await useBackend('wasm'); });

t.test('a clone shares the data: no buffer more, and each tensor keeps it until both are gone', async (t) => {
  const start = tf.memory();
  const x = tf.tensor1d([1, 2, 3, 4]);
  const y = tf.clone(x);
  t.equal(tf.memory().numDataBuffers - start.numDataBuffers, 1, 'one data buffer for the two tensors');
  t.equal(tf.memory().numTensors - start.numTensors, 2);
  x.dispose();
  t.same(Array.from(y.dataSync()), [1, 2, 3, 4], 'the clone reads its values after the original is gone');
  y.dispose();
  t.equal(tf.memory().numDataBuffers, start.numDataBuffers, 'freed with the last tensor');
  t.equal(tf.memory().numTensors, start.numTensors);
  t.end();
});

t.test('gradients through saved tensors are those of the CPU backend, and nothing leaks', async (t) => {
  const loss = (w: tf.Tensor) => tf.sum(tf.mul(tf.sigmoid(tf.matMul(tf.tensor2d([[0.5, -1, 2], [1, 0.25, -0.5]]), w as tf.Tensor2D)), tf.exp(w.sum())));
  const w0 = [[0.1, -0.2], [0.3, 0.05], [-0.4, 0.2]];
  const gradientOn = async (backend: 'wasm' | 'cpu') => {
    await useBackend(backend);
    const before = tf.memory().numTensors;
    const g = tf.tidy(() => tf.grad(loss)(tf.tensor2d(w0)));
    const values = Array.from(g.dataSync());
    g.dispose();
    t.equal(tf.memory().numTensors, before, `${backend}: every tensor of the backward pass disposed`);
    return values;
  };
  const wasm = await gradientOn('wasm');
  const cpu = await gradientOn('cpu');
  await useBackend('wasm');
  wasm.forEach((v, k) => t.ok(Math.abs(v - cpu[k]) < 1e-5, `dL/dw[${k}] ${v} (cpu ${cpu[k]})`));
  t.end();
});
