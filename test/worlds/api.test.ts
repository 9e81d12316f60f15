import t from 'tap';
import { makeWorld, parallelApiCheck, parseParticleSnapshot, worldIds } from '@fleetmind/worlds';

for (const { id } of worldIds()) {
  for (const numEnvs of [1, 5]) {
    t.test(`${id} with ${numEnvs} env(s) keeps the parallel API contract`, (t) => {
      t.doesNotThrow(() => parallelApiCheck(() => makeWorld(id, { numEnvs })));
      t.end();
    });
  }
}

t.test('env e of a batch plays the same episode as a single env (seeded per env)', (t) => {
  const batch = makeWorld('simple_tag_v3', { numEnvs: 3 });
  const single = makeWorld('simple_tag_v3', { numEnvs: 1 });
  const b = batch.reset(11);
  const s = single.reset(11);
  t.same(Array.from(b.observations[0].subarray(0, 16)), Array.from(s.observations[0]));
  t.notSame(Array.from(b.observations[0].subarray(16, 32)), Array.from(s.observations[0]), 'other envs differ');
  t.end();
});

t.test('different seeds give different episodes, the same seed the same', (t) => {
  const w = makeWorld('simple_spread_v3');
  const a = Array.from(w.reset(1).observations[0]);
  const b = Array.from(w.reset(2).observations[0]);
  const c = Array.from(w.reset(1).observations[0]);
  t.notSame(a, b);
  t.same(a, c);
  t.end();
});

t.test('with autoReset an ended env starts over and its last observation is kept', (t) => {
  const w = makeWorld('simple_spread_v3', { numEnvs: 2 });
  w.reset(5);
  const actions = new Int32Array(6).fill(2);
  let r = w.step(actions);
  for (let i = 1; i < 24; i++) r = w.step(actions);
  t.equal(r.episodeEnded[0], 0);
  const before = parseParticleSnapshot(w.id, w.snapshot(0));
  r = w.step(actions);
  t.equal(r.episodeEnded[0], 1);
  t.equal(r.truncations[0], 1);
  t.equal(w.stepsInEpisode(0), 0, 'new episode started');
  t.ok(before.agentVel[0][0] > 0, 'agents were moving');
  t.equal(r.observations[0][0], 0, 'new episode starts at rest');
  t.ok(r.finalObservations[0][0] > 0, 'final observation shows the old velocity');
  t.end();
});

t.test('state() concatenates every agent observation for the MPE worlds', (t) => {
  const w = makeWorld('simple_tag_v3');
  const { observations } = w.reset(2);
  const state = w.state();
  t.same(Array.from(state), observations.flatMap((o) => Array.from(o)));
  t.end();
});

t.test('bad world names, options and actions are refused with a clear error', (t) => {
  t.throws(() => makeWorld('simple_crypto'), { message: /unknown world "simple_crypto"; known worlds: simple_spread_v3/ });
  t.throws(() => makeWorld('spread', { config: { N: 1 } }), { message: /N: Too small/i });
  t.throws(() => makeWorld('spread', { config: { agents: 3 } }), { message: /Unrecognized key/i });
  t.throws(() => makeWorld('spread', { numEnvs: 0 }), { code: 'FM_ERR_WORLD', message: /numEnvs must be a positive integer/ });
  const w = makeWorld('spread', { numEnvs: 2 });
  t.throws(() => w.step(new Int32Array(6)), { message: /before reset/ });
  w.reset(0);
  t.throws(() => w.step(new Int32Array(5)), { message: /expected 6 actions/ });
  t.throws(() => w.step(Int32Array.from([0, 0, 0, 0, 9, 0])), { message: /action 9 of agent_1 in env 1 is outside Discrete\(5\)/ });
  t.throws(() => w.observationSpace('agent_7'), { message: /unknown agent "agent_7"/ });
  t.throws(() => w.setState(0, { agentPos: [[0, 0]], agentVel: [], landmarkPos: [], steps: 0 }), { message: /agentPos must hold 3/ });
  t.end();
});

t.test('simple_spread with N=6 has the upstream observation size 36', (t) => {
  t.equal(makeWorld('spread', { config: { N: 6 } }).observationSpace(0).shape[0], 36);
  t.end();
});
