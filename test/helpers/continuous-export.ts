// A short MAPPO run on continuous simple_spread with some distribution over the box: trained,
// checked against random, exported, and its bundle checked to play as the checkpoint does. The
// caller checks what is particular to its distribution (the graph's last nodes, the greedy actions).

import type { Test } from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { evaluateController, makeWorld } from '@fleetmind/worlds';
import { defaultMappoConfig, exportRun, greedyPolicy, RunFolder, trainMappo, type MappoConfig } from '@fleetmind/trainer';
import { againstRandom } from './against-random.js';

export async function trainAndExportContinuous(t: Test, settings: Partial<MappoConfig>) {
  const checkpoint = await trainMappo({ ...defaultMappoConfig, worldConfig: { continuousActions: true }, totalSteps: 128_000, seed: 2, ...settings });
  const { trained, random } = againstRandom(checkpoint);
  t.ok(trained.agent_return_mean > random.agent_return_mean + 4, `trained ${trained.agent_return_mean.toFixed(2)} vs random ${random.agent_return_mean.toFixed(2)} per agent (200 episodes, same seeds)`);
  const dir = mkdtempSync(join(tmpdir(), 'fm-continuous-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const run = RunFolder.create(join(dir, 'run'), { config: checkpoint.config, backend: 'wasm', created: 'now', node: process.version });
  run.saveCheckpoint(checkpoint);
  const manifest = await exportRun({ run: join(dir, 'run'), out: join(dir, 'bundle'), quantization: 'f32', episodes: 50 });
  t.ok(manifest.parity.max_abs_error <= 1e-5, `ONNX Runtime's action vectors match the checkpoint's greedy actions to ${manifest.parity.max_abs_error}`);
  const world = makeWorld('simple_spread_v3', { numEnvs: 50, autoReset: false, config: { continuousActions: true } });
  const greedy = evaluateController(world, greedyPolicy(checkpoint, world), 0).agent_return_mean;
  t.ok(Math.abs(manifest.evaluation.nominal.agent_return_mean - greedy) < 1e-3, `the bundle under ONNX Runtime plays as the checkpoint does: ${manifest.evaluation.nominal.agent_return_mean} vs ${greedy}`);
  const graph = onnxProto.onnx.ModelProto.decode(readFileSync(join(dir, 'bundle', 'agent', 'actor.onnx'))).graph!;
  /** the checkpoint's greedy actions on 8 fresh starts, [8 · 3 · 5] */
  const greedyActions = () => {
    const probe = makeWorld('simple_spread_v3', { numEnvs: 8, config: { continuousActions: true } });
    const actions = new Float32Array(8 * 3 * 5);
    greedyPolicy(checkpoint, probe).act(probe.reset(3).observations, actions);
    return actions;
  };
  return { checkpoint, manifest, graph, greedyActions };
}
