import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluateController, makeWorld, randomController, Rng } from '@fleetmind/worlds';
import * as ort from 'onnxruntime-node';
import { mlpActorGraph } from '@fleetmind/models/onnx';
import { actorFromWeights, actorLogits, defaultMappoConfig, greedyPolicy, Mlp, isCommNetWeights, resolveTrainingConfig, RunFolder, trainMappo, useBackend, type MappoCheckpoint, type MlpWeights } from '@fleetmind/trainer';

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

t.test('MAPPO with the pooled critic input (own observation and the role\'s mean: its size does not grow with the fleet) beats the random policy on a k-nearest fleet', async (t) => {
  const worldConfig = { N: 4, neighbours: 2 };
  const config = { ...defaultMappoConfig, totalSteps: 64_000, seed: 3, criticInput: 'pooled' as const, agentId: false, worldConfig };
  const checkpoint = await trainMappo(config);
  const world = makeWorld('simple_spread_v3', { numEnvs: 300, autoReset: false, config: worldConfig });
  const trained = evaluateController(world, greedyPolicy(checkpoint, world), 11).agent_return_mean;
  const random = evaluateController(world, randomController(world, 11), 11).agent_return_mean;
  t.ok(trained > random + 2, `trained ${trained.toFixed(2)} vs random ${random.toFixed(2)} per agent (300 episodes, same seeds)`);
  t.throws(() => resolveTrainingConfig({ algo: 'ippo', criticInput: 'pooled' }), /a pooled critic input is for MAPPO's centralized critic; ippo's critic reads the agent's own observation already/, 'IPPO has no centralized critic to pool');
});

t.test('the MAPPO paper\'s network options: orthogonal initial weights and a LayerNorm after every hidden layer, trained, and the ONNX actor computes the same logits', async (t) => {
  const rng = new Rng(5);
  const net = new Mlp({ sizes: [21, 64, 64, 5], activation: 'relu', outputGain: 0.01 }, rng, { init: 'orthogonal' });
  const [w0, w1, w2] = net.getWeights().layers.map((l) => l.w);
  // [21, 64]: orthonormal rows (fewer rows than columns), times √2 (ReLU's gain)
  t.ok(gramError(w0, 21, 64, 'rows', 2) < 1e-5, `layer 0: W·Wᵀ = 2·I (${gramError(w0, 21, 64, 'rows', 2).toExponential(1)})`);
  t.ok(gramError(w1, 64, 64, 'rows', 2) < 1e-5, 'layer 1 (square): orthogonal, times √2');
  t.ok(gramError(w2, 64, 5, 'columns', 1e-4) < 1e-9, 'the output layer [64, 5]: orthonormal columns times its gain 0.01');
  net.dispose();

  const config = { ...defaultMappoConfig, totalSteps: 64_000, seed: 3, activation: 'relu' as const, hiddenLayerNorm: true, init: 'orthogonal' as const };
  const checkpoint = await trainMappo(config);
  const weights = checkpoint.roles[0].actor as MlpWeights;
  t.equal(weights.spec.hiddenLayerNorm, true, 'the actor\'s spec says so (and the critic\'s)');
  t.equal((checkpoint.roles[0].critic as MlpWeights).spec.hiddenLayerNorm, true);
  const world = makeWorld('simple_spread_v3', { numEnvs: 300, autoReset: false });
  const trained = evaluateController(world, greedyPolicy(checkpoint, world), 11).agent_return_mean;
  const random = evaluateController(world, randomController(world, 11), 11).agent_return_mean;
  t.ok(trained > random + 2, `trained ${trained.toFixed(2)} vs random ${random.toFixed(2)} per agent (300 episodes, same seeds)`);
  const actor = actorFromWeights(weights, new Rng(1));
  const session = await ort.InferenceSession.create(mlpActorGraph(weights, { obsSize: 18, agentIdSize: 3 }));
  const rows = 6;
  const obs = Float32Array.from({ length: rows * 18 }, (_, i) => 1.5 * Math.sin(i * 0.37));
  const ids = Float32Array.from({ length: rows * 3 }, (_, i) => (i % 3 === Math.floor(i / 3) % 3 ? 1 : 0));
  const x = new Float32Array(rows * 21);
  for (let r = 0; r < rows; r++) { x.set(obs.subarray(r * 18, r * 18 + 18), r * 21); x.set(ids.subarray(r * 3, r * 3 + 3), r * 21 + 18); }
  const expected = actorLogits(actor, x, null, 3);
  const got = (await session.run({ obs: new ort.Tensor('float32', obs, [rows, 18]), agent_id: new ort.Tensor('float32', ids, [rows, 3]) })).logits.data as Float32Array;
  const worst = Math.max(...Array.from(got, (v, k) => Math.abs(v - expected[k])));
  t.ok(worst < 1e-5, `ONNX Runtime against TensorFlow.js: largest |Δlogit| ${worst.toExponential(2)}`);
  await session.release();
  actor.dispose();
  t.throws(() => resolveTrainingConfig({ algo: 'mappo', actor: 'gru', hiddenLayerNorm: true }), /hiddenLayerNorm and init: 'orthogonal' are options of the MLP actor/, 'a GRU actor has neither: refused');
});

t.test('criticHidden gives the critic its own hidden widths; the actor keeps hidden', async (t) => {
  const config = { ...defaultMappoConfig, totalSteps: 3_200, seed: 3, hidden: [32, 32], criticHidden: [16] };
  const checkpoint = await trainMappo(config);
  t.same((checkpoint.roles[0].actor as MlpWeights).spec.sizes.slice(1, -1), [32, 32], 'the actor: hidden');
  t.same((checkpoint.roles[0].critic as MlpWeights).spec.sizes.slice(1, -1), [16], 'the critic: criticHidden');
  const alike = await trainMappo({ ...config, criticHidden: undefined });
  t.same((alike.roles[0].critic as MlpWeights).spec.sizes.slice(1, -1), [32, 32], 'without it the critic is as wide as the actor');
  t.throws(() => resolveTrainingConfig({ algo: 'mappo', criticHidden: [] }), /criticHidden/, 'no hidden layer at all: refused');
});

/** largest |G − scale·I| of the Gram matrix of a [rows, cols] matrix's rows or columns */
function gramError(w: number[], rows: number, cols: number, of: 'rows' | 'columns', scale: number): number {
  const n = of === 'rows' ? rows : cols;
  const len = of === 'rows' ? cols : rows;
  const at = (i: number, k: number) => (of === 'rows' ? w[i * cols + k] : w[k * cols + i]);
  let worst = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let dot = 0;
      for (let k = 0; k < len; k++) dot += at(i, k) * at(j, k);
      worst = Math.max(worst, Math.abs(dot - (i === j ? scale : 0)));
    }
  }
  return worst;
}

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
  (damaged.roles[0].actor as MlpWeights).layers[1].w.pop();
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
  t.equal(ippo.roles[0].critic.spec.sizes[0], 18 + 3 + 1, 'observation + agent id + the fraction of the episode elapsed');
  t.equal(mappo.roles[0].critic.spec.sizes[0], 54 + 3 + 1, 'global state + agent id + the fraction of the episode elapsed');
  t.equal((mappo.roles[0].actor as MlpWeights).spec.sizes[0], 18 + 3, 'the actor does not see the time: it runs on a robot');
  const timeless = await trainMappo({ ...base, criticTimeFeature: false });
  t.equal(timeless.roles[0].critic.spec.sizes[0], 54 + 3);
});

t.test('worlds with several roles get one actor and critic per role', async (t) => {
  const checkpoint = await trainMappo({ ...defaultMappoConfig, world: 'simple_tag_v3', totalSteps: 1_600, numEnvs: 16 });
  t.same(checkpoint.roles.map((r) => r.role), ['adversary', 'agent']);
  t.same(checkpoint.roles.map((r) => (r.actor as MlpWeights).spec.sizes[0]), [16 + 3, 14 + 1]);
});

t.test('a resumed run continues exactly: weights, Adam moments, random streams and worlds mid-episode', async (t) => {
  // 20 steps per rollout against 25-step episodes, so the stop falls mid-episode
  const config = {
    ...defaultMappoConfig, numEnvs: 8, rolloutSteps: 20, totalSteps: 8 * 20 * 4, seed: 5,
    actor: 'commnet' as const, commRounds: 2, msgDropout: 0.3, agentDropout: 0.2, hidden: [16, 16],
  };
  const straight = await trainMappo(config);
  let updates = 0;
  const half = await trainMappo(config, { shouldStop: () => updates >= 2, onUpdate: () => { updates++; } });
  t.equal(half.envSteps, 8 * 20 * 2);
  const resumed = await trainMappo(config, {}, JSON.parse(JSON.stringify(half)) as MappoCheckpoint);
  t.equal(resumed.envSteps, straight.envSteps);
  t.same(resumed.roles, straight.roles, 'same weights, optimizer state and statistics as the uninterrupted run');
  t.same(resumed.loop, straight.loop, 'same worlds and random streams');
});

t.test('a CommNet actor trained under message dropout beats the random policy, and uses its messages', async (t) => {
  const config = { ...defaultMappoConfig, actor: 'commnet' as const, msgDropout: 0.3, totalSteps: 64_000, seed: 4 };
  const checkpoint = await trainMappo(config);
  t.ok(isCommNetWeights(checkpoint.roles[0].actor), 'the checkpoint holds CommNet weights');
  const world = makeWorld('simple_spread_v3', { numEnvs: 300, autoReset: false });
  const trained = evaluateController(world, greedyPolicy(checkpoint, world), 11).agent_return_mean;
  const random = evaluateController(world, randomController(world, 11), 11).agent_return_mean;
  t.ok(trained > random + 2, `trained ${trained.toFixed(2)} vs random ${random.toFixed(2)} per agent (300 episodes, same seeds)`);
  // deaf agents act differently from hearing ones: the messages reach the policy
  const deaf = evaluateController(world, greedyPolicy(checkpoint, world, { msgDropout: 1 }), 11);
  const hearing = evaluateController(world, greedyPolicy(checkpoint, world), 11);
  t.notSame(deaf.episode_team_returns, hearing.episode_team_returns);
});

t.test('self-play: each side learns against a bounded pool of the other side\'s snapshots, measures itself, and resumes exactly', async (t) => {
  const config = {
    ...defaultMappoConfig, world: 'simple_tag_v3', selfPlay: true, numEnvs: 8, totalSteps: 8 * 25 * 6, seed: 3,
    snapshotEvery: 2, opponentPool: 2, hidden: [16, 16],
  };
  const lines: Record<string, number>[] = [];
  const straight = await trainMappo(config, { onUpdate: (m) => { lines.push(m); } });
  t.equal(straight.opponentPools?.length, 2, 'one pool per role');
  t.same(straight.opponentPools?.map((pool) => pool.length), [2, 2], 'the initial actor and three snapshots, cut to the newest two');
  t.same(straight.opponentPools?.map((pool) => pool[1]), straight.roles.map((r) => r.actor), 'the newest snapshot is the final actor');
  const measured = lines.filter((m) => 'selfplay/adversary_vs_scripted_return' in m).map((m) => m['global/updates']);
  t.same(measured, [2, 4, 6], 'measured at every snapshot');
  for (const key of ['selfplay/agent_vs_latest_return', 'selfplay/adversary_vs_scripted_catches', 'selfplay/scripted_vs_scripted_catches']) t.ok(Number.isFinite(lines[1][key]), key);

  let updates = 0;
  const half = await trainMappo(config, { shouldStop: () => updates >= 3, onUpdate: () => { updates++; } });
  const resumed = await trainMappo(config, {}, JSON.parse(JSON.stringify(half)) as MappoCheckpoint);
  t.same(resumed.roles, straight.roles, 'same actors and critics as the uninterrupted run');
  t.same(resumed.opponentPools, straight.opponentPools, 'same pools');
  await t.rejects(trainMappo({ ...config, world: 'simple_spread_v3' }), { message: /self-play needs a world with two or more roles/ });
});

t.test('sharedActor: the sides of a world whose roles are alike (Pong) train one actor, which both play, and resume exactly', async (t) => {
  const config = {
    ...defaultMappoConfig, world: 'pong_v0', worldConfig: { observeIntercept: true }, selfPlay: true, sharedActor: true,
    numEnvs: 8, totalSteps: 8 * 25 * 4, seed: 5, snapshotEvery: 2, opponentPool: 2, hidden: [16, 16],
  };
  const shared = await trainMappo(config);
  const [left, right] = shared.roles;
  t.same(left.actor, right.actor, 'one actor for both sides');
  t.same(left.actorOptimizer, right.actorOptimizer, 'and one Adam');
  t.notSame(left.critic, right.critic, 'a critic per side (the state is not seen from a side)');
  const separate = await trainMappo({ ...config, sharedActor: false });
  t.notSame(separate.roles[0].actor, separate.roles[1].actor, 'without it, an actor per side');
  t.equal(shared.roles[0].actorOptimizer.step, 2 * separate.roles[0].actorOptimizer.step, 'each side\'s update steps the shared actor: twice as many steps as one side\'s own actor takes');
  t.same(shared.opponentPools?.[0], shared.opponentPools?.[1], 'both sides draw their opponents from the same snapshots');

  let updates = 0;
  const half = await trainMappo(config, { shouldStop: () => updates >= 2, onUpdate: () => { updates++; } });
  const resumed = await trainMappo(config, {}, JSON.parse(JSON.stringify(half)) as MappoCheckpoint);
  t.same(resumed.roles, shared.roles, 'resumed: the same actor and critics as the uninterrupted run');
  await t.rejects(trainMappo({ ...config, world: 'simple_tag_v3', worldConfig: {} }), { message: /sharedActor needs roles alike; in simple_tag_v3 role adversary/ });
});
