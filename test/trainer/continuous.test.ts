// Continuous actions in training (the Beta, the default, is beta-policy.test.ts's): the diagonal Gaussian's sampler and its log-density agree, a
// short MAPPO run on continuous simple_spread learns, and its checkpoint carries the log-std;
// squashed into the box by tanh, it learns too and exports an actor that ends in the same squash;
// with its std given by the actor beside the mean, the same, and the exported actor gives the mean;
// cut into bins per component, each a categorical choice, the same, and the actor gives the argmax bins.

import t from 'tap';
import { continuousSpace, evaluateController, makeWorld, randomController, Rng } from '@fleetmind/worlds';
import { BinnedHead, defaultMappoConfig, GaussianHead, greedyPolicy, resolveTrainingConfig, StateStdGaussianHead, tf, trainMappo, useBackend } from '@fleetmind/trainer';
import { trainAndExportContinuous } from '../helpers/continuous-export.js';

t.before(async () => { await useBackend('auto'); });

t.test('the Gaussian head: log π of its own samples matches the density TensorFlow.js computes, and the greedy action is the mean', (t) => {
  const head = new GaussianHead(continuousSpace([0, -2], [1, 2]), 0.5);
  t.same(head.getLogStd().map((v) => +v.toFixed(6)), [Math.log(0.25), Math.log(1)].map((v) => +v.toFixed(6)), 'initial std: half of each half-width');
  t.same(head.centre(), [0.5, 0], 'the mean starts at the box centre');
  const means = Float32Array.from([0.5, 0, 0.1, 1.5, 0.9, -1]);
  const actions = new Float32Array(6);
  const logp = new Float32Array(3);
  head.act(means, new Rng(4), actions, logp);
  t.not(actions[0], 0.5, 'a sample is not the mean');
  const expected = tf.tidy(() => head.logProb(tf.tensor2d(means, [3, 2]), tf.tensor2d(actions, [3, 2])).dataSync());
  for (let b = 0; b < 3; b++) t.ok(Math.abs(expected[b] - logp[b]) < 1e-4, `row ${b}: sampler ${logp[b]} vs density ${expected[b]}`);
  const entropy = tf.tidy(() => head.entropy(tf.tensor2d(means, [3, 2])).dataSync()[1]);
  t.ok(Math.abs(entropy - (Math.log(0.25) + Math.log(1) + Math.log(2 * Math.PI * Math.E))) < 1e-5, 'entropy of a diagonal Gaussian');
  head.act(means, null, actions, logp);
  t.same([...actions], [...means], 'greedy: the mean itself (the world clips it)');
  t.end();
});

t.test('MAPPO with a Gaussian policy learns continuous simple_spread: greedy beats uniform random clearly on the same seeds', async (t) => {
  const config = { ...defaultMappoConfig, actionDistribution: 'gaussian' as const, worldConfig: { continuousActions: true }, totalSteps: 128_000, seed: 2 };
  const checkpoint = await trainMappo(config);
  t.equal(checkpoint.roles[0].logStd?.length, 5, 'the checkpoint holds the log-std of every component');
  const world = makeWorld('simple_spread_v3', { numEnvs: 200, autoReset: false, config: { continuousActions: true } });
  const trained = evaluateController(world, greedyPolicy(checkpoint, world), 11).agent_return_mean;
  const random = evaluateController(world, randomController(world, 11), 11).agent_return_mean;
  t.ok(trained > random + 4, `trained ${trained.toFixed(2)} vs random ${random.toFixed(2)} per agent (200 episodes, same seeds)`);
  // a run written before the Beta became the default names no distribution, and plays as the Gaussian it trained
  const { actionDistribution, ...unnamed } = checkpoint.config as typeof config;
  t.equal(actionDistribution, 'gaussian');
  const old = { ...checkpoint, config: unnamed } as typeof checkpoint;
  t.equal(evaluateController(world, greedyPolicy(old, world), 11).agent_return_mean, trained, 'a configuration without actionDistribution plays as a Gaussian');
  const discrete = makeWorld('simple_spread_v3', { numEnvs: 2 });
  t.throws(() => greedyPolicy(checkpoint, discrete), /chooses continuous actions; simple_spread_v3 here takes discrete ones/, 'a continuous run on the discrete world is refused');
});

t.test('the squashed Gaussian head: samples land inside the box through tanh, what is stored is tanh\'s argument, and the greedy action is the squashed mean', (t) => {
  const space = continuousSpace([0, -2], [1, 2]);
  const head = new GaussianHead(space, 0.5, true);
  t.same(head.getLogStd().map((v) => +v.toFixed(6)), [Math.log(0.5), Math.log(0.5)].map((v) => +v.toFixed(6)), 'initial std: half of tanh\'s unit, whatever the box');
  t.same(head.centre(), [0, 0], 'the mean starts at 0, which tanh maps to the box centre');
  const means = Float32Array.from([3, -3, 0, 0.5, -0.2, 2]);
  const stored = new Float32Array(6);
  const logp = new Float32Array(3);
  head.act(means, new Rng(5), stored, logp);
  const expected = tf.tidy(() => head.logProb(tf.tensor2d(means, [3, 2]), tf.tensor2d(stored, [3, 2])).dataSync());
  for (let b = 0; b < 3; b++) t.ok(Math.abs(expected[b] - logp[b]) < 1e-4, `row ${b}: the log-density of the stored pre-tanh sample, ${logp[b]} vs ${expected[b]}`);
  for (let i = 0; i < 6; i++) {
    const k = i % 2;
    const a = head.toWorld(stored[i], k);
    t.ok(a > space.low[k] && a < space.high[k], `component ${i}: ${a} inside [${space.low[k]}, ${space.high[k]}]`);
    t.ok(Math.abs(head.fromWorld(a, k) - stored[i]) < 1e-3 * Math.max(1, Math.abs(stored[i])), 'fromWorld undoes toWorld');
  }
  t.equal(head.toWorld(0, 1), 0, 'tanh(0) is the centre');
  t.ok(Math.abs(head.toWorld(1, 0) - (0.5 + 0.5 * Math.tanh(1))) < 1e-9, 'a = centre + half-width · tanh(x)');
  t.ok(Number.isFinite(head.fromWorld(1, 0)) && Number.isFinite(head.fromWorld(-2, 1)), 'a scripted action on a bound is stored as a finite number');
  head.logStd.assign(tf.tensor1d([2, 2]));
  head.act(means, new Rng(6), stored, logp);
  const entropy = tf.tidy(() => head.entropy(tf.tensor2d(means, [3, 2])).dataSync()[0]);
  t.ok(Math.abs(entropy - Math.log(2 * Math.PI * Math.E)) < 1e-5, 'the std is capped at 1 (of tanh\'s argument) in the entropy, as in sampling');
  const clipped = new GaussianHead(space, 0.5);
  t.equal(clipped.toWorld(7, 0), 7, 'clipped: the world is given the sample itself (and clips it)');
  t.end();
});

t.test('MAPPO with squashed actions learns continuous simple_spread, evaluates with the squashed mean, and exports an actor that ends in tanh', async (t) => {
  const { graph, greedyActions } = await trainAndExportContinuous(t, { actionDistribution: 'gaussian', squashActions: true });
  // the greedy actions are the squashed means: inside the box, where the raw outputs need not be
  t.ok(greedyActions().every((a) => a > 0 && a < 1), 'every greedy component strictly inside (0, 1)');
  t.same(graph.node!.slice(-3).map((n) => n.opType), ['Tanh', 'Mul', 'Add'], 'the actor ends in centre + half-width · tanh');
  t.same(graph.node!.at(-1)!.output, ['action'], 'and its last node makes the output action');
});

t.test('the Gaussian head with a state-dependent std: log π of its own samples, the std under its cap, the entropy per row, the greedy action the mean', (t) => {
  const space = continuousSpace([0, -2], [1, 2]);
  t.throws(() => new StateStdGaussianHead(space, 1), /must be under 1/, 'the initial std must start under the cap');
  const head = new StateStdGaussianHead(space, 0.5);
  t.equal(head.outputs, 4, 'a mean and a log-std output per component');
  t.same(head.centre(), [0.5, 0, 0, 0], 'the means start at the box centre, the log-std outputs at 0');
  // rows: [mean0, mean1, s0, s1]
  const outputs = Float32Array.from([0.5, 0, 0, 0, 0.2, 1, 40, -3, 0.9, -1, -2, 2]);
  const actions = new Float32Array(6);
  const logp = new Float32Array(3);
  head.act(outputs, new Rng(4), actions, logp);
  const expected = tf.tidy(() => head.logProb(tf.tensor2d(outputs, [3, 4]), tf.tensor2d(actions, [3, 2])).dataSync());
  for (let b = 0; b < 3; b++) t.ok(Math.abs(expected[b] - logp[b]) < 1e-4, `row ${b}: sampler ${logp[b]} vs density ${expected[b]}`);
  const entropy = tf.tidy(() => head.entropy(tf.tensor2d(outputs, [3, 4])).dataSync());
  const gaussianEntropy = (std: number) => Math.log(std) + 0.5 * Math.log(2 * Math.PI * Math.E);
  t.ok(Math.abs(entropy[0] - (gaussianEntropy(0.25) + gaussianEntropy(1))) < 1e-5, 'an output of 0: half of each half-width (0.25 and 1)');
  // σ = half-width · exp(−softplus(−s)) (here c = 0): s = 40 is the cap to float precision, s = −3 far under it
  t.ok(Math.abs(entropy[1] - (gaussianEntropy(0.5) + gaussianEntropy(2 * Math.exp(-Math.log1p(Math.exp(3)))))) < 1e-5, 'a large output: the std at its cap (the half-width, 0.5); a negative one: under it');
  t.not(entropy[0], entropy[2], 'the spread depends on the row');
  head.act(outputs, null, actions, logp);
  t.same([...actions], [0.5, 0, 0.2, 1, 0.9, -1].map(Math.fround), 'greedy: the means (the world clips them)');
  t.end();
});

t.test('MAPPO with a state-dependent std learns continuous simple_spread and exports an actor whose action is the mean', async (t) => {
  await t.rejects(trainMappo({ ...defaultMappoConfig, actionDistribution: 'gaussian-state', squashActions: true }), /squashActions applies to a Gaussian policy with a learned constant std/, 'not squashed as well');
  const { graph } = await trainAndExportContinuous(t, { actionDistribution: 'gaussian-state' });
  t.equal(graph.node!.at(-1)!.opType, 'Slice', 'the actor ends in the means, sliced from the outputs');
  t.same(graph.output!.map((o) => o.name), ['action'], 'its one output is the action vector');
});

t.test('the binned head: one categorical per component over K values from low to high, log π summed over components, the greedy action each argmax', (t) => {
  const space = continuousSpace([0, -2], [1, 2]);
  t.throws(() => new BinnedHead(space, 1), /at least 2/, 'one value a component is refused');
  const head = new BinnedHead(space, 5);
  t.equal(head.outputs, 10, 'K logits per component');
  t.same([0, 1, 2, 3, 4].map((j) => head.toWorld(j, 1)), [-2, -1, 0, 1, 2], 'the values include both bounds, evenly spaced');
  t.same([head.fromWorld(0.3, 0), head.fromWorld(-7, 1), head.fromWorld(1.6, 1)], [1, 0, 4], 'an action the world took is stored as its nearest bin');
  // two rows: [component 0's 5 logits, component 1's 5 logits]
  const logits = Float32Array.from([0, 0, 0, 0, 0, 5, 0, 0, 0, 0, -1, 2, 0.5, 0, 0, 0, 0, 0, 0, 9]);
  const stored = new Float32Array(4);
  const logp = new Float32Array(2);
  head.act(logits, new Rng(12), stored, logp);
  t.ok(stored.every((j) => Number.isInteger(j) && j >= 0 && j < 5), `bin indices: ${[...stored]}`);
  const expected = tf.tidy(() => head.logProb(tf.tensor2d(logits, [2, 10]), tf.tensor2d(stored, [2, 2])).dataSync());
  for (let b = 0; b < 2; b++) t.ok(Math.abs(expected[b] - logp[b]) < 1e-5, `row ${b}: sampler ${logp[b]} vs log-softmax ${expected[b]}`);
  const entropy = tf.tidy(() => head.entropy(tf.tensor2d(logits, [2, 10])).dataSync());
  const softmaxEntropy = (row: number[]) => {
    const z = row.reduce((a, v) => a + Math.exp(v), 0);
    return -row.reduce((a, v) => a + (Math.exp(v) / z) * (v - Math.log(z)), 0);
  };
  t.ok(Math.abs(entropy[0] - (Math.log(5) + softmaxEntropy([5, 0, 0, 0, 0]))) < 1e-5, 'row 0: a uniform component (log 5) and a nearly sure one');
  head.act(logits, null, stored, logp);
  t.same([...stored], [0, 0, 1, 4], 'greedy: each component\'s argmax (the first of a tie)');
  t.end();
});

t.test('MAPPO with binned actions learns continuous simple_spread and exports an actor whose action is each component\'s argmax value', async (t) => {
  await t.rejects(trainMappo({ ...defaultMappoConfig, actionBins: 5 }), /actionBins applies to actionDistribution bins/, 'bins without the binned policy are refused');
  const { graph, greedyActions } = await trainAndExportContinuous(t, { actionDistribution: 'bins' });
  t.ok(greedyActions().every((a) => Math.abs(a * 10 - Math.round(a * 10)) < 1e-5), 'every greedy component one of the 11 values 0, 0.1, …, 1');
  t.same(graph.node!.slice(-5).map((n) => n.opType), ['Reshape', 'ArgMax', 'Cast', 'Mul', 'Add'], 'the actor ends in each component\'s argmax bin, as its value');
  t.same(graph.output!.map((o) => o.name), ['action'], 'its one output is the action vector');
});

t.test('the distribution settings are checked together before a run starts', (t) => {
  t.match(resolveTrainingConfig({ algo: 'mappo' }), { actionDistribution: 'beta' }, 'a continuous run is a Beta unless told otherwise');
  t.throws(() => resolveTrainingConfig({ algo: 'mappo', actionBins: 5 }), { message: 'actionBins needs actionDistribution bins' });
  t.throws(() => resolveTrainingConfig({ algo: 'mappo', actionDistribution: 'beta', squashActions: true }), { message: /squashActions needs the Gaussian with a learned constant std/ });
  t.throws(() => resolveTrainingConfig({ algo: 'mappo', squashActions: true }), { message: /squashActions needs the Gaussian with a learned constant std \(--set actionDistribution=gaussian; the default is beta\)/ });
  t.throws(() => resolveTrainingConfig({ algo: 'mappo', actionStd: 0.3 }), { message: /actionStd needs a Gaussian policy/ });
  t.equal(resolveTrainingConfig({ algo: 'mappo', actionDistribution: 'gaussian-state', actionStd: 0.3 }).algo, 'mappo', 'a Gaussian takes its initial std');
  t.throws(() => resolveTrainingConfig({ algo: 'mappo', actionDistribution: 'bins', actionBins: 1 }), /actionBins/);
  t.equal(resolveTrainingConfig({ algo: 'mappo', actionDistribution: 'bins', actionBins: 5 }).algo, 'mappo', 'bins with their count pass');
  t.end();
});
