import t from 'tap';
import { makeWorld, parseParticleSnapshot } from '@fleetmind/worlds';

t.test("simple_spread landmarkRange: the landmarks of the same draws, scaled (the MAPPO paper's code: 0.8); agents as before", (t) => {
  const usual = makeWorld('simple_spread', { numEnvs: 8 });
  const mappo = makeWorld('simple_spread', { numEnvs: 8, config: { landmarkRange: 0.8 } });
  usual.reset(4);
  mappo.reset(4);
  for (let e = 0; e < 8; e++) {
    const a = parseParticleSnapshot(usual.id, usual.snapshot(e));
    const b = parseParticleSnapshot(mappo.id, mappo.snapshot(e));
    t.same(b.agentPos, a.agentPos, `env ${e}: the agents start where they would`);
    t.same(b.landmarkPos, a.landmarkPos.map(([x, y]) => [0.8 * x, 0.8 * y]), `env ${e}: each landmark at 0.8 of where it would be`);
  }
  t.throws(() => makeWorld('simple_spread', { config: { landmarkRange: 0 } }), { message: /landmarkRange/ });
  t.end();
});
