import t from 'tap';
import { makeWorld, randomController, scriptedController, type Controller, type World } from '@fleetmind/sim-harness/worlds';

/** Mean per-agent episode return (per role) and summed infos over `episodes` envs run once each. */
function play(world: World, controller: Controller, seed: number) {
  const n = world.possibleAgents.length;
  let { observations } = world.reset(seed);
  const actions = new Int32Array(world.numEnvs * n);
  const returns = new Float64Array(n);
  const infos: Record<string, number> = {};
  const done = new Uint8Array(world.numEnvs);
  for (let t = 0; t < world.maxCycles; t++) {
    controller.act(observations, actions);
    const r = world.step(actions);
    for (let e = 0; e < world.numEnvs; e++) {
      if (done[e]) continue;
      for (let i = 0; i < n; i++) returns[i] += r.rewards[e * n + i] / world.numEnvs;
      for (const k of world.infoKeys) infos[k] = (infos[k] ?? 0) + r.infos[k][e];
      if (r.episodeEnded[e]) done[e] = 1;
    }
    observations = r.observations;
  }
  return { returns: Array.from(returns), infos };
}

t.test('scripted spread assigns and reaches landmarks: far better than random', (t) => {
  const world = makeWorld('simple_spread_v3', { numEnvs: 200 });
  const scripted = play(world, scriptedController(world), 1);
  const random = play(world, randomController(world, 1), 1);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  t.ok(mean(scripted.returns) > mean(random.returns) + 10, `scripted ${mean(scripted.returns)} vs random ${mean(random.returns)}`);
  t.ok(scripted.infos.occupied_landmarks > 5 * random.infos.occupied_landmarks, 'occupies landmarks');
  t.end();
});

t.test('scripted tag adversaries catch the prey far more often than random ones', (t) => {
  const world = makeWorld('simple_tag_v3', { numEnvs: 200 });
  const scripted = play(world, scriptedController(world), 2);
  const random = play(world, randomController(world, 2), 2);
  t.ok(scripted.infos.catches > 3 * random.infos.catches + 10, `catches ${scripted.infos.catches} vs ${random.infos.catches}`);
  t.end();
});

t.test('scripted predators capture the prey far more often than random ones', (t) => {
  const world = makeWorld('grid_predator_prey', { numEnvs: 200 });
  const scripted = play(world, scriptedController(world), 3);
  const random = play(world, randomController(world, 3), 3);
  t.ok(scripted.infos.captured > 2 * random.infos.captured + 20, `captures ${scripted.infos.captured} vs ${random.infos.captured}`);
  t.end();
});
