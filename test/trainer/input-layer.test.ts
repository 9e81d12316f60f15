import t from 'tap';
import { actorLogits, asSparseRows, defaultMappoConfig, denseOnData, inputLayer, layerNorm, makeActor, newActorMemory, pickRows, SPARSE_DENSITY, tf, trainMappo, useBackend } from '@fleetmind/trainer';
import { makeWorld, Rng } from '@fleetmind/worlds';

// data like traffic junction's: a few non-zeros among many zeros, row 0 all zero (a car not in)
function sparseData(rows: number, width: number, perRow: number, seed: number): Float32Array {
  const x = new Float32Array(rows * width);
  let state = seed;
  const next = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let b = 1; b < rows; b++) for (let k = 0; k < perRow; k++) x[b * width + Math.floor(next() * width)] = k === 0 ? 1 : 0.5 + next();
  return x;
}

// whole teams of agents, their observations sparse
function teamBatch(teams: number, seed: number) {
  const teamSize = 3;
  const width = 200;
  return { teams, teamSize, width, data: sparseData(teams * teamSize, width, 3, seed) };
}

const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];
const largest = (a: tf.Tensor) => tf.max(tf.abs(a)).dataSync()[0];

for (const normalize of [false, true]) {
  t.test(`sparse rows${normalize ? ', normalised,' : ''}: the dense layer's forward and d/dW`, async (t) => {
    await useBackend('wasm');
    const rows = 40;
    const width = 300;
    const data = sparseData(rows, width, 4, 7);
    const sparse = asSparseRows(data, width);
    if (!sparse) return t.fail('4 values in 300 are sparse');
    t.equal(sparse.rows, rows);
    const x = tf.tensor2d(data, [rows, width]);
    const w = tf.randomNormal([width, 16], 0, 1, 'float32', 8) as tf.Tensor2D;
    const dy = tf.randomNormal([rows, 16], 0, 1, 'float32', 9);
    const dense = (b: tf.Tensor2D) => denseOnData(normalize ? layerNorm(x) : x, b);
    const reference = dense(w);
    t.ok(largest(reference) > 1, 'outputs of a useful size');
    t.ok(maxDiff(inputLayer(sparse, w, normalize), reference) < 1e-5 * largest(reference), 'forward');
    t.same([...inputLayer(x, w, normalize).dataSync()], [...reference.dataSync()], 'a tensor goes the dense way, bit for bit');
    const ours = tf.grad((b: tf.Tensor) => tf.sum(tf.mul(inputLayer(sparse, b as tf.Tensor2D, normalize), dy)))(w);
    const theirs = tf.grad((b: tf.Tensor) => tf.sum(tf.mul(dense(b as tf.Tensor2D), dy)))(w);
    t.ok(maxDiff(ours, theirs) < 1e-5 * largest(theirs), 'd/dW');
    t.same([...inputLayer(sparse, w, normalize).dataSync().subarray(0, 16)], new Array(16).fill(0), 'an all-zero row maps to zero');

    // a minibatch of rows, picked in any order: the same rows of the whole
    const picks = Int32Array.from([5, 0, 39, 5, 12]);
    const picked = inputLayer(pickRows(sparse, picks), w, normalize);
    const expected = tf.gather(inputLayer(sparse, w, normalize), Array.from(picks));
    t.same([...picked.dataSync()], [...expected.dataSync()], 'picked rows: bit for bit');
  });
}

t.test('data denser than SPARSE_DENSITY stays dense', (t) => {
  const data = new Float32Array(100).fill(0);
  for (let k = 0; k < 100 * SPARSE_DENSITY; k++) data[k * 7 % 100] = 1;
  t.ok(asSparseRows(data, 10), `${100 * SPARSE_DENSITY} non-zeros in 100: sparse`);
  data[99] = data[98] = 2;
  t.equal(asSparseRows(data, 10), null, 'two more: dense');
  t.end();
});

t.test('only the rows to be read: picked as from the whole, the others refused, the density over the rows read', async (t) => {
  await useBackend('wasm');
  const rows = 30;
  const width = 100;
  const data = sparseData(rows, width, 3, 5);
  const read = Float32Array.from({ length: rows }, (_, b) => (b % 3 === 0 ? 0 : 1));
  const whole = asSparseRows(data, width)!;
  const some = asSparseRows(data, width, read)!;
  const picks = Int32Array.from([4, 1, 29, 4, 2]);
  t.same(pickRows(some, picks), pickRows(whole, picks), 'rows read: as picked from the whole');
  t.throws(() => pickRows(some, Int32Array.from([1, 3])), /row 3 was left out/, 'a row not read is refused');
  t.throws(() => asSparseRows(data, width, read.subarray(1)), /29 rows to read of 30/);
  // dense rows not read do not make the rest dense
  const mixed = new Float32Array(data);
  mixed.fill(1, 0, width);
  t.equal(asSparseRows(mixed, width), null, 'a dense row makes the whole dense');
  t.ok(asSparseRows(mixed, width, read), 'left out, it does not');
});

t.test('sparse rows of the wrong width are refused', async (t) => {
  await useBackend('wasm');
  const sparse = asSparseRows(sparseData(4, 50, 1, 1), 50)!;
  t.throws(() => inputLayer(sparse, tf.zeros([40, 3]) as tf.Tensor2D, true), /input rows of 50 values for a layer of 40 inputs/);
});

t.test('every actor kind reads sparse rows as it reads the same rows dense: logits and gradients', async (t) => {
  await useBackend('wasm');
  const { teams, teamSize, width, data } = teamBatch(6, 11);
  const sparse = asSparseRows(data, width)!;
  const dense = tf.tensor2d(data, [teams * teamSize, width]);
  const masks = tf.ones([teams, 2, teamSize, teamSize]) as tf.Tensor4D;
  const sequence = { steps: 2, initialState: tf.zeros([teams * teamSize / 2, 8]) as tf.Tensor2D, resets: tf.zeros([teams * teamSize]) as tf.Tensor1D };
  for (const kind of ['mlp', 'commnet', 'tarmac', 'gru', 'commnet-gru'] as const) {
    const actor = makeActor({ kind, inputSize: width, numActions: 4, hidden: [8, 8], activation: 'tanh', inputLayerNorm: true, rounds: 2 }, new Rng(5, 0));
    const logits = (x: typeof sparse | tf.Tensor2D) => actor.apply(x, masks, teamSize, kind.endsWith('gru') ? sequence : undefined);
    const a = logits(sparse);
    const b = logits(dense);
    t.ok(maxDiff(a, b) < 1e-5 * Math.max(1e-3, largest(b)), `${kind}: logits`);
    const grads = (x: typeof sparse | tf.Tensor2D) => tf.variableGrads(() => tf.sum(tf.square(logits(x))), actor.variables).grads;
    const ga = grads(sparse);
    const gb = grads(dense);
    const worst = Math.max(...Object.keys(gb).map((name) => maxDiff(ga[name], gb[name]) / Math.max(1e-6, largest(gb[name]))));
    t.ok(worst < 1e-4, `${kind}: gradients (worst relative difference ${worst.toExponential(1)})`);
  }
});

t.test('MAPPO on traffic junction medium (its observations go sparse) is reproducible, and trains', async (t) => {
  await useBackend('wasm');
  const config = { ...defaultMappoConfig, world: 'traffic_junction_v0', worldConfig: { difficulty: 'medium' }, actor: 'commnet' as const, numEnvs: 8, rolloutSteps: 10, totalSteps: 240, epochs: 2 };
  const first = await trainMappo(config);
  const second = await trainMappo(config);
  t.same(second.roles[0].actor, first.roles[0].actor, 'the same seed trains the same weights');
  const initial = await trainMappo({ ...config, totalSteps: 0 });
  t.not(JSON.stringify(first.roles[0].actor), JSON.stringify(initial.roles[0].actor), 'training moved the weights');
  // (the path taken: medium's observations are sparse enough to go by their non-zeros)
  const world = makeWorld('traffic_junction_v0', { numEnvs: 8, config: { difficulty: 'medium' } });
  let observations = world.reset(1).observations;
  for (let step = 0; step < 10; step++) observations = world.step(new Int32Array(8 * world.possibleAgents.length)).observations;
  const batch = Float32Array.from(observations.flatMap((o) => [...o]));
  t.ok(asSparseRows(batch, batch.length / (8 * world.possibleAgents.length)), 'medium observations go sparse');
});

t.test('acting (actorLogits) on sparse observations gives the logits of the dense forward pass', async (t) => {
  await useBackend('wasm');
  const { teams, teamSize, width, data } = teamBatch(4, 21);
  t.ok(asSparseRows(data, width), 'the observations go sparse');
  const masks = new Float32Array(teams * 2 * teamSize * teamSize).fill(1);
  for (const kind of ['mlp', 'commnet', 'gru'] as const) {
    const actor = makeActor({ kind, inputSize: width, numActions: 4, hidden: [8, 8], activation: 'tanh', inputLayerNorm: true, rounds: 2 }, new Rng(6, 0));
    const memory = kind === 'gru' ? newActorMemory(actor, teams * teamSize) : undefined;
    const acted = actorLogits(actor, data, masks, teamSize, { memory });
    const sequence = { steps: 1, initialState: tf.zeros([teams * teamSize, 8]) as tf.Tensor2D, resets: tf.zeros([teams * teamSize]) as tf.Tensor1D };
    const dense = actor.apply(tf.tensor2d(data, [teams * teamSize, width]), tf.tensor4d(masks, [teams, 2, teamSize, teamSize]), teamSize, kind === 'gru' ? sequence : undefined).dataSync();
    t.ok(acted.every((v, k) => Math.abs(v - dense[k]) < 1e-5), kind);
  }
});
