// The Beta policy for a bounded box (rl/beta.ts): log Γ, the sampler, the log-density and the
// entropy agree with their closed forms and with each other, the head keeps every action inside
// the box, and a short MAPPO run with it learns continuous simple_spread and exports an actor
// whose action is the Beta's mode, matched by ONNX Runtime.

import t from 'tap';
import { continuousSpace, Rng } from '@fleetmind/worlds';
import { BetaHead, betaLogDensity, defaultMappoConfig, logGamma, sampleBeta, tf, trainMappo, useBackend } from '@fleetmind/trainer';
import { trainAndExportContinuous } from '../helpers/continuous-export.js';

t.before(async () => { await useBackend('auto'); });

t.test('log Γ and the Beta density: the closed forms', (t) => {
  let factorial = 1;
  for (let n = 1; n <= 12; n++) {
    t.ok(Math.abs(logGamma(n) - Math.log(factorial)) < 1e-9, `log Γ(${n}) = log ${factorial}`);
    factorial *= n;
  }
  t.ok(Math.abs(logGamma(0.5) - 0.5 * Math.log(Math.PI)) < 1e-9, 'log Γ(1/2) = log √π');
  t.ok(Math.abs(betaLogDensity(0.3, 1, 1)) < 1e-9, 'Beta(1, 1) is uniform on (0, 1)');
  t.ok(Math.abs(betaLogDensity(0.25, 2, 2) - Math.log(6 * 0.25 * 0.75)) < 1e-9, 'Beta(2, 2) has density 6x(1 − x)');
  t.end();
});

t.test('the sampler draws Beta(α, β): its mean and variance over 200,000 draws, always inside (0, 1)', (t) => {
  const rng = new Rng(17);
  for (const [alpha, beta] of [[1.2, 1.2], [2, 7], [30, 3]]) {
    let sum = 0;
    let sumSq = 0;
    let inside = true;
    const n = 200_000;
    for (let i = 0; i < n; i++) {
      const x = sampleBeta(alpha, beta, rng);
      inside &&= x > 0 && x < 1;
      sum += x;
      sumSq += x * x;
    }
    const mean = sum / n;
    const variance = sumSq / n - mean * mean;
    const s = alpha + beta;
    const expectedVariance = (alpha * beta) / (s * s * (s + 1));
    t.ok(inside, `Beta(${alpha}, ${beta}): every draw inside (0, 1)`);
    // standard error of the mean: √(variance / n) ≤ 0.0007 here; 5 of them
    t.ok(Math.abs(mean - alpha / s) < 5 * Math.sqrt(expectedVariance / n), `Beta(${alpha}, ${beta}): mean ${mean.toFixed(5)} vs ${(alpha / s).toFixed(5)}`);
    t.ok(Math.abs(variance / expectedVariance - 1) < 0.02, `Beta(${alpha}, ${beta}): variance ${variance.toExponential(4)} vs ${expectedVariance.toExponential(4)}`);
  }
  t.end();
});

t.test('the Beta head: actions inside the box, log π of its own samples as TensorFlow.js computes it, the entropy in closed form, the greedy action the mode', (t) => {
  const space = continuousSpace([0, -2], [1, 2]);
  const head = new BetaHead(space);
  t.equal(head.outputs, 4, 'two outputs per component (a and b)');
  t.equal(head.width, 2, 'one stored number per component');
  // rows: [a0, a1, b0, b1]; softplus(0) = ln 2, so 0 gives α = 1 + ln 2
  const outputs = Float32Array.from([0, 0, 0, 0, 3, -2, -1, 4, 10, 0.5, 10, -0.5]);
  const stored = new Float32Array(6);
  const logp = new Float32Array(3);
  head.act(outputs, new Rng(8), stored, logp);
  const expected = tf.tidy(() => head.logProb(tf.tensor2d(outputs, [3, 4]), tf.tensor2d(stored, [3, 2])).dataSync());
  for (let b = 0; b < 3; b++) t.ok(Math.abs(expected[b] - logp[b]) < 1e-4, `row ${b}: sampler ${logp[b]} vs density ${expected[b]}`);
  for (let i = 0; i < 6; i++) {
    const k = i % 2;
    const a = head.toWorld(stored[i], k);
    t.ok(stored[i] > 0 && stored[i] < 1 && a > space.low[k] && a < space.high[k], `component ${i}: stored ${stored[i]} in (0, 1), ${a} inside [${space.low[k]}, ${space.high[k]}]`);
    t.ok(Math.abs(head.fromWorld(a, k) - stored[i]) < 1e-6, 'fromWorld undoes toWorld');
  }
  t.ok(head.fromWorld(-2, 1) > 0 && head.fromWorld(2, 1) < 1, 'an action on a bound (a scripted one) is stored inside (0, 1): its log-density stays finite');
  // Beta(2, 2): H = log B(2, 2) − 2ψ(2) + 2ψ(4) = −log 6 − 2(1 − γ) + 2(11/6 − γ) = 5/3 − log 6
  const two = Math.log(Math.E - 1); // softplus(log(e − 1)) = 1: α = β = 2 in both components
  const entropy = tf.tidy(() => head.entropy(tf.tensor2d([[two, two, two, two]], [1, 4])).dataSync()[0]);
  t.ok(Math.abs(entropy - 2 * (5 / 3 - Math.log(6))) < 1e-5, `entropy of two Beta(2, 2): ${entropy} vs 2 (5/3 − log 6)`);
  head.act(outputs, null, stored, logp);
  const alpha = 1 + Math.log1p(Math.exp(3));
  const beta = 1 + Math.log1p(Math.exp(-1));
  t.ok(Math.abs(head.toWorld(stored[2], 0) - (alpha - 1) / (alpha + beta - 2)) < 1e-6, 'greedy: the mode (α − 1) / (α + β − 2), in the box');
  head.act(Float32Array.from([-200, -200, -200, -200]), null, stored, logp);
  t.same([...stored.subarray(0, 2)], [0.5, 0.5], 'Beta(1, 1) (uniform) plays the centre, not 0 / 0');
  t.end();
});

t.test('MAPPO with a Beta policy learns continuous simple_spread and exports an actor whose action is the Beta\'s mode', async (t) => {
  await t.rejects(trainMappo({ ...defaultMappoConfig, actionDistribution: 'beta', squashActions: true }), /squashActions applies to a Gaussian policy with a learned constant std/, 'a Beta policy is not squashed as well');
  const { checkpoint, manifest, graph, greedyActions } = await trainAndExportContinuous(t, { actionDistribution: 'beta' });
  t.notOk(checkpoint.roles[0].logStd, 'no log-std: the actor gives the spread');
  t.ok(greedyActions().every((a) => a > 0 && a < 1), 'every greedy component (a Beta\'s mode) strictly inside (0, 1)');
  t.match(manifest.roles[0].action, { kind: 'continuous', size: 5, low: [0, 0, 0, 0, 0], high: [1, 1, 1, 1, 1] }, 'the manifest holds the box, as for a Gaussian policy');
  t.same(graph.node!.slice(-4).map((n) => n.opType), ['Add', 'Div', 'Mul', 'Add'], 'the actor ends in low + span · (α − 1 + ε) / (α + β − 2 + 2ε)');
  t.equal(graph.node!.filter((n) => n.opType === 'Softplus').length, 2, 'α and β each through a softplus');
  t.same(graph.output!.map((o) => o.name), ['action'], 'its one output is the action vector');
});
