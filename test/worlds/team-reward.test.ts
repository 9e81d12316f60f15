import t from 'tap';
import { makeWorld, Rng } from '@fleetmind/worlds';

// simple_spread teamReward: every agent rewarded the team's mean (the MAPPO paper's code gives each
// the team's sum), checked step by step against the same world with its own rewards.

t.test("simple_spread teamReward: each agent gets the mean of what the agents would get, so the team's return is unchanged", (t) => {
  const E = 32;
  const N = 3;
  const own = makeWorld('simple_spread', { numEnvs: E });
  const team = makeWorld('simple_spread', { numEnvs: E, config: { teamReward: true } });
  own.reset(5);
  team.reset(5);
  const rng = new Rng(9);
  let unequal = 0;
  let worst = 0;
  for (let step = 0; step < 60; step++) { // past two episode ends (auto-reset)
    const actions = Int32Array.from({ length: E * N }, () => rng.int(5));
    const a = Float64Array.from(own.step(actions).rewards);
    const b = team.step(actions).rewards;
    for (let e = 0; e < E; e++) {
      const mine = [0, 1, 2].map((i) => a[e * N + i]);
      const mean = (mine[0] + mine[1] + mine[2]) / 3;
      if (Math.max(...mine) - Math.min(...mine) > 1e-9) unequal++;
      for (let i = 0; i < N; i++) worst = Math.max(worst, Math.abs(b[e * N + i] - mean));
    }
  }
  t.ok(unequal > 0, `agents' own rewards differed (a collision) at ${unequal} env-steps`);
  t.ok(worst < 1e-12, `each agent's reward is the team's mean, to ${worst.toExponential(1)}`);
  t.throws(() => makeWorld('simple_spread', { config: { teamReward: 'yes' } }), { message: /teamReward/ });
  t.end();
});
