import t from 'tap';
import { evaluateController, makeWorld, randomController, scriptedController } from '@fleetmind/worlds';

const episodes = (world: string) => makeWorld(world, { numEnvs: 200, autoReset: false });

t.test('scripted spread assigns and reaches landmarks: far better than random', (t) => {
  const world = episodes('simple_spread_v3');
  const scripted = evaluateController(world, scriptedController(world), 1);
  const random = evaluateController(world, randomController(world, 1), 1);
  t.ok(scripted.agent_return_mean > random.agent_return_mean + 10, `scripted ${scripted.agent_return_mean} vs random ${random.agent_return_mean}`);
  t.ok(scripted.agent_return_mean > -8.6, `scripted assignment is near-optimal (${scripted.agent_return_mean})`);
  t.ok(scripted.outcomes.occupied_landmarks_final > 2, 'ends with most landmarks occupied');
  t.end();
});

t.test('scripted tag adversaries catch the prey far more often than random ones', (t) => {
  const world = episodes('simple_tag_v3');
  const scripted = evaluateController(world, scriptedController(world), 2);
  const random = evaluateController(world, randomController(world, 2), 2);
  t.ok(scripted.outcomes.catches > 3 * random.outcomes.catches + 1, `catches per episode ${scripted.outcomes.catches} vs ${random.outcomes.catches}`);
  t.end();
});

t.test('scripted predators capture the prey far more often than random ones', (t) => {
  const world = episodes('grid_predator_prey');
  const scripted = evaluateController(world, scriptedController(world), 3);
  const random = evaluateController(world, randomController(world, 3), 3);
  t.ok(scripted.outcomes.captured > 0.9, `capture rate ${scripted.outcomes.captured}`);
  t.ok(scripted.outcomes.captured > 5 * random.outcomes.captured, `vs random ${random.outcomes.captured}`);
  t.end();
});
