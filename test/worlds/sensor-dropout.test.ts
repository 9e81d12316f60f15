import t from 'tap';
import { makeWorld, parallelApiCheck, Rng } from '@fleetmind/worlds';

// simple_spread with sensorDropout: a world where memory matters (issue 19). Every observation is
// checked against the same world without dropout, played with the same actions.

const E = 16;
const N = 3;
const FULL = 18; // PettingZoo's observation for N = 3

function actionsFor(rng: Rng): Int32Array {
  return Int32Array.from({ length: E * N }, () => rng.int(5));
}

t.test('each frame is either what the agent would sense, or lost but for its own position and velocity', (t) => {
  const lossy = makeWorld('simple_spread', { numEnvs: E, config: { sensorDropout: 0.5 } });
  const full = makeWorld('simple_spread', { numEnvs: E });
  t.equal(lossy.observationSpace(0).shape[0], FULL + 1, 'one field more: sensed');
  t.same(lossy.observationFields(1), [...full.observationFields(1), 'sensed']);
  let obs = lossy.reset(7).observations;
  let ref = full.reset(7).observations;
  const rng = new Rng(3);
  let frames = 0;
  let lost = 0;
  let mismatches = 0;
  let stateMismatches = 0;
  for (let step = 0; step <= 60; step++) { // past two episode ends (auto-reset)
    for (let i = 0; i < N; i++) {
      for (let e = 0; e < E; e++) {
        const o = obs[i].subarray(e * (FULL + 1), (e + 1) * (FULL + 1));
        const r = ref[i].subarray(e * FULL, (e + 1) * FULL);
        frames++;
        const sensed = o[FULL];
        if (sensed !== 0 && sensed !== 1) mismatches++;
        if (sensed === 0) lost++;
        for (let k = 0; k < FULL; k++) if (o[k] !== (sensed === 1 || k < 4 ? r[k] : 0)) mismatches++;
      }
    }
    // the critic's state is never blanked: every agent's whole observation, sensed = 1
    const state = lossy.state();
    const fullState = full.state();
    for (let e = 0; e < E; e++) {
      for (let i = 0; i < N; i++) {
        const at = e * N * (FULL + 1) + i * (FULL + 1);
        for (let k = 0; k < FULL; k++) if (state[at + k] !== fullState[e * N * FULL + i * FULL + k]) stateMismatches++;
        if (state[at + FULL] !== 1) stateMismatches++;
      }
    }
    const actions = actionsFor(rng);
    obs = lossy.step(actions).observations;
    ref = full.step(actions).observations;
  }
  t.equal(mismatches, 0, `${frames} frames: sensed ones whole, lost ones zero but for self_vel and self_pos`);
  t.equal(stateMismatches, 0, 'the state is the whole observations');
  t.ok(Math.abs(lost / frames - 0.5) < 0.03, `about half the frames lost (${lost} of ${frames})`);
  t.end();
});

t.test('the dropout probability holds at its ends, and outside [0, 1] it is refused', (t) => {
  const never = makeWorld('simple_spread', { config: { sensorDropout: 0 } });
  t.equal(never.observationSpace(0).shape[0], FULL, '0: PettingZoo\'s observation, no sensed field');
  const always = makeWorld('simple_spread', { numEnvs: 4, config: { sensorDropout: 1 } });
  const { observations } = always.reset(1);
  const rng = new Rng(9);
  let sensed = 0;
  for (let step = 0; step < 30; step++) {
    for (const o of observations) for (let e = 0; e < 4; e++) sensed += o[e * (FULL + 1) + FULL];
    always.step(Int32Array.from({ length: 4 * N }, () => rng.int(5)));
  }
  t.equal(sensed, 0, '1: every frame lost');
  t.throws(() => makeWorld('simple_spread', { config: { sensorDropout: 1.5 } }), { message: /sensorDropout/ });
  t.throws(() => makeWorld('simple_spread', { config: { sensorDropout: -0.1 } }), { message: /sensorDropout/ });
  t.end();
});

t.test('a restored env loses exactly the frames the original loses; a snapshot without its sensor is refused', (t) => {
  const original = makeWorld('simple_spread', { numEnvs: 1, config: { sensorDropout: 0.4 } });
  const rng = new Rng(5);
  original.reset(2);
  for (let s = 0; s < 7; s++) original.step(actionsFor(rng).subarray(0, N));
  const snapshot = JSON.parse(JSON.stringify(original.snapshot(0))); // through JSON, as a checkpoint goes
  t.match(snapshot.sensor, { key: Number, step: 7 });
  const restored = makeWorld('simple_spread', { numEnvs: 1, config: { sensorDropout: 0.4 } });
  restored.setState(0, snapshot);
  // a checkpoint carries the random streams too: the two go on alike across episode ends
  const resumed = makeWorld('simple_spread', { numEnvs: 1, config: { sensorDropout: 0.4 } });
  resumed.restore(JSON.parse(JSON.stringify(original.checkpoint())));
  let differing = 0;
  let lostSeen = 0;
  for (let s = 7; s < 60; s++) {
    const a = actionsFor(rng).subarray(0, N);
    const x = original.step(a).observations;
    const z = resumed.step(a).observations;
    // the snapshot alone holds the episode (not the stream its next one is drawn from)
    const y = s < 24 ? restored.step(a).observations : z;
    for (let i = 0; i < N; i++) {
      if (Array.from(x[i]).join() !== Array.from(y[i]).join() || Array.from(x[i]).join() !== Array.from(z[i]).join()) differing++;
      if (x[i][FULL] === 0) lostSeen++;
    }
  }
  t.equal(differing, 0, 'the same observations, lost frames included (restored: to the episode\'s end; resumed: across two more)');
  t.ok(lostSeen > 10, `frames were lost in the comparison (${lostSeen})`);
  const { sensor: _dropped, ...withoutSensor } = snapshot;
  t.throws(() => restored.setState(0, withoutSensor), { message: /snapshot\.sensor: .*\{key, step\}/ });
  t.throws(() => restored.setState(0, { ...snapshot, sensor: { key: -1, step: 0 } }), { message: /snapshot\.sensor\.key/ });
  t.end();
});

t.test('simple_spread with sensor dropout keeps the parallel API contract', (t) => {
  for (const numEnvs of [1, 5]) {
    t.doesNotThrow(() => parallelApiCheck(() => makeWorld('simple_spread', { numEnvs, config: { sensorDropout: 0.3 } })));
  }
  t.end();
});
