import t from 'tap';
import { peerMean, Rng, sampleAlive, sampleCommMask } from '@fleetmind/worlds';

const at = (mask: Float32Array, e: number, n: number, k: number, env: number, i: number, j: number) => mask[((env * 2 + k) * n + i) * n + j];

t.test('with no dropout every agent hears every other agent, never itself', (t) => {
  const mask = sampleCommMask(new Rng(1), { numEnvs: 2, numAgents: 3, rounds: 2, dropout: 0 });
  for (let k = 0; k < 2; k++) for (let env = 0; env < 2; env++) for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) {
    t.equal(at(mask, 2, 3, k, env, i, j), i === j ? 0 : 1);
  }
  t.end();
});

t.test('message dropout removes links independently, at the asked rate, per round', (t) => {
  const e = 400;
  const n = 4;
  const mask = sampleCommMask(new Rng(2), { numEnvs: e, numAgents: n, rounds: 2, dropout: 0.3 });
  let kept = 0;
  let sameInBothRounds = 0;
  for (let env = 0; env < e; env++) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    if (i === j) continue;
    kept += at(mask, e, n, 0, env, i, j);
    sameInBothRounds += at(mask, e, n, 0, env, i, j) === at(mask, e, n, 1, env, i, j) ? 1 : 0;
  }
  const links = e * n * (n - 1);
  t.ok(Math.abs(kept / links - 0.7) < 0.03, `kept ${kept / links}`);
  t.ok(Math.abs(sameInBothRounds / links - (0.7 * 0.7 + 0.3 * 0.3)) < 0.03, 'rounds are independent');
  t.end();
});

t.test('dead agents neither send nor receive, and the radius cuts far links', (t) => {
  const alive = Uint8Array.from([1, 0, 1, 1]);
  const positions = Float32Array.from([0, 0, 0.1, 0, 0.5, 0, 3, 0]);
  const mask = sampleCommMask(new Rng(3), { numEnvs: 1, numAgents: 4, rounds: 1, dropout: 0, alive, radius: 1, positions });
  const row = (i: number) => [0, 1, 2, 3].map((j) => at(mask, 1, 4, 0, 0, i, j));
  t.same(row(0), [0, 0, 1, 0], 'hears 2 (close, alive); not dead 1 nor far 3');
  t.same(row(1), [0, 0, 0, 0], 'the dead hear nothing');
  t.same(row(3), [0, 0, 0, 0], 'out of range of everyone');
  t.throws(() => sampleCommMask(new Rng(3), { numEnvs: 1, numAgents: 2, rounds: 1, dropout: 0, radius: 1 }), { message: /needs agent positions/ });
  t.throws(() => sampleCommMask(new Rng(3), { numEnvs: 1, numAgents: 2, rounds: 1, dropout: 1.5 }), { message: /in \[0, 1\]/ });
  const dead = sampleAlive(new Rng(4), 1000, 3, 0.1);
  t.ok(Math.abs(dead.filter((a) => a === 0).length / 3000 - 0.1) < 0.02);
  t.end();
});

t.test('the peer mean averages the peers heard, and is zero when none was heard', (t) => {
  // one env, 3 agents, hidden size 2
  const h = Float32Array.from([1, 2, 3, 4, 5, 6]);
  const mask = Float32Array.from([0, 1, 1, 0, 0, 0, 1, 0, 0]);
  t.same(Array.from(peerMean(h, mask, 1, 3)), [4, 5, 0, 0, 1, 2]);
  t.end();
});
