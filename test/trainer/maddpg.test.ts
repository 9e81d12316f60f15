// MADDPG (its own file: with the Q-learners it ran past tap's per-file limit on two shared cores).

import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultMaddpgConfig, exportRun, RunFolder, train, useBackend } from '@fleetmind/trainer';
import { againstRandom } from '../helpers/against-random.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'fm-value-'));

t.before(async () => { await useBackend('auto'); });

// the defaults on a short budget: about the fewest steps that clear random by the margin on seed 2
// (the continuous actions need twice the discrete ones')
const short = (totalSteps: number) => ({ totalSteps, learningStarts: totalSteps / 15, seed: 2 });

t.test('a short seeded MADDPG run on simple_spread beats the random policy by a clear margin', async (t) => {
  const checkpoint = await train({ ...defaultMaddpgConfig, ...short(15_000) });
  const { trained, random } = againstRandom(checkpoint);
  t.ok(trained.agent_return_mean > random.agent_return_mean + 2, `maddpg: ${trained.agent_return_mean.toFixed(2)} vs random ${random.agent_return_mean.toFixed(2)} per agent`);
});

t.test('MADDPG with deterministic continuous actors learns continuous simple_spread, and exports an actor that outputs the vector', async (t) => {
  const checkpoint = await train({ ...defaultMaddpgConfig, ...short(30_000), worldConfig: { continuousActions: true } });
  const { trained, random } = againstRandom(checkpoint);
  t.ok(trained.agent_return_mean > random.agent_return_mean + 2, `maddpg (continuous): ${trained.agent_return_mean.toFixed(2)} vs random ${random.agent_return_mean.toFixed(2)} per agent`);
  const dir = tmp();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const run = RunFolder.create(join(dir, 'run'), { config: checkpoint.config, backend: 'wasm', created: 'now', node: process.version });
  run.saveCheckpoint(checkpoint);
  const manifest = await exportRun({ run: join(dir, 'run'), out: join(dir, 'bundle'), quantization: 'f32', episodes: 20 });
  t.match(manifest.roles[0].action, { kind: 'continuous', size: 5 });
  t.ok(manifest.parity.max_abs_error <= 1e-5, `the exported actor's vectors match TensorFlow.js to ${manifest.parity.max_abs_error}`);
});
