import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluateController, makeWorld, randomController } from '@fleetmind/sim-harness/worlds';
import { defaultMappoConfig, greedyPolicy, RunFolder, trainMappo, useBackend, type MappoCheckpoint } from '@fleetmind/trainer';

const tmp = () => mkdtempSync(join(tmpdir(), 'fm-train-'));
const info = (config: typeof defaultMappoConfig) => ({ config, backend: 'wasm', created: 'now', node: process.version });

t.before(async () => { await useBackend('auto'); });

t.test('a short seeded MAPPO run on simple_spread beats the random policy by a clear margin', async (t) => {
  const config = { ...defaultMappoConfig, totalSteps: 96_000, seed: 3 };
  const checkpoint = await trainMappo(config);
  t.equal(checkpoint.envSteps, 96_000);
  const world = makeWorld('simple_spread_v3', { numEnvs: 300, autoReset: false });
  const trained = evaluateController(world, greedyPolicy(checkpoint, world), 11).agent_return_mean;
  const random = evaluateController(world, randomController(world, 11), 11).agent_return_mean;
  t.ok(trained > random + 2, `trained ${trained.toFixed(2)} vs random ${random.toFixed(2)} per agent (300 episodes, same seeds)`);
});

t.test('checkpoints round-trip exactly, and damaged ones are refused with the reason', async (t) => {
  const dir = tmp();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const config = { ...defaultMappoConfig, totalSteps: 3_200, numEnvs: 32 };
  const checkpoint = await trainMappo(config);
  const run = RunFolder.create(dir, info(config));
  run.saveCheckpoint(checkpoint);
  const loaded = RunFolder.open(dir).loadCheckpoint();
  t.same(loaded, JSON.parse(JSON.stringify(checkpoint)));
  const world = makeWorld('simple_spread_v3', { numEnvs: 50, autoReset: false });
  const a = evaluateController(world, greedyPolicy(checkpoint, world), 5);
  const b = evaluateController(world, greedyPolicy(loaded, world), 5);
  t.same(a.episode_team_returns, b.episode_team_returns, 'the loaded policy acts identically');

  const path = join(dir, 'checkpoint.json');
  const good = readFileSync(path, 'utf8');
  writeFileSync(path, good.slice(0, good.length / 2));
  t.throws(() => RunFolder.open(dir).loadCheckpoint(), { code: 'FM_ERR_RUN', message: /checkpoint\.json is corrupt/ });
  const damaged: MappoCheckpoint = JSON.parse(good);
  damaged.roles[0].actor.layers[1].w.pop();
  writeFileSync(path, JSON.stringify(damaged));
  t.throws(() => RunFolder.open(dir).loadCheckpoint(), { message: /roles\.0\.actor\.layers\.1: layer 1 has the wrong number of weights/ });
  t.throws(() => RunFolder.create(dir, info(config)), { message: /already holds a run; use --resume/ });
  const wrongWorld = makeWorld('simple_spread_v3', { config: { N: 4 } });
  t.throws(() => greedyPolicy(checkpoint, wrongWorld), { message: /actor takes 21 inputs, simple_spread_v3 gives 28/ });
});

t.test('IPPO trains with a critic on the local observation; MAPPO on the global state', async (t) => {
  const base = { ...defaultMappoConfig, totalSteps: 1_600, numEnvs: 16 };
  const ippo = await trainMappo({ ...base, algo: 'ippo' });
  const mappo = await trainMappo({ ...base, algo: 'mappo' });
  t.equal(ippo.roles[0].critic.spec.sizes[0], 18 + 3, 'observation + agent id');
  t.equal(mappo.roles[0].critic.spec.sizes[0], 54 + 3, 'global state + agent id');
});

t.test('worlds with several roles get one actor and critic per role', async (t) => {
  const checkpoint = await trainMappo({ ...defaultMappoConfig, world: 'simple_tag_v3', totalSteps: 1_600, numEnvs: 16 });
  t.same(checkpoint.roles.map((r) => r.role), ['adversary', 'agent']);
  t.same(checkpoint.roles.map((r) => r.actor.spec.sizes[0]), [16 + 3, 14 + 1]);
});
