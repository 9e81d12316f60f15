import t from 'tap';
import { actorLogits, intoTeams, makeActor, newActorMemory, outOfTeams, tf, useBackend, type PresentRows } from '@fleetmind/trainer';
import { Rng } from '@fleetmind/worlds';

const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];
const largest = (a: tf.Tensor) => tf.max(tf.abs(a)).dataSync()[0];

// teams of 4 in 5 envs; who is in the step (env 3 has nobody, env 4 everybody)
const teamSize = 4;
const teams = 5;
const inStep = [1, 0, 1, 0, /**/ 0, 0, 0, 1, /**/ 1, 1, 1, 0, /**/ 0, 0, 0, 0, /**/ 1, 1, 1, 1];
const present: PresentRows = { positions: Int32Array.from(inStep.flatMap((on, row) => (on ? [row] : []))), total: inStep.length };

/** [present, total]: row k picks the k-th present row of whole teams */
function selection(): tf.Tensor2D {
  const s = new Float32Array(present.positions.length * present.total);
  present.positions.forEach((row, k) => { s[k * present.total + row] = 1; });
  return tf.tensor2d(s, [present.positions.length, present.total]);
}

t.test('present rows into and out of their teams: values and gradients, as multiplying by a selection matrix', async (t) => {
  await useBackend('wasm');
  const rows = tf.randomNormal([present.positions.length, 6], 0, 1, 'float32', 3) as tf.Tensor2D;
  const select = selection();
  const teamsOf = intoTeams(rows, present);
  t.same(teamsOf.shape, [20, 6]);
  t.same([...teamsOf.dataSync()], [...tf.matMul(select, rows, true, false).dataSync()], 'into teams: each at its place, the others zero');
  const whole = tf.randomNormal([20, 6], 0, 1, 'float32', 4) as tf.Tensor2D;
  t.same([...outOfTeams(whole, present).dataSync()], [...tf.matMul(select, whole).dataSync()], 'out of teams: the present rows in order');
  t.same([...outOfTeams(intoTeams(rows, present), present).dataSync()], [...rows.dataSync()], 'out of teams undoes into teams');

  const weightsInto = tf.randomNormal([20, 6], 0, 1, 'float32', 5);
  const ours = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(intoTeams(x as tf.Tensor2D, present), weightsInto)))(rows);
  const theirs = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.matMul(select, x as tf.Tensor2D, true, false), weightsInto)))(rows);
  t.ok(largest(theirs) > 0.1 && maxDiff(ours, theirs) === 0, 'into teams: gradient');
  const weightsOut = tf.randomNormal([present.positions.length, 6], 0, 1, 'float32', 6);
  const oursOut = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(outOfTeams(x as tf.Tensor2D, present), weightsOut)))(whole);
  const theirsOut = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.matMul(select, x as tf.Tensor2D), weightsOut)))(whole);
  t.ok(largest(theirsOut) > 0.1 && maxDiff(oursOut, theirsOut) === 0, 'out of teams: gradient (zero for absent rows)');

  t.throws(() => intoTeams(whole, present), /20 rows for 10 present/);
  t.throws(() => outOfTeams(rows, present), /10 rows for teams of 20/);
});

t.test('a CommNet on the present rows alone: the logits and gradients of the whole teams, where nobody hears the absent', async (t) => {
  await useBackend('wasm');
  const width = 12;
  const x = tf.randomNormal([present.total, width], 0, 1, 'float32', 7) as tf.Tensor2D;
  // i hears j when both are in the step (and not itself, as the channel's masks); with losses, some of those messages are lost too
  const masksWith = (losses: boolean) => {
    const m = new Float32Array(teams * 2 * teamSize * teamSize);
    for (let env = 0; env < teams; env++) for (let k = 0; k < 2; k++) for (let i = 0; i < teamSize; i++) for (let j = 0; j < teamSize; j++) {
      const lost = losses && (i + 2 * j + env + k) % 3 === 0;
      m[((env * 2 + k) * teamSize + i) * teamSize + j] = i !== j && inStep[env * teamSize + i] && inStep[env * teamSize + j] && !lost ? 1 : 0;
    }
    return tf.tensor4d(m, [teams, 2, teamSize, teamSize]);
  };
  const picked = tf.gather(x, Array.from(present.positions)) as tf.Tensor2D;
  const weights = tf.randomNormal([present.positions.length, 5], 0, 1, 'float32', 8);
  const select = selection();
  for (const losses of [false, true]) {
    const masks = masksWith(losses);
    for (const kind of ['commnet', 'tarmac'] as const) {
      for (const gated of [false, true]) {
        const name = `${kind}${gated ? ', gated' : ''}${losses ? ', messages lost' : ''}`;
        const actor = makeActor({ kind, inputSize: width, numActions: 5, hidden: [8, 8], activation: 'tanh', inputLayerNorm: true, rounds: 2, gated }, new Rng(9, 0));
        // (the present rows by a selection matrix: tfjs's gradient of a gather has no WebAssembly kernel)
        const whole = () => tf.matMul(select, actor.applyWithGates(x, masks, teamSize).logits);
        const alone = () => actor.applyWithGates(picked, masks, teamSize, undefined, present).logits;
        t.ok(largest(whole()) > 1e-3 && maxDiff(alone(), whole()) < 1e-6 * Math.max(1, largest(whole())), `${name}: logits`);
        const loss = (logits: () => tf.Tensor) => tf.variableGrads(() => tf.sum(tf.mul(logits(), weights)), actor.variables).grads;
        const a = loss(alone);
        const b = loss(whole);
        const worst = Math.max(...Object.keys(b).filter((key) => largest(b[key]) > 0).map((key) => maxDiff(a[key], b[key]) / largest(b[key])));
        t.ok(worst < 1e-5, `${name}: gradients (worst relative difference ${worst.toExponential(1)})`);
        if (gated) {
          const gates = actor.applyWithGates(picked, masks, teamSize, undefined, present).gateLogits!;
          t.same(gates.shape, [present.positions.length, 2], 'gate logits for the present rows');
        }
      }
    }
  }
  const masks = masksWith(false);
  const recurrent = makeActor({ kind: 'commnet-gru', inputSize: width, numActions: 5, hidden: [8, 8], activation: 'tanh', inputLayerNorm: true, rounds: 2 }, new Rng(9, 0));
  const sequence = { steps: 1, initialState: tf.zeros([present.total, 8]) as tf.Tensor2D, resets: tf.zeros([present.total]) as tf.Tensor1D };
  t.throws(() => recurrent.applyWithGates(picked, masks, teamSize, sequence, present), /feed-forward/, 'a recurrent CommNet refuses present rows');
  const gru = makeActor({ kind: 'gru', inputSize: width, numActions: 5, hidden: [8, 8], activation: 'tanh', inputLayerNorm: true, rounds: 0 }, new Rng(9, 0));
  t.throws(() => gru.applyWithGates(picked, null, teamSize, sequence, present), /its state/, 'a GRU refuses present rows');
});

t.test('acting on the rows in the step: their logits as acting on every row, the others 0', async (t) => {
  await useBackend('wasm');
  const width = 12;
  const x = tf.randomNormal([present.total, width], 0, 1, 'float32', 10).dataSync() as Float32Array;
  const masks = new Float32Array(teams * 2 * teamSize * teamSize);
  for (let env = 0; env < teams; env++) for (let k = 0; k < 2; k++) for (let i = 0; i < teamSize; i++) for (let j = 0; j < teamSize; j++) {
    masks[((env * 2 + k) * teamSize + i) * teamSize + j] = i !== j && inStep[env * teamSize + i] && inStep[env * teamSize + j] ? 1 : 0;
  }
  for (const [kind, gated] of [['mlp', false], ['commnet', false], ['tarmac', false], ['commnet', true], ['tarmac', true]] as const) {
    const name = `${kind}${gated ? ', gated' : ''}`;
    const actor = makeActor({ kind, inputSize: width, numActions: 5, hidden: [8, 8], activation: 'tanh', inputLayerNorm: true, rounds: kind === 'mlp' ? 0 : 2, gated }, new Rng(11, 0));
    const [masksAll, masksSome] = [new Float32Array(masks), new Float32Array(masks)];
    const all = actorLogits(actor, x, kind === 'mlp' ? null : masksAll, teamSize);
    const some = actorLogits(actor, x, kind === 'mlp' ? null : masksSome, teamSize, { inStep });
    let worst = 0;
    let absentLogits = 0;
    for (let row = 0; row < present.total; row++) {
      for (let a = 0; a < 5; a++) {
        if (inStep[row]) worst = Math.max(worst, Math.abs(all[row * 5 + a] - some[row * 5 + a]));
        else absentLogits = Math.max(absentLogits, Math.abs(some[row * 5 + a]));
      }
    }
    t.ok(worst < 1e-6 && Math.max(...all) > 1e-3, `${name}: the rows in the step (largest difference ${worst.toExponential(1)})`);
    t.equal(absentLogits, 0, `${name}: the others 0`);
    if (gated) t.same([...masksSome], [...masksAll], `${name}: the masks gated alike`);
    const nobody = actorLogits(actor, x, kind === 'mlp' ? null : new Float32Array(masks.length), teamSize, { inStep: new Array(present.total).fill(0) });
    t.ok(nobody.length === all.length && nobody.every((v) => v === 0), `${name}: nobody in the step, every logit 0`);
  }
  const recurrent = makeActor({ kind: 'gru', inputSize: width, numActions: 5, hidden: [8, 8], activation: 'tanh', inputLayerNorm: true, rounds: 0 }, new Rng(11, 0));
  const every = actorLogits(recurrent, x, null, teamSize, { memory: newActorMemory(recurrent, present.total) });
  const told = actorLogits(recurrent, x, null, teamSize, { memory: newActorMemory(recurrent, present.total), inStep });
  t.same([...told], [...every], 'a recurrent actor computes every row (its state runs on)');
  t.throws(() => actorLogits(recurrent, x, null, teamSize, { memory: newActorMemory(recurrent, present.total), inStep: inStep.slice(1) }), /19 rows in the step for 20 rows/);
});
