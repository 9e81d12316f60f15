// Continuous actions (PettingZoo's continuous_actions): the MPE worlds take Box(0, 1, (5,))
// pushes. They keep the world contract; a one-hot push acts exactly as the discrete action of
// its index (so the scripted tag controllers drive them, episode for episode the same), the
// scripted spread controller pushes in proportion; pushes are clipped into the box as upstream
// clips them, and NaN or a wrong shape is refused.

import t from 'tap';
import { discreteActions, evaluateController, makeWorld, parallelApiCheck, randomController, scriptedController, WorldError } from '@fleetmind/worlds';

for (const id of ['simple_spread_v3', 'simple_tag_v3']) {
  t.test(`${id} with continuousActions keeps the world contract`, (t) => {
    const make = () => makeWorld(id, { numEnvs: 4, config: { continuousActions: true } });
    t.doesNotThrow(() => parallelApiCheck(make));
    t.same(make().actionSpace(0), { kind: 'continuous', shape: [5], low: [0, 0, 0, 0, 0], high: [1, 1, 1, 1, 1], dtype: 'float32' });
    t.end();
  });
}

t.test('simple_tag_v3: one-hot pushes play exactly the discrete episodes', (t) => {
  const discrete = makeWorld('simple_tag', { numEnvs: 20, autoReset: false });
  const continuous = makeWorld('simple_tag', { numEnvs: 20, autoReset: false, config: { continuousActions: true } });
  const a = evaluateController(discrete, scriptedController(discrete), 3);
  const b = evaluateController(continuous, scriptedController(continuous), 3);
  t.same(b.episode_team_returns, a.episode_team_returns, 'the same returns, episode by episode');
  t.same(b.outcomes, a.outcomes);
  t.end();
});

t.test('simple_spread_v3: the scripted controller pushes in proportion, and does better than any one direction', (t) => {
  const discrete = makeWorld('simple_spread', { numEnvs: 200, autoReset: false });
  const continuous = makeWorld('simple_spread', { numEnvs: 200, autoReset: false, config: { continuousActions: true } });
  const oneDirection = evaluateController(discrete, scriptedController(discrete), 3).agent_return_mean;
  const proportional = evaluateController(continuous, scriptedController(continuous), 3).agent_return_mean;
  const random = evaluateController(continuous, randomController(continuous, 3), 3).agent_return_mean;
  t.ok(proportional > oneDirection + 1, `proportional ${proportional.toFixed(3)} vs one direction ${oneDirection.toFixed(3)}`);
  t.ok(oneDirection > random + 10, `both far above random ${random.toFixed(3)}`);
  t.end();
});

t.test('pushes outside the box are clipped into it; NaN and wrong shapes are refused', (t) => {
  const world = makeWorld('simple_spread', { numEnvs: 1, config: { continuousActions: true } });
  const twin = makeWorld('simple_spread', { numEnvs: 1, config: { continuousActions: true } });
  world.reset(5);
  twin.reset(5);
  world.step(Float32Array.from([0, 0, 1.7, -3, 0.25, 9, 9, 9, 9, 9, 0.5, -1, -1, -1, 2]));
  twin.step(Float32Array.from([0, 0, 1, 0, 0.25, 1, 1, 1, 1, 1, 0.5, 0, 0, 0, 1]));
  for (let i = 0; i < 3; i++) t.same(world.actionForce(0, i), twin.actionForce(0, i), `agent_${i}: the clipped push`);
  t.same(world.actionForce(0, 0), [5, 1.25], 'u = (a2 − a1, a4 − a3) · 5 after clipping');
  t.same(world.actionForce(0, 2), [0, 5], 'component 0 is ignored');
  t.throws(() => world.step(new Float32Array(15).fill(Number.NaN)), { message: /action of agent_0 in env 0 has NaN at component 0/ });
  t.throws(() => world.step(new Float32Array(14)), { message: /expected 15 action values \(\[E=1, N=3, D=5\]\), got 14/ });
  t.throws(() => world.step(new Int32Array(3)), { message: /continuous actions must be a Float32Array/ });
  t.throws(() => discreteActions(world, 0, 'MAPPO/IPPO'), WorldError);
  t.throws(() => discreteActions(world, 0, 'MAPPO/IPPO'), { message: /MAPPO\/IPPO needs discrete actions; simple_spread_v3 here has continuous ones \(Box of 5\)/ });
  t.end();
});
