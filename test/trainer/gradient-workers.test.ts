// Data-parallel MAPPO updates: each minibatch's gradient in gradientShards parts, computed on
// worker threads (trainer/algos/gradient-pool.ts). A run's numbers depend on its parts, never on
// its threads; and a worker that cannot start says why.
import t from 'tap';
import { defaultMappoConfig, GradientPool, trainMappo, useBackend, type MappoCheckpoint, type MappoConfig } from '@fleetmind/trainer';


t.before(async () => { await useBackend('wasm'); });

const weightsOf = (c: MappoCheckpoint) => JSON.stringify(c.roles.map((r) => [r.actor, r.critic, r.actorOptimizer, r.criticOptimizer, r.valueNorm]));

const cases: [string, MappoConfig][] = [
  ['continuous simple_spread (a Beta policy, MLP)', { ...defaultMappoConfig, numEnvs: 32, totalSteps: 3_200, worldConfig: { continuousActions: true } }],
  ['traffic junction easy (a gated CommNet-GRU: cars that come and go, memory, gates, sparse inputs)', {
    ...defaultMappoConfig, world: 'traffic_junction_v0', numEnvs: 16, totalSteps: 1_600, actor: 'commnet-gru', gate: true, entropyCoef: 0.03,
  }],
];

for (const [name, base] of cases) {
  t.test(`${name}: two gradient parts on two threads train exactly what they train on one`, async (t) => {
    const config = { ...base, gradientShards: 2 };
    const onOne = await trainMappo(config, { workers: 1 });
    const losses: number[] = [];
    const onTwo = await trainMappo(config, { workers: 2, onUpdate: (m) => losses.push(m['losses/policy_loss']) });
    t.ok(losses.length > 0 && losses.every(Number.isFinite), 'it trained, with finite losses');
    t.equal(weightsOf(onTwo), weightsOf(onOne), 'weights, Adam moments and value statistics identical');
    const whole = await trainMappo({ ...base, gradientShards: 1 }, { workers: 2 });
    t.not(weightsOf(whole), weightsOf(onOne), 'one part rounds differently from two: the parts are part of the run');
  });
}

t.test('more threads than parts use as many threads as there are parts (the numbers stay those of the parts)', async (t) => {
  const config = { ...cases[0][1], totalSteps: 1_600, gradientShards: 2 };
  t.equal(weightsOf(await trainMappo(config, { workers: 3 })), weightsOf(await trainMappo(config, { workers: 1 })));
});

t.test('a gradient worker that cannot start its backend fails the pool with the reason', async (t) => {
  // tfjs-node is not installed here (its install downloads libtensorflow): the worker cannot start it
  await t.rejects(GradientPool.start(1, 'node', defaultMappoConfig, []), { code: 'FM_ERR_GRADIENT_WORKER', message: /a gradient worker failed: .*no TensorFlow\.js backend could start: node \(@tensorflow\/tfjs-node is not installed\)/s });
});
