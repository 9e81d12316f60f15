// Value-based runs end to end: resume exactly (GRU memories, QMIX mixers), export bundles that play
// as the run does, and the seed's tabular IQL. Learning itself: value-based-learning.test.ts.

import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  defaultQLearningConfig, defaultTabularIqlConfig, exportRun, greedyAction, greedyPolicy, qUpdate,
  RunFolder, train, trainQLearning, trainTabularIql, useBackend, type QLearningCheckpoint,
} from '@fleetmind/trainer';
import { loadBundle } from '@fleetmind/models';
import { bundleController } from '@fleetmind/trainer/bundle-controller';
import { evaluateController, evaluateControllerAsync, makeWorld } from '@fleetmind/worlds';
import { againstRandom } from '../helpers/against-random.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'fm-value-'));

t.before(async () => { await useBackend('auto'); });

t.test('IQL with GRU agents: an interrupted run resumes exactly (the agents\' memories included), and exports a recurrent bundle that plays as the run does', async (t) => {
  const dir = tmp();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const config = { ...defaultQLearningConfig, algo: 'iql' as const, actor: 'gru' as const, numEnvs: 4, totalSteps: 4 * 1024 * 2, learningStarts: 1_000, trainEvery: 32, targetUpdateEvery: 20, hidden: [16], batchEpisodes: 4, bufferSize: 5_000 };
  const straight = await trainQLearning(config);
  let lines = 0;
  const half = await trainQLearning(config, { shouldStop: () => lines >= 1, onUpdate: () => { lines++; } });
  t.equal(half.envSteps, 4 * 1024);
  // mid-episode (1,024 steps of 25-step episodes): the memories are not all zero
  t.ok(half.roles[0].memory!.state.some((v) => v !== 0), 'the checkpoint holds the agents\' states mid-episode');
  const resumed = await trainQLearning(config, {}, JSON.parse(JSON.stringify(half)) as QLearningCheckpoint);
  t.equal(resumed.updates, straight.updates);
  t.same(resumed.roles, straight.roles, 'same Q-networks, targets, Adam moments and memories');
  t.same(resumed.loop, straight.loop, 'same replay, worlds and random streams');
  const withoutMemory = JSON.parse(JSON.stringify(half)) as QLearningCheckpoint;
  delete withoutMemory.roles[0].memory;
  await t.rejects(trainQLearning(config, {}, withoutMemory), { message: /no acting memory for its GRU/ });
  await t.rejects(trainQLearning({ ...config, actor: 'mlp', hidden: [16, 16] }, {}, JSON.parse(JSON.stringify(half)) as QLearningCheckpoint), { message: /Q-network is a GRU; this run's is an MLP/ });

  RunFolder.create(join(dir, 'iql-gru'), { config, backend: 'wasm', created: 'now', node: process.version }).saveCheckpoint(straight);
  const manifest = await exportRun({ run: join(dir, 'iql-gru'), out: join(dir, 'bundle'), quantization: 'f32', episodes: 20, paritySamples: 1000 });
  t.equal(manifest.roles[0].graphs.kind, 'recurrent');
  t.equal(manifest.parity.action_mismatches, 0, 'ONNX Runtime picks the same greedy actions over sequences with resets');
  t.ok(manifest.parity.max_abs_error <= 1e-5, `parity ${manifest.parity.max_abs_error}`);
  const world = makeWorld(config.world, { numEnvs: 50, autoReset: false });
  const fromRun = evaluateController(world, greedyPolicy(straight, world), 3, { perEpisode: true });
  const bundle = await loadBundle(join(dir, 'bundle'));
  t.teardown(() => bundle.close());
  const fromBundle = await evaluateControllerAsync(world, bundleController(world, bundle), 3, { perEpisode: true });
  t.same(fromBundle.episode_team_returns, fromRun.episode_team_returns, 'the bundle under ONNX Runtime plays the episodes the checkpoint plays');
});

t.test('tabular IQL: the Q-learning update by hand', async (t) => {
  // 3 states × 2 actions; Q[2] = [0, 2]
  const table = new Float64Array([0, 0, 0, 0, 0, 2]);
  // s = 0, a = 1, r = 1, s′ = 2: target 1 + 0.99·2 = 2.98; Q ← 0 + 0.1·2.98
  t.equal(qUpdate(table, 2, 0, 1, 1, 2, 0.1, 0.99), 2.98);
  t.ok(Math.abs(table[1] - 0.298) < 1e-12, `Q[0, 1] = ${table[1]}`);
  // again from there: target still 2.98, error 2.98 − 0.298 = 2.682, Q ← 0.298 + 0.2682
  qUpdate(table, 2, 0, 1, 1, 2, 0.1, 0.99);
  t.ok(Math.abs(table[1] - 0.5662) < 1e-12, `Q[0, 1] = ${table[1]}`);
  // a capture ends the episode: the target is the reward alone, whatever Q[s′] holds
  qUpdate(table, 2, 1, 0, 10, null, 0.1, 0.99);
  t.equal(table[2], 1);
  t.equal(greedyAction(table, 2, 0), 1);
  t.equal(greedyAction(new Float64Array([3, 3]), 2, 0), 0, 'ties go to the first action, as numpy.argmax');
});

t.test("tabular IQL runs the seed's 2,000 episodes on the grid, its predators capture more than random ones, and a resume continues exactly", async (t) => {
  const config = { ...defaultTabularIqlConfig, seed: 4 };
  const checkpoint = await trainTabularIql(config);
  t.equal(checkpoint.updates, 2000);
  t.ok(Math.abs(checkpoint.epsilon - Math.max(0.01, 0.995 ** 2000)) < 1e-12, 'ε decayed per episode to its floor');
  const { trained, random } = againstRandom(checkpoint, 3);
  t.ok(trained.outcomes.captured > random.outcomes.captured + 0.1, `capture rate ${trained.outcomes.captured} vs random ${random.outcomes.captured}`);

  let lines = 0;
  const half = await trainTabularIql(config, { shouldStop: () => lines >= 50, onUpdate: () => { lines++; } });
  t.equal(half.updates, 1000);
  const resumed = await trainTabularIql(config, {}, JSON.parse(JSON.stringify(half)));
  t.same(resumed.tables, checkpoint.tables, 'the same tables as the uninterrupted run');
  t.equal(resumed.envSteps, checkpoint.envSteps);
});

t.test('an interrupted QMIX run resumes exactly: networks, targets, mixer, optimizer, replay and worlds', async (t) => {
  const config = { ...defaultQLearningConfig, algo: 'qmix' as const, numEnvs: 4, totalSteps: 4 * 1024 * 2, learningStarts: 1_000, trainEvery: 16, targetUpdateEvery: 20, hidden: [16, 16], mixerEmbed: 8, hyperHidden: 8, bufferSize: 5_000 };
  const straight = await trainQLearning(config);
  let lines = 0;
  const half = await trainQLearning(config, { shouldStop: () => lines >= 1, onUpdate: () => { lines++; } });
  t.equal(half.envSteps, 4 * 1024);
  const resumed = await trainQLearning(config, {}, JSON.parse(JSON.stringify(half)) as QLearningCheckpoint);
  t.equal(resumed.updates, straight.updates);
  t.same(resumed.roles, straight.roles, 'same weights, targets, mixers and Adam moments');
  t.same(resumed.loop, straight.loop, 'same replay, worlds and random streams');
});

t.test('value-based runs save, load, evaluate and export; a tabular run is refused by export with the reason', async (t) => {
  const dir = tmp();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const config = { ...defaultQLearningConfig, algo: 'vdn' as const, totalSteps: 4_096, learningStarts: 1_000, hidden: [16, 16] };
  const checkpoint = await train(config);
  const run = RunFolder.create(join(dir, 'vdn'), { config, backend: 'wasm', created: 'now', node: process.version });
  run.saveCheckpoint(checkpoint);
  const loaded = RunFolder.open(join(dir, 'vdn')).loadCheckpoint();
  t.same(loaded, JSON.parse(JSON.stringify(checkpoint)));
  const manifest = await exportRun({ run: join(dir, 'vdn'), out: join(dir, 'bundle'), quantization: 'f32', episodes: 20, paritySamples: 1000 });
  t.equal(manifest.provenance.algorithm, 'vdn');
  t.equal(manifest.parity.action_mismatches, 0, 'ONNX Runtime picks the same greedy actions as the Q-network');
  t.ok(manifest.parity.max_abs_error <= 1e-5);

  const tabular = await trainTabularIql({ ...defaultTabularIqlConfig, episodes: 20 });
  RunFolder.create(join(dir, 'tabular'), { config: tabular.config, backend: 'wasm', created: 'now', node: process.version }).saveCheckpoint(tabular);
  t.same(RunFolder.open(join(dir, 'tabular')).loadCheckpoint(), JSON.parse(JSON.stringify(tabular)));
  await t.rejects(exportRun({ run: join(dir, 'tabular'), out: join(dir, 'tabular-bundle'), quantization: 'f32' }), { message: /iql-tabular run: its Q-tables read the world's global state/ });
});
