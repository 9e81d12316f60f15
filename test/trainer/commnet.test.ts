import t, { type Test } from 'tap';
import { peerMean, Rng, roundMask, sampleCommMask } from '@fleetmind/worlds';
import { CommNet, tf, useBackend, type CommNetWeights } from '@fleetmind/trainer';

const spec = { inputSize: 6, hidden: 8, rounds: 2, numActions: 5 };
const E = 3;
const N = 4;

t.before(async () => { await useBackend('auto'); });

/** rows × [in] · [in, out], on plain arrays */
function affineRows(inp: Float32Array, rows: number, inSize: number, weights: number[], outSize: number): Float32Array {
  const out = new Float32Array(rows * outSize);
  for (let r = 0; r < rows; r++) for (let o = 0; o < outSize; o++) {
    let s = 0;
    for (let q = 0; q < inSize; q++) s += inp[r * inSize + q] * weights[q * outSize + o];
    out[r * outSize + o] = s;
  }
  return out;
}

/** The CommNet arithmetic on plain arrays, from its published weights and the reference peer mean. */
function reference(w: CommNetWeights, x: Float32Array, masks: Float32Array): Float32Array {
  const { inputSize: I, hidden: H, rounds, numActions: A } = w.spec;
  const rows = x.length / I;
  const affine = (inp: Float32Array, inSize: number, weights: number[], outSize: number) => affineRows(inp, rows, inSize, weights, outSize);
  let h = affine(x, I, w.tensors.enc_w, H).map((v, k) => Math.tanh(v + w.tensors.enc_b[k % H]));
  for (let k = 1; k <= rounds; k++) {
    const c = peerMean(h, roundMask(masks, E, N, rounds, k - 1), E, N);
    const a = affine(h, H, w.tensors[`h_w_${k}`], H);
    const b = affine(c, H, w.tensors[`c_w_${k}`], H);
    h = a.map((v, q) => Math.tanh(v + b[q] + w.tensors[`b_${k}`][q % H]));
  }
  return affine(h, H, w.tensors.out_w, A).map((v, k) => v + w.tensors.out_b[k % A]);
}

function logitsOf(net: CommNet, x: Float32Array, masks: Float32Array): Float32Array {
  return tf.tidy(() => net.apply(tf.tensor2d(x, [E * N, spec.inputSize]), tf.tensor4d(masks, [E, spec.rounds, N, N]), N).dataSync() as Float32Array);
}

/** The network's logits against a reference on random inputs and a random mask in which agent 0 of env 0 hears nobody in round 1. */
function matchesReference(t: Test, net: CommNet, ref: (w: CommNetWeights, x: Float32Array, masks: Float32Array) => Float32Array, dropout: number, rng: Rng) {
  const x = Float32Array.from({ length: E * N * spec.inputSize }, () => rng.uniform(-2, 2));
  const masks = sampleCommMask(rng, { numEnvs: E, numAgents: N, rounds: spec.rounds, dropout });
  masks.fill(0, 0, N);
  const ours = logitsOf(net, x, masks);
  const expected = ref(net.getWeights(), x, masks);
  let maxErr = 0;
  for (let k = 0; k < expected.length; k++) maxErr = Math.max(maxErr, Math.abs(ours[k] - expected[k]));
  t.ok(maxErr < 1e-5, `max |tfjs − reference| = ${maxErr}`);
  return { x, masks };
}

t.test('the CommNet actor computes exactly the stage arithmetic: encode, K rounds of peer means, head', (t) => {
  matchesReference(t, new CommNet(spec, new Rng(5)), reference, 0.5, new Rng(5));
  t.end();
});

t.test('an agent that heard nobody is unaffected by its peers; one that heard them is not', (t) => {
  const rng = new Rng(6);
  const net = new CommNet(spec, rng);
  const x = Float32Array.from({ length: E * N * spec.inputSize }, () => rng.uniform(-1, 1));
  const deaf = new Float32Array(spec.rounds * E * N * N);
  const full = sampleCommMask(rng, { numEnvs: E, numAgents: N, rounds: spec.rounds, dropout: 0 });
  const changed = x.slice();
  for (let q = 0; q < spec.inputSize; q++) changed[1 * spec.inputSize + q] += 1; // agent 1 of env 0 sees something else
  const row0 = (l: Float32Array) => Array.from(l.subarray(0, spec.numActions));
  t.same(row0(logitsOf(net, changed, deaf)), row0(logitsOf(net, x, deaf)), 'no messages: independent');
  t.notSame(row0(logitsOf(net, changed, full)), row0(logitsOf(net, x, full)), 'messages carry the change');
  t.same(Array.from(logitsOf(net, changed, full).subarray(N * spec.numActions)), Array.from(logitsOf(net, x, full).subarray(N * spec.numActions)), 'other envs are untouched');
  t.end();
});

t.test('gradients reach every CommNet parameter, and weights round-trip', (t) => {
  const rng = new Rng(7);
  const net = new CommNet(spec, rng);
  const x = tf.tensor2d(Float32Array.from({ length: E * N * spec.inputSize }, () => rng.uniform(-1, 1)), [E * N, spec.inputSize]);
  const masks = tf.tensor4d(sampleCommMask(rng, { numEnvs: E, numAgents: N, rounds: spec.rounds, dropout: 0.3 }), [E, spec.rounds, N, N]);
  const { grads } = tf.variableGrads(() => tf.sum(tf.square(net.apply(x, masks, N))) as tf.Scalar, net.variables);
  for (const v of net.variables) t.ok(tf.sum(tf.abs(grads[v.name])).dataSync()[0] > 0, `gradient reaches ${v.name}`);
  const copy = new CommNet(spec, new Rng(99));
  copy.setWeights(net.getWeights());
  t.same(copy.getWeights(), net.getWeights());
  t.throws(() => new CommNet({ ...spec, rounds: 1 }, new Rng(1)).setWeights(net.getWeights()), { message: /weights are for/ });
  t.end();
});

// TarMAC: the same network with attention over the messages heard instead of their mean.
const tarmacSpec = { ...spec, attention: { keySize: 3 } };

/** The TarMAC round on plain arrays: α = softmax over the heard j of (W_q h_i)·(W_k h_j)/√d, c = Σ α_j h_j. */
function tarmacReference(w: CommNetWeights, x: Float32Array, masks: Float32Array): Float32Array {
  const { inputSize: I, hidden: H, rounds, numActions: A } = w.spec;
  const d = w.spec.attention!.keySize;
  const rows = x.length / I;
  const affine = (inp: Float32Array, inSize: number, weights: number[], outSize: number) => affineRows(inp, rows, inSize, weights, outSize);
  let h = affine(x, I, w.tensors.enc_w, H).map((v, k) => Math.tanh(v + w.tensors.enc_b[k % H]));
  for (let k = 1; k <= rounds; k++) {
    const q = affine(h, H, w.tensors[`q_w_${k}`], d);
    const key = affine(h, H, w.tensors[`k_w_${k}`], d);
    const c = new Float32Array(rows * H);
    for (let e = 0; e < E; e++) for (let i = 0; i < N; i++) {
      const heard = Array.from({ length: N }, (_, j) => j).filter((j) => masks[((e * rounds + (k - 1)) * N + i) * N + j] === 1);
      if (heard.length === 0) continue;
      const score = heard.map((j) => { let s = 0; for (let z = 0; z < d; z++) s += q[(e * N + i) * d + z] * key[(e * N + j) * d + z]; return s / Math.sqrt(d); });
      const top = Math.max(...score);
      const ex = score.map((s) => Math.exp(s - top));
      const sum = ex.reduce((a, b) => a + b, 0);
      heard.forEach((j, n) => { for (let z = 0; z < H; z++) c[(e * N + i) * H + z] += (ex[n] / sum) * h[(e * N + j) * H + z]; });
    }
    const a = affine(h, H, w.tensors[`h_w_${k}`], H);
    const b = affine(c, H, w.tensors[`c_w_${k}`], H);
    h = a.map((v, z) => Math.tanh(v + b[z] + w.tensors[`b_${k}`][z % H]));
  }
  return affine(h, H, w.tensors.out_w, A).map((v, k) => v + w.tensors.out_b[k % A]);
}

t.test('TarMAC computes attention over the messages heard: softmax of query·key over the heard, nobody heard → 0', (t) => {
  const rng = new Rng(8);
  const net = new CommNet(tarmacSpec, rng);
  const { x, masks } = matchesReference(t, net, tarmacReference, 0.4, rng);
  // with one peer heard, attention and the mean agree: a CommNet with the same weights gives the same logits
  const single = new Float32Array(masks.length);
  for (let e = 0; e < E; e++) for (let k = 0; k < spec.rounds; k++) for (let i = 0; i < N; i++) single[((e * spec.rounds + k) * N + i) * N + ((i + 1) % N)] = 1;
  const plain = new CommNet(spec, new Rng(1));
  const { q_w_1: _q1, k_w_1: _k1, q_w_2: _q2, k_w_2: _k2, ...shared } = net.getWeights().tensors;
  plain.setWeights({ spec, tensors: shared });
  const a = logitsOf(net, x, single);
  const b = logitsOf(plain, x, single);
  t.ok(a.every((v, k) => Math.abs(v - b[k]) < 1e-5), 'one peer heard: attention = mean');
  t.notOk(logitsOf(net, x, sampleCommMask(new Rng(3), { numEnvs: E, numAgents: N, rounds: spec.rounds, dropout: 0 })).every((v, k) => Math.abs(v - logitsOf(plain, x, sampleCommMask(new Rng(3), { numEnvs: E, numAgents: N, rounds: spec.rounds, dropout: 0 }))[k]) < 1e-5), 'several heard: they differ');
  const { grads } = tf.variableGrads(() => tf.sum(tf.square(net.apply(tf.tensor2d(x, [E * N, spec.inputSize]), tf.tensor4d(masks, [E, spec.rounds, N, N]), N))) as tf.Scalar, net.variables);
  for (const v of net.variables) t.ok(tf.sum(tf.abs(grads[v.name])).dataSync()[0] > 0, `gradient reaches ${v.name}`);
  t.end();
});
