import t from 'tap';
import { GridPredatorPreyCore, makeWorld } from '@fleetmind/worlds';

const place = (cells: number[][]) => ({ agentPos: cells, agentVel: cells.map(() => [0, 0]), landmarkPos: [], steps: 0 });
// moves: 0 up (y+1), 1 down (y−1), 2 left (x−1), 3 right (x+1)

t.test('capture needs every predator within 1.5 of the prey; predators +10, prey −10, episode over', (t) => {
  const w = makeWorld('grid_predator_prey', { autoReset: false });
  w.reset(0);
  // after the moves: predators at (4,5), (6,6), (5,4) around the prey at (5,5): distances 1, √2, 1
  w.setState(0, place([[3, 5], [6, 7], [5, 3], [5, 5]]));
  const r = w.step(Int32Array.from([3, 1, 0, 0]).map((a, i) => (i === 3 ? 1 : a)));
  // the prey moved down to (5,4): predators at (4,5) √2, (6,6) √5 → no capture
  t.equal(r.infos.captured[0], 0);
  t.same(Array.from(r.rewards), [-0.01, -0.01, -0.01, 1]);
  w.setState(0, place([[3, 5], [6, 7], [5, 3], [5, 5]]));
  const r2 = w.step(Int32Array.from([3, 1, 0, 2]));
  // prey left to (4,5): predators at (4,5) 0, (6,6) √5 → still no capture
  t.equal(r2.infos.captured[0], 0);
  w.setState(0, place([[3, 5], [6, 7], [5, 3], [5, 6]]));
  const r3 = w.step(Int32Array.from([3, 1, 0, 1]));
  // prey down to (5,5): predators (4,5) 1, (6,6) √2, (5,4) 1 → capture
  t.equal(r3.infos.captured[0], 1);
  t.same(Array.from(r3.rewards), [10, 10, 10, -10]);
  t.same(Array.from(r3.terminations), [1, 1, 1, 1]);
  t.same(Array.from(r3.truncations), [0, 0, 0, 0]);
  t.equal(r3.infos.steps_to_capture[0], 1);
  t.end();
});

t.test('moves are clipped at the walls and the episode is truncated at 100 steps', (t) => {
  const w = makeWorld('grid_predator_prey', { autoReset: false });
  w.reset(0);
  w.setState(0, place([[0, 0], [0, 9], [9, 0], [9, 9]]));
  let r = w.step(Int32Array.from([2, 0, 1, 3]));
  t.same(w.snapshot(0).agentPos, [[0, 0], [0, 9], [9, 0], [9, 9]]);
  for (let i = 1; i < 100; i++) r = w.step(Int32Array.from([2, 0, 1, 3]));
  t.same(Array.from(r.truncations), [1, 1, 1, 1]);
  t.end();
});

t.test('observations follow the seed: predators see prey − self then every predator − self', (t) => {
  const w = makeWorld('grid_predator_prey', { autoReset: false });
  const { observations } = w.reset(0);
  w.setState(0, place([[1, 2], [3, 4], [5, 6], [7, 8]]));
  t.same(Array.from(observations[1]), [4, 4, -2, -2, 0, 0, 2, 2]);
  t.same(Array.from(observations[3]), [-6, -6, -4, -4, -2, -2]);
  t.same(Array.from(w.state()), [1, 2, 3, 4, 5, 6, 7, 8]);
  t.end();
});

t.test("the discrete state index is the seed's base-5 number of binned coordinates", (t) => {
  const core = new GridPredatorPreyCore(1);
  core.setState(0, place([[0, 0], [2, 3], [9, 9], [4, 5]]));
  // bins: 0,0, 1,1, 4,4, 2,2 → digits read with the prey's y last
  const digits = [0, 0, 1, 1, 4, 4, 2, 2];
  const expected = digits.reduce((acc, d) => acc * 5 + d, 0);
  t.equal(core.discreteState(0), expected);
  t.equal(core.numDiscreteStates, 390625);
  t.end();
});
