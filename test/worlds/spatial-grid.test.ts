// A large simple_spread answers its nearest-neighbour and collision questions through a spatial
// grid (sim-harness/worlds/mpe/spatial-grid.ts). These tests hold it to the all-pairs answers, bit
// for bit: observations, rewards and infos computed here by scanning every particle in index order.

import t, { type Test } from 'tap';
import { makeWorld, parseParticleSnapshot, type BatchedWorld } from '@fleetmind/worlds';

const AGENT_SIZE = 0.15;
const OCCUPIED_DISTANCE = 0.1;

/** env e's agents and landmarks, as the world holds them */
function positions(world: BatchedWorld, e: number): { agents: number[][]; landmarks: number[][] } {
  const s = parseParticleSnapshot(world.id, world.snapshot(e));
  return { agents: s.agentPos.map((p) => [...p]), landmarks: s.landmarkPos.map((p) => [...p]) };
}

/** distance from a to b as MPE computes it */
const distance = (a: number[], b: number[]) => {
  const dx = a[0] - b[0];
  const dy = a[1] - b[1];
  return Math.sqrt(dx * dx + dy * dy);
};

/** the k of `points` nearest to p, by a scan in index order (ties: the lower index), `skip` left out */
function kNearest(p: number[], points: number[][], k: number, skip: number): number[] {
  return points.map((q, i) => ({ i, d: distance(p, q) })).filter(({ i }) => i !== skip)
    .sort((a, b) => a.d - b.d || a.i - b.i).slice(0, k).map(({ i }) => i);
}

/** what the all-pairs world gives: agent i's observation, every reward, the infos */
function expected(world: BatchedWorld, e: number, k: number) {
  const { agents, landmarks } = positions(world, e);
  const observations = agents.map((p, i) => {
    const rel = (q: number[]) => [q[0] - p[0], q[1] - p[1]];
    return Float32Array.from([
      ...kNearest(p, landmarks, k, -1).flatMap((l) => rel(landmarks[l])),
      ...kNearest(p, agents, k, i).flatMap((a) => rel(agents[a])),
    ]);
  });
  let global = 0;
  for (const l of landmarks) global -= Math.min(...agents.map((a) => distance(a, l)));
  const overlaps = agents.map((p, i) => agents.filter((q, a) => a !== i && distance(q, p) < 2 * AGENT_SIZE).length);
  const rewards = overlaps.map((n) => global * 0.5 + (0 - n) * 0.5);
  const occupied = landmarks.filter((l) => Math.min(...agents.map((a) => distance(a, l))) < OCCUPIED_DISTANCE).length;
  return { observations, rewards, occupied, collisions: overlaps.reduce((s, n) => s + n, 0) / 2 };
}

/** what a reset or a step returned (a reset has no rewards, and its infos are not yet written) */
interface Returned {
  observations: Float32Array[];
  rewards?: Float64Array;
  infos: Record<string, Float64Array>;
}

function check(t: Test, world: BatchedWorld, returned: Returned, label: string) {
  const n = world.possibleAgents.length;
  const k = 3;
  for (let e = 0; e < world.numEnvs; e++) {
    const want = expected(world, e, k);
    const width = world.observationSpace(0).shape[0];
    const got = want.observations.map((_, i) => returned.observations[i].slice(e * width + 4, e * width + 4 + 4 * k));
    t.same(got, want.observations, `${label}, env ${e}: every agent's k nearest landmarks and agents, in order`);
    if (!returned.rewards) continue;
    t.same(Array.from(returned.rewards.subarray(e * n, (e + 1) * n)), want.rewards, `${label}, env ${e}: rewards`);
    t.same([returned.infos.occupied_landmarks[e], returned.infos.collisions[e]], [want.occupied, want.collisions], `${label}, env ${e}: infos`);
  }
}

t.test('a large simple_spread gives exactly the all-pairs observations, rewards and infos, step after step', (t) => {
  const world = makeWorld('simple_spread', { numEnvs: 2, config: { N: 64, neighbours: 3 }, autoReset: false });
  check(t, world, world.reset(11), 'reset');
  let seed = 5;
  const actions = new Int32Array(2 * 64);
  let collided = 0;
  for (let step = 0; step < 10; step++) {
    for (let j = 0; j < actions.length; j++) actions[j] = (seed = (seed * 16807) % 2147483647) % 5;
    const r = world.step(actions);
    collided += r.infos.collisions[0] + r.infos.collisions[1];
    check(t, world, r, `step ${step + 1}`);
  }
  t.ok(collided > 0, `agents collided (${collided} pair-steps): the collision terms were exercised`);
  t.end();
});

t.test('on a lattice, where many distances are equal, the nearest are the lower-indexed, as in an index-order scan', (t) => {
  const world = makeWorld('simple_spread', { config: { N: 48, neighbours: 3 } });
  // (reset's arrays are the world's own: setState observes into them)
  const { observations } = world.reset(0);
  // agents 0.5 apart on an 8 × 6 lattice, off zero; landmarks between them and far outside the agents' spread
  const agentPos = Array.from({ length: 48 }, (_, i) => [0.125 + 0.5 * (i % 8), 0.125 + 0.5 * Math.floor(i / 8)]);
  const landmarkPos = Array.from({ length: 48 }, (_, i) => (i < 40 ? [0.375 + 0.5 * (i % 8), 0.375 + 0.5 * Math.floor(i / 8)] : [50 + i, -30]));
  world.setState(0, { agentPos, agentVel: agentPos.map(() => [0, 0]), landmarkPos, steps: 0 });
  check(t, world, { observations, infos: {} }, 'lattice');
  // agent 9 has four agents at 0.5: the three it sees are the lower-indexed ones (1, 8, 10), not 17
  const width = world.observationSpace(0).shape[0];
  const seen = Array.from(observations[9].slice(10, 16));
  t.same(seen, [0, -0.5, -0.5, 0, 0.5, 0], 'agent 9 sees agents 1, 8 and 10 of its four at 0.5');
  t.equal(width, 22);
  t.end();
});

t.test('uneven spreads (clusters, stragglers, lines): still exactly the all-pairs nearest', (t) => {
  const world = makeWorld('simple_spread', { config: { N: 40, neighbours: 3 } });
  const { observations } = world.reset(0);
  let seed = 99;
  const uniform = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const point = (kind: number): number[] => {
    if (kind === 0) return [2 * uniform() - 1, 2 * uniform() - 1]; // the usual square
    if (kind === 1) return [3 + 0.05 * uniform(), 3 + 0.05 * uniform()]; // a tight cluster
    if (kind === 2) return [20 * uniform() - 10, 0.01 * uniform()]; // a long thin line
    return [100 * uniform() - 50, 100 * uniform() - 50]; // stragglers far out
  };
  let mismatches = 0;
  for (let config = 0; config < 300; config++) {
    const mix = () => Math.floor(uniform() * 4);
    const agentPos = Array.from({ length: 40 }, () => point(config % 5 === 0 ? 0 : mix()));
    const landmarkPos = Array.from({ length: 40 }, () => point(mix()));
    world.setState(0, { agentPos, agentVel: agentPos.map(() => [0, 0]), landmarkPos, steps: 0 });
    const want = expected(world, 0, 3);
    want.observations.forEach((o, i) => { if (!o.every((v, j) => v === observations[i][4 + j])) mismatches++; });
  }
  t.equal(mismatches, 0, 'every agent of 300 configurations sees exactly what an index-order scan finds');
  t.end();
});

t.test('a spread too wide for any grid (its width overflows) is answered by the scan over every particle', (t) => {
  const world = makeWorld('simple_spread', { config: { N: 40, neighbours: 3 } });
  const { observations } = world.reset(0);
  const agentPos = Array.from({ length: 40 }, (_, i) => [Math.sin(i), Math.cos(3 * i)]);
  agentPos[0] = [1.7e308, 0];
  agentPos[1] = [-1.7e308, 0.5];
  const landmarkPos = Array.from({ length: 40 }, (_, i) => [Math.cos(i), Math.sin(5 * i)]);
  world.setState(0, { agentPos, agentVel: agentPos.map(() => [0, 0]), landmarkPos, steps: 0 });
  const want = expected(world, 0, 3);
  t.same(want.observations.map((_, i) => observations[i].slice(4, 16)), want.observations, 'every agent sees what an index-order scan finds');
  t.end();
});
