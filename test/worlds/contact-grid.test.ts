// A large MPE world finds the pairs close enough to push through a spatial grid instead of the
// list of every pair (sim-harness/worlds/mpe/particle-world.ts). These tests hold it to the list,
// bit for bit: the same particles stepped both ways keep the same positions and velocities.

import t, { type Test } from 'tap';
import { ParticleWorld, Rng, type EntitySpec } from '@fleetmind/worlds';

const AGENT: EntitySpec = { size: 0.15, mass: 1, movable: true, collide: true, maxSpeed: null, sensitivity: 5 };
const LANDMARK: EntitySpec = { size: 0.05, mass: 1, movable: false, collide: false, maxSpeed: null, sensitivity: 5 };

/** n agents and n landmarks in `envs` envs, placed by `place`, the same in both worlds */
function pair(n: number, envs: number, place: (rng: Rng, e: number, i: number) => [number, number]) {
  const specs = [...Array.from({ length: n }, () => AGENT), ...Array.from({ length: n }, () => LANDMARK)];
  const grid = new ParticleWorld(envs, n, specs);
  const list = new ParticleWorld(envs, n, specs, undefined, { contactGrid: false });
  const rng = new Rng(7);
  for (let e = 0; e < envs; e++) {
    for (let i = 0; i < 2 * n; i++) {
      const [x, y] = place(rng, e, i);
      for (const w of [grid, list]) {
        w.pos[(e * 2 * n + i) * 2] = x;
        w.pos[(e * 2 * n + i) * 2 + 1] = y;
      }
    }
  }
  return { grid, list };
}

/** steps both with the same random actions; every number of both equal, bit for bit (NaN included) */
function stepAlike(t: Test, grid: ParticleWorld, list: ParticleWorld, steps: number, label: string) {
  const rng = new Rng(11);
  const actions = new Int32Array(grid.numEnvs * grid.numAgents);
  for (let s = 0; s < steps; s++) {
    for (let k = 0; k < actions.length; k++) actions[k] = rng.int(5);
    grid.step(actions, false);
    list.step(actions, false);
  }
  const same = (a: Float64Array, b: Float64Array) => Buffer.compare(Buffer.from(a.buffer), Buffer.from(b.buffer)) === 0;
  t.ok(same(grid.pos, list.pos), `${label}: positions bit for bit`);
  t.ok(same(grid.vel, list.vel), `${label}: velocities bit for bit`);
}

t.test('a crowd: the grid finds every pushing pair, in the list\'s order', (t) => {
  // 120 agents in a 2.5 × 2.5 square: most touch several others; two envs with their own crowds
  const { grid, list } = pair(120, 2, (rng, e) => [rng.uniform(-1.25, 1.25) + 3 * e, rng.uniform(-1.25, 1.25)]);
  stepAlike(t, grid, list, 40, 'crowded');
  t.equal(grid.contactStepsByGrid, 80, 'every env-step found its contacts through the grid');
  t.equal(list.contactStepsByGrid, 0, 'the reference looked at every pair');
  t.ok(Array.from(grid.vel).some((v) => v !== 0), 'the particles moved');
  t.end();
});

t.test('a spawn as crowded as 1,000 agents in MPE\'s arena: hundreds of partners each, still in the list\'s order', (t) => {
  // 300 agents in 2 × 2: each within reach of most others (a push reaches 1.05 away), so the
  // partners of one agent are too many for an insertion sort and are sorted another way
  const { grid, list } = pair(300, 1, (rng) => [rng.uniform(-1, 1), rng.uniform(-1, 1)]);
  stepAlike(t, grid, list, 4, 'a crowded spawn');
  t.equal(grid.contactStepsByGrid, 4);
  t.end();
});

t.test('stragglers far away, a line, and a cluster on one point do not lose a pair', (t) => {
  const { grid, list } = pair(64, 1, (rng, _e, i) => {
    if (i === 0) return [40, -40]; // far outside the grid's span
    if (i === 1) return [40.1, -40]; // and touching the first
    if (i < 20) return [0.05 * i, 0]; // a line of touching agents
    if (i < 30) return [1 + 1e-9 * i, 1]; // nearly one point
    return [rng.uniform(-3, 3), rng.uniform(-3, 3)];
  });
  stepAlike(t, grid, list, 25, 'stragglers, a line, a cluster');
  t.equal(grid.contactStepsByGrid, 25);
  t.end();
});

t.test('positions no grid can file (one not finite) are stepped through the list, as before', (t) => {
  const { grid, list } = pair(40, 1, (rng, _e, i) => (i === 3 ? [NaN, 0] : [rng.uniform(-2, 2), rng.uniform(-2, 2)]));
  stepAlike(t, grid, list, 5, 'a NaN position');
  t.equal(grid.contactStepsByGrid, 0, 'the grid refused every step');
  t.end();
});

t.test('a small world looks at every pair', (t) => {
  const { grid, list } = pair(20, 1, (rng) => [rng.uniform(-1, 1), rng.uniform(-1, 1)]);
  stepAlike(t, grid, list, 10, 'small');
  t.equal(grid.contactStepsByGrid, 0);
  t.end();
});
