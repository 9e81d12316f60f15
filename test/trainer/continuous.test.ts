// Continuous actions in training: the diagonal Gaussian's sampler and its log-density agree, a
// short MAPPO run on continuous simple_spread learns, and its checkpoint carries the log-std.

import t from 'tap';
import { continuousSpace, evaluateController, makeWorld, randomController, Rng } from '@fleetmind/worlds';
import { defaultMappoConfig, GaussianHead, greedyPolicy, tf, trainMappo, useBackend } from '@fleetmind/trainer';

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
  const config = { ...defaultMappoConfig, worldConfig: { continuousActions: true }, totalSteps: 128_000, seed: 2 };
  const checkpoint = await trainMappo(config);
  t.equal(checkpoint.roles[0].logStd?.length, 5, 'the checkpoint holds the log-std of every component');
  const world = makeWorld('simple_spread_v3', { numEnvs: 200, autoReset: false, config: { continuousActions: true } });
  const trained = evaluateController(world, greedyPolicy(checkpoint, world), 11).agent_return_mean;
  const random = evaluateController(world, randomController(world, 11), 11).agent_return_mean;
  t.ok(trained > random + 4, `trained ${trained.toFixed(2)} vs random ${random.toFixed(2)} per agent (200 episodes, same seeds)`);
  const discrete = makeWorld('simple_spread_v3', { numEnvs: 2 });
  t.throws(() => greedyPolicy(checkpoint, discrete), /chooses continuous actions; simple_spread_v3 here takes discrete ones/, 'a continuous run on the discrete world is refused');
});
