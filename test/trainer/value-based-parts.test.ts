import t from 'tap';
import { Rng } from '@fleetmind/worlds';
import { gumbelSoftmax, hardUpdate, Mixer, polyakUpdate, ReplayBuffer, tf, useBackend } from '@fleetmind/trainer';

t.before(async () => { await useBackend('auto'); });

t.test('QMIX is monotonic: ∂Q_tot/∂Q_i ≥ 0 for random agent values and states; VDN is the plain sum', async (t) => {
  const rng = new Rng(4);
  const mixer = new Mixer({ kind: 'qmix', numAgents: 3, stateSize: 10, embed: 8, hyperHidden: 16 }, rng);
  // many random states and agent values, far outside the usual range too
  const rows = 2000;
  const qs = tf.randomNormal([rows, 3], 0, 50, 'float32', 1) as tf.Tensor2D;
  const states = tf.randomNormal([rows, 10], 0, 5, 'float32', 2) as tf.Tensor2D;
  // rows are independent, so the gradient of the sum holds each row's own partials
  const grads = tf.grad((q: tf.Tensor) => tf.sum(mixer.apply(q as tf.Tensor2D, states)))(qs);
  const values = grads.dataSync();
  const min = Math.min(...values);
  t.ok(min >= 0, `smallest ∂Q_tot/∂Q_i over ${values.length} partials: ${min}`);
  t.ok(values.filter((v) => v > 0).length > values.length * 0.5, 'and most are strictly positive (the mixer is not flat)');
  // and Q_tot is not a plain sum: the state matters
  const s1 = tf.tensor2d([[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]]);
  const s2 = tf.tensor2d([[9, 1, 0, 3, 7, 5, 2, 7, 1, 0]]);
  const a = mixer.apply(tf.tensor2d([[1, 2, 3]]), s1).dataSync()[0];
  const b = mixer.apply(tf.tensor2d([[1, 2, 3]]), s2).dataSync()[0];
  t.not(a, b, 'the same agent values mix differently in different states');

  const vdn = new Mixer({ kind: 'vdn', numAgents: 3, stateSize: 10, embed: 8, hyperHidden: 16 }, rng);
  t.same(Array.from(vdn.apply(tf.tensor2d([[1, 2, 3], [-1, 0.5, 4]]), tf.zeros([2, 10]) as tf.Tensor2D).dataSync()), [6, 3.5]);
  t.equal(vdn.variables.length, 0, 'VDN has nothing to learn');

  const copy = new Mixer(mixer.spec, new Rng(99));
  copy.setWeights(mixer.getWeights());
  t.same(Array.from(copy.apply(tf.tensor2d([[1, 2, 3]]), s2).dataSync()), [b], 'weights round-trip');
  t.throws(() => copy.setWeights({ ...mixer.getWeights(), nets: [] }), { message: /hold 0 networks, a qmix mixer has 4/ });
});

t.test('target networks: a hard update copies, a Polyak update moves τ of the way', async (t) => {
  const source: tf.Variable[] = [tf.variable(tf.tensor1d([1, 2, 3])), tf.variable(tf.tensor2d([[4, 5]]))];
  const target: tf.Variable[] = [tf.variable(tf.tensor1d([0, 0, 0])), tf.variable(tf.tensor2d([[0, 10]]))];
  polyakUpdate(target, source, 0.25);
  t.same(Array.from(target[0].dataSync()), [0.25, 0.5, 0.75]);
  t.same(Array.from(target[1].dataSync()), [1, 8.75]);
  hardUpdate(target, source);
  t.same(Array.from(target[1].dataSync()), [4, 5]);
  source[1].assign(tf.tensor2d([[7, 7]]));
  t.same(Array.from(target[1].dataSync()), [4, 5], 'a copy, not an alias: the target does not follow later changes');
  t.throws(() => hardUpdate(target.slice(0, 1), source), { message: /target has 1 variables, source 2/ });
});

/** a tiny world's joint step: obs value = 100·env + step, reward = env */
function step(e: number, k: number, ended: number[], terminated: number[] = []) {
  const obs = (shift: number) => [Float32Array.from({ length: e * 2 }, (_, j) => 100 * Math.floor(j / 2) + k + shift)];
  return {
    observations: obs(0),
    state: Float32Array.from({ length: e }, (_, env) => 100 * env + k),
    actions: Int32Array.from({ length: e }, (_, env) => (env + k) % 4),
    rewards: Float64Array.from({ length: e }, (_, env) => env),
    nextObservations: obs(0.5),
    nextState: Float32Array.from({ length: e }, (_, env) => 100 * env + k + 0.5),
    terminated: Uint8Array.from({ length: e }, (_, env) => (terminated.includes(env) ? 1 : 0)),
    episodeEnded: Uint8Array.from({ length: e }, (_, env) => (ended.includes(env) ? 1 : 0)),
  };
}

t.test('replay: episodes come back whole and in order, transitions uniformly; the ring forgets the oldest; its state round-trips', async (t) => {
  const buffer = new ReplayBuffer({ numEnvs: 2, obsDims: [2], stateSize: 1 }, 12); // 6 iterations of 2 envs
  const rng = new Rng(1);
  t.throws(() => buffer.sampleEpisodes(1, rng), { message: /no complete episode/ });
  t.throws(() => new ReplayBuffer({ numEnvs: 2, obsDims: [2], stateSize: 1 }, 12).sampleTransitions(1, rng), { message: /empty/ });
  // env 0: episodes of 2 steps (ends at k = 1, 3); env 1: one of 3 steps (ends at k = 2, terminated)
  for (let k = 0; k < 4; k++) buffer.add(step(2, k, [k === 1 || k === 3 ? 0 : -1, k === 2 ? 1 : -1], k === 2 ? [1] : []));
  t.equal(buffer.size, 8);
  t.equal(buffer.episodeCount, 3);
  const seen = new Set<string>();
  for (let draw = 0; draw < 50; draw++) {
    const slots = buffer.sampleEpisodes(1, rng);
    const states = Array.from(buffer.statesOf(slots));
    seen.add(states.join(','));
    t.ok(states.every((s, j) => j === 0 || s === states[j - 1] + 1), `consecutive steps of one env: ${states}`);
  }
  t.same([...seen].sort(), ['0,1', '100,101,102', '2,3'], 'every stored episode, nothing else');
  const slots = buffer.sampleEpisodes(1, new Rng(3));
  const env1 = Array.from(buffer.sampleEpisodes(20, rng)).filter((slot) => buffer.statesOf(Int32Array.of(slot))[0] >= 100);
  t.same(env1.map((slot) => buffer.isTerminal(slot)), env1.map((slot) => buffer.statesOf(Int32Array.of(slot))[0] === 102), 'only the last step of the terminated episode is terminal');
  t.same(Array.from(buffer.observationsOf(0, slots, true)), Array.from(buffer.observationsOf(0, slots)).map((v) => v + 0.5), 'next observations kept apart');
  t.equal(buffer.rewardOf(0, Int32Array.of(1)[0]), 1, 'env 1 earns 1');
  t.equal(buffer.actionOf(0, 3), (1 + 1) % 4, 'slot 3 = iteration 1, env 1');

  const counts = new Array<number>(buffer.size).fill(0);
  for (const slot of buffer.sampleTransitions(8000, rng)) counts[slot]++;
  t.ok(counts.every((c) => c > 800 && c < 1200), `uniform over the 8 stored transitions: ${counts}`);

  const saved = JSON.parse(JSON.stringify(buffer.getState()));
  const copy = new ReplayBuffer({ numEnvs: 2, obsDims: [2], stateSize: 1 }, 12);
  copy.setState(saved);
  t.same(Array.from(copy.statesOf(copy.sampleEpisodes(5, new Rng(9)))), Array.from(buffer.statesOf(buffer.sampleEpisodes(5, new Rng(9)))), 'a restored buffer samples the same');
  t.throws(() => new ReplayBuffer({ numEnvs: 2, obsDims: [3], stateSize: 1 }, 12).setState(saved), { message: /replay "obs" holds 96 bytes, this buffer needs 144/ });

  // three more iterations overwrite iterations 0–2: env 0's first episode and env 1's are gone
  for (let k = 4; k < 7; k++) buffer.add(step(2, k, [k === 5 ? 0 : -1, -1]));
  t.equal(buffer.size, 12);
  const left = new Set<string>();
  for (let draw = 0; draw < 40; draw++) left.add(Array.from(buffer.statesOf(buffer.sampleEpisodes(1, rng))).join(','));
  t.same([...left].sort(), ['2,3', '4,5'], 'episodes whose first steps were overwritten are no longer sampled');
});

t.test('replay: episodes in time order for a recurrent network, a shorter one padded with its last step and marked invalid there', async (t) => {
  const buffer = new ReplayBuffer({ numEnvs: 2, obsDims: [2], stateSize: 1 }, 12);
  const rng = new Rng(5);
  t.throws(() => buffer.sampleEpisodeSequences(1, rng), { message: /no complete episode/ });
  // env 0: episodes of 2 steps (states 0,1 and 2,3); env 1: one of 3 (100, 101, 102)
  for (let k = 0; k < 4; k++) buffer.add(step(2, k, [k === 1 || k === 3 ? 0 : -1, k === 2 ? 1 : -1], k === 2 ? [1] : []));
  let mixed = false;
  for (let draw = 0; draw < 30; draw++) {
    const batch = buffer.sampleEpisodeSequences(4, rng);
    t.equal(batch.slots.length, batch.steps * 4);
    t.equal(batch.steps, Math.max(...batch.lengths), 'as long as the longest episode drawn');
    for (let b = 0; b < 4; b++) {
      const states = Array.from({ length: batch.steps }, (_, step) => buffer.statesOf(Int32Array.of(batch.slots[step * 4 + b]))[0]);
      const length = batch.lengths[b];
      t.ok(states.slice(0, length).every((s, j) => j === 0 || s === states[j - 1] + 1), `episode ${b}: consecutive steps ${states}`);
      t.ok([0, 2, 100].includes(states[0]), `episode ${b} starts at an episode's first step (${states[0]})`);
      t.ok(states.slice(length).every((s) => s === states[length - 1]), `episode ${b}: past its end, its last step again (${states})`);
      t.same(Array.from({ length: batch.steps }, (_, step) => batch.valid[step * 4 + b]), Array.from({ length: batch.steps }, (_, step) => (step < length ? 1 : 0)));
    }
    mixed ||= new Set(batch.lengths).size > 1;
  }
  t.ok(mixed, 'some batches mix episodes of 2 and 3 steps');
});

t.test('Gumbel-softmax: a distribution per row, sharper as τ falls, with the gradient of its finite differences', async (t) => {
  const rng = new Rng(2);
  const logits = tf.tensor2d([[1, 0.5, -1, 0], [0, 0, 3, 0]]);
  const u = tf.tensor2d(Array.from({ length: 8 }, () => rng.next()), [2, 4]);
  const y = gumbelSoftmax(logits, u, 1).arraySync() as number[][];
  y.forEach((row) => t.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5 && row.every((v) => v > 0), `a distribution: ${row}`));
  const cold = gumbelSoftmax(logits, u, 0.01).arraySync() as number[][];
  const noise = (u.arraySync() as number[][]).map((row) => row.map((v) => -Math.log(-Math.log(v))));
  cold.forEach((row, r) => {
    const perturbed = (logits.arraySync() as number[][])[r].map((l, a) => l + noise[r][a]);
    const best = perturbed.indexOf(Math.max(...perturbed));
    t.ok(row[best] > 0.99, `τ = 0.01 is one-hot on argmax(logits + g) = ${best}: ${row.map((v) => v.toFixed(3))}`);
  });
  // gradient of Σ y·w with respect to the logits, against central finite differences
  const w = tf.tensor2d([[1, -2, 0.5, 3], [0, 1, -1, 2]]);
  const f = (l: tf.Tensor) => tf.sum(tf.mul(gumbelSoftmax(l as tf.Tensor2D, u, 0.7), w));
  const analytic = tf.grad(f)(logits).arraySync() as number[][];
  const base = logits.arraySync() as number[][];
  const h = 1e-2;
  for (let r = 0; r < 2; r++) {
    for (let a = 0; a < 4; a++) {
      const plus = base.map((row) => [...row]);
      const minus = base.map((row) => [...row]);
      plus[r][a] += h;
      minus[r][a] -= h;
      const numeric = (f(tf.tensor2d(plus)).dataSync()[0] - f(tf.tensor2d(minus)).dataSync()[0]) / (2 * h);
      t.ok(Math.abs(numeric - analytic[r][a]) < 2e-3, `∂/∂logit[${r}][${a}]: ${analytic[r][a].toFixed(4)} vs ${numeric.toFixed(4)}`);
    }
  }
  t.ok(analytic.flat().some((v) => Math.abs(v) > 0.05), 'the gradient reaches the logits');
});
