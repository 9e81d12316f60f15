import t from 'tap';
import { boundPenalty, logAddExp0, makeWorld, minCostAssignment, parseParticleSnapshot } from '@fleetmind/worlds';

t.test('logAddExp0 follows numpy branch for branch', (t) => {
  t.equal(logAddExp0(0), Math.LN2);
  t.equal(logAddExp0(-3), Math.log1p(Math.exp(-3)));
  t.equal(logAddExp0(4), 4 + Math.log1p(Math.exp(-4)));
  t.ok(logAddExp0(-700) > 0, 'no cut-off: far-apart pairs still get a tiny positive penetration');
  // far apart, log1p(exp(z)) is exp(z) itself and is not computed: the same bits on both sides of where that starts
  let differ = 0;
  for (let z = -30; z > -60; z -= 0.001) if (logAddExp0(z) !== Math.log1p(Math.exp(z))) differ++;
  t.equal(differ, 0, 'logAddExp0(z) is log1p(exp(z)) bit for bit from −30 to −60');
  t.end();
});

t.test('the prey boundary penalty is 0 inside 0.9, linear to 1.0, then exponential capped at 10', (t) => {
  t.equal(boundPenalty(0.5), 0);
  t.equal(boundPenalty(0.95), (0.95 - 0.9) * 10);
  t.equal(boundPenalty(1.2), Math.exp(2 * 1.2 - 2));
  t.equal(boundPenalty(3), 10);
  t.end();
});

t.test('minimum-cost assignment solves a hand-worked 3x3 case', (t) => {
  // rows: agents, columns: landmarks; the optimum is 0→1, 1→0, 2→2 with cost 1 + 2 + 2 = 5
  const cost = Float64Array.from([4, 1, 3, 2, 0, 5, 3, 2, 2]);
  t.same(Array.from(minCostAssignment(cost, 3)), [1, 0, 2]);
  t.end();
});

t.test('an action first moves an agent one step later (position uses the old velocity)', (t) => {
  const world = makeWorld('simple_spread_v3', { autoReset: false });
  world.reset(3);
  world.setState(0, { agentPos: [[0, 0], [1, 1], [-1, 1]], agentVel: [[0, 0], [0, 0], [0, 0]], landmarkPos: [[0.5, 0], [0, 0.5], [-0.5, 0]], steps: 0 });
  world.step(Int32Array.from([2, 0, 0]));
  let s = parseParticleSnapshot(world.id, world.snapshot(0));
  t.same(s.agentPos[0], [0, 0], 'not moved after the first step');
  t.same(s.agentVel[0], [0.5, 0], 'velocity = force/mass·dt = 5·0.1');
  world.step(Int32Array.from([0, 0, 0]));
  s = parseParticleSnapshot(world.id, world.snapshot(0));
  t.same(s.agentPos[0], [0.05, 0], 'moved by v·dt');
  t.same(s.agentVel[0], [0.375, 0], 'damped by 0.75');
  t.end();
});

t.test('overlapping spread agents are pushed apart and each loses 0.5 per overlap', (t) => {
  const world = makeWorld('simple_spread_v3', { autoReset: false });
  world.reset(0);
  world.setState(0, { agentPos: [[0, 0], [0.1, 0], [2, 2]], agentVel: [[0, 0], [0, 0], [0, 0]], landmarkPos: [[0, 0], [0.1, 0], [2, 2]], steps: 0 });
  const r = world.step(Int32Array.from([0, 0, 0]));
  const s = parseParticleSnapshot(world.id, world.snapshot(0));
  t.ok(s.agentVel[0][0] < 0 && s.agentVel[1][0] > 0, 'contact force pushes them apart');
  t.equal(r.infos.collisions[0], 1);
  t.equal(r.infos.occupied_landmarks[0], 3);
  t.equal(r.rewards[0], -0.5, 'global term 0, one overlap');
  t.equal(r.rewards[2], 0);
  t.end();
});
