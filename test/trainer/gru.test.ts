// The recurrent actor (trainer/nn/gru.ts) and its training (chunked BPTT in algos/mappo.ts): a
// sequence unrolled in one call is the same arithmetic as one step at a time with the state
// carried; a reset cuts the past off; the gradient through time is the true one; a resumed
// run continues exactly, state and all; and the settings that need a GRU say so.

import t from 'tap';
import { Rng } from '@fleetmind/worlds';
import {
  actorLogits, defaultChunkLength, defaultMappoConfig, makeActor, newActorMemory, resolveTrainingConfig, tf, trainMappo, useBackend,
  type Actor, type MappoCheckpoint,
} from '@fleetmind/trainer';

t.before(async () => { await useBackend('wasm'); });

const IN = 5;
const H = 8;
const A = 3;
const ROWS = 4;
const STEPS = 6;

function gru(seed: number): Actor {
  return makeActor({ kind: 'gru', inputSize: IN, numActions: A, hidden: [H], activation: 'tanh', inputLayerNorm: false, rounds: 0 }, new Rng(seed));
}

/** time-major inputs [STEPS·ROWS, IN] and resets [STEPS·ROWS] */
function sequenceData(seed: number, resetAt: [number, number][]) {
  const rng = new Rng(seed);
  const x = Float32Array.from({ length: STEPS * ROWS * IN }, () => rng.uniform(-1, 1));
  const resets = new Float32Array(STEPS * ROWS);
  for (const [step, row] of resetAt) resets[step * ROWS + row] = 1;
  return { x, resets };
}

function unrolled(actor: Actor, x: Float32Array, resets: Float32Array): Float32Array {
  return tf.tidy(() => actor.apply(tf.tensor2d(x, [STEPS * ROWS, IN]), null, 1, {
    steps: STEPS, initialState: tf.zeros([ROWS, H]), resets: tf.tensor1d(resets),
  }).dataSync() as Float32Array);
}

t.test('a sequence in one call is one step at a time with the state carried, resets included', (t) => {
  const actor = gru(1);
  const { x, resets } = sequenceData(2, [[2, 1], [4, 3], [5, 1]]);
  const whole = unrolled(actor, x, resets);
  const memory = newActorMemory(actor, ROWS);
  for (let step = 0; step < STEPS; step++) {
    if (step > 0) for (let row = 0; row < ROWS; row++) memory.resets[row] = resets[step * ROWS + row];
    const logits = actorLogits(actor, x.subarray(step * ROWS * IN, (step + 1) * ROWS * IN), null, 1, { memory });
    for (let k = 0; k < ROWS * A; k++) t.ok(Math.abs(logits[k] - whole[step * ROWS * A + k]) < 1e-6, `step ${step} logit ${k}: ${logits[k]} vs ${whole[step * ROWS * A + k]}`);
  }
  t.ok(memory.state.some((v) => v !== 0), 'the state moved');
  t.throws(() => actorLogits(actor, x.subarray(0, ROWS * IN), null, 1), /a recurrent actor acts with its memory/, 'acting without memory is refused');
  t.end();
});

for (const kind of ['commnet-gru', 'tarmac-gru'] as const) t.test(`a ${kind}'s sequence of whole teams in one call is one step at a time, the masks of each step with it`, (t) => {
  const team = 2;
  const actor = makeActor({ kind, inputSize: IN, numActions: A, hidden: [H], activation: 'tanh', inputLayerNorm: true, rounds: 2 }, new Rng(7));
  t.equal(actor.stateSize, H);
  const { x, resets } = sequenceData(8, [[3, 2]]);
  const rng = new Rng(9);
  // [STEPS, envs = ROWS / team, K = 2, team, team]: who heard whom, per step
  const masks = Float32Array.from({ length: STEPS * (ROWS / team) * 2 * team * team }, () => (rng.next() < 0.7 ? 1 : 0));
  const whole = tf.tidy(() => actor.apply(tf.tensor2d(x, [STEPS * ROWS, IN]), tf.tensor4d(masks, [STEPS * ROWS / team, 2, team, team]), team, {
    steps: STEPS, initialState: tf.zeros([ROWS, H]), resets: tf.tensor1d(resets),
  }).dataSync() as Float32Array);
  const memory = newActorMemory(actor, ROWS);
  const perStep = (ROWS / team) * 2 * team * team;
  let worst = 0;
  for (let step = 0; step < STEPS; step++) {
    if (step > 0) for (let row = 0; row < ROWS; row++) memory.resets[row] = resets[step * ROWS + row];
    const logits = actorLogits(actor, x.subarray(step * ROWS * IN, (step + 1) * ROWS * IN), masks.subarray(step * perStep, (step + 1) * perStep), team, { memory });
    for (let k = 0; k < ROWS * A; k++) worst = Math.max(worst, Math.abs(logits[k] - whole[step * ROWS * A + k]));
  }
  t.ok(worst < 1e-6, `largest difference ${worst}`);
  t.throws(() => actorLogits(actor, x.subarray(0, ROWS * IN), masks.subarray(0, perStep), team), /a recurrent actor acts with its memory/);
  t.end();
});

t.test('a reset cuts the past off: what came before it changes nothing after it', (t) => {
  const actor = gru(3);
  const { x, resets } = sequenceData(4, [[3, 0]]);
  const before = unrolled(actor, x, resets);
  const changed = x.slice();
  for (let k = 0; k < IN; k++) changed[(1 * ROWS + 0) * IN + k] += 0.5; // row 0's input at step 1
  const after = unrolled(actor, changed, resets);
  const rowLogits = (l: Float32Array, step: number, row: number) => Array.from(l.subarray((step * ROWS + row) * A, (step * ROWS + row + 1) * A));
  t.notSame(rowLogits(after, 2, 0), rowLogits(before, 2, 0), 'before the reset, the changed input matters (the state carries it)');
  for (let step = 3; step < STEPS; step++) t.same(rowLogits(after, step, 0), rowLogits(before, step, 0), `step ${step}: after the reset, it does not`);
  t.same(rowLogits(after, 2, 1), rowLogits(before, 2, 1), 'other rows never see it');
  t.end();
});

t.test('the gradient through time is the finite difference of the loss', (t) => {
  const actor = gru(5);
  const { x, resets } = sequenceData(6, [[4, 2]]);
  // a loss that reads only the last step: its gradient reaches the recurrent weights through every earlier step
  const loss = () => tf.tidy(() => {
    const logits = actor.apply(tf.tensor2d(x, [STEPS * ROWS, IN]), null, 1, { steps: STEPS, initialState: tf.zeros([ROWS, H]), resets: tf.tensor1d(resets) });
    return tf.sum(tf.square(tf.slice(logits, [(STEPS - 1) * ROWS, 0], [ROWS, A]))) as tf.Scalar;
  });
  const { grads } = tf.variableGrads(loss, actor.variables);
  const names = Object.keys(grads);
  const eps = 1e-2;
  let checked = 0;
  for (const v of actor.variables.filter((variable) => variable.shape.length === 2)) {
    const g = grads[v.name].dataSync();
    for (const k of [0, Math.floor(v.size / 2), v.size - 1]) {
      const original = v.dataSync().slice();
      const at = (delta: number) => { const w = original.slice(); w[k] += delta; v.assign(tf.tensor(w, v.shape)); return loss().dataSync()[0]; };
      const numeric = (at(eps) - at(-eps)) / (2 * eps);
      v.assign(tf.tensor(original, v.shape));
      t.ok(Math.abs(numeric - g[k]) <= 2e-3 + 0.03 * Math.abs(numeric), `${v.name}[${k}]: autodiff ${g[k].toExponential(3)}, finite difference ${numeric.toExponential(3)}`);
      checked++;
    }
  }
  t.ok(checked >= 15, `${checked} weights checked over ${names.length} variables`);
  Object.values(grads).forEach((g) => g.dispose());
  t.end();
});

for (const actor of ['gru', 'commnet-gru'] as const) {
  t.test(`a resumed ${actor} run continues exactly: the agents' states and resets are in the checkpoint`, async (t) => {
    // 20-step rollouts in chunks of 5 against 25-step episodes: the stop falls mid-episode, with states mid-sequence
    const config = { ...defaultMappoConfig, numEnvs: 8, rolloutSteps: 20, totalSteps: 8 * 20 * 4, seed: 5, actor, chunkLength: 5, hidden: [16, 16], ...(actor === 'commnet-gru' ? { msgDropout: 0.3 } : {}) };
    const straight = await trainMappo(config);
    t.ok(straight.roles[0].recurrent && straight.roles[0].recurrent.state.some((v) => v !== 0), 'the checkpoint holds the agents\' states');
    let updates = 0;
    const half = await trainMappo(config, { shouldStop: () => updates >= 2, onUpdate: () => { updates++; } });
    const resumed = await trainMappo(config, {}, JSON.parse(JSON.stringify(half)) as MappoCheckpoint);
    t.same(resumed.roles, straight.roles, 'same weights, optimizer state, statistics and agent states as the uninterrupted run');
    t.same(resumed.loop, straight.loop);
  });
}

t.test('GRU settings: the default chunk divides the rollout; settings that need a GRU, or that it cannot take, are refused by name', (t) => {
  t.same([25, 20, 128, 7, 11, 1].map(defaultChunkLength), [5, 10, 8, 7, 1, 1]);
  t.throws(() => resolveTrainingConfig({ algo: 'mappo', chunkLength: 5 }), { message: 'chunkLength needs a recurrent actor (gru, commnet-gru, tarmac-gru)' });
  t.throws(() => resolveTrainingConfig({ algo: 'mappo', actor: 'gru', msgDropout: 0.3 }), { message: 'msgDropout needs a communicating actor (commnet, tarmac, commnet-gru, tarmac-gru)' });
  t.throws(() => resolveTrainingConfig({ algo: 'mappo', actor: 'gru', chunkLength: 10 }), { message: /chunkLength 10 does not divide rolloutSteps 25/ });
  t.throws(() => resolveTrainingConfig({ algo: 'mappo', actor: 'gru', selfPlay: true }), { message: /a recurrent actor cannot play self-play yet/ });
  t.match(resolveTrainingConfig({ algo: 'ippo', actor: 'gru', chunkLength: 25 }), { algo: 'ippo', actor: 'gru', chunkLength: 25 });
  t.end();
});
