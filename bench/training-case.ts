// One case of `bench training` in a process of its own (benchTraining forks it): a fresh
// TensorFlow.js for every case, so no case runs on what an earlier one left in memory.
// Receives {config, threads} over IPC, trains, answers with the case's measurements.

import { createHash } from 'node:crypto';
import { trainMappo, useBackend, type MappoCheckpoint, type MappoConfig, type TrainingMetrics } from '@fleetmind/trainer';

export interface TrainingCaseRequest {
  config: MappoConfig;
  threads: number;
}

export interface TrainingCaseResult {
  wall_s: number;
  update_s: number;
  act_s: number;
  env_steps: number;
  last_return: number;
  weights_sha256: string;
}

function weightsHash(checkpoint: MappoCheckpoint): string {
  const learned = checkpoint.roles.map((r) => [r.actor, r.critic, r.actorOptimizer, r.criticOptimizer, r.valueNorm]);
  return createHash('sha256').update(JSON.stringify(learned)).digest('hex');
}

async function run({ config, threads }: TrainingCaseRequest): Promise<TrainingCaseResult> {
  await useBackend('auto');
  const metrics: TrainingMetrics[] = [];
  const started = performance.now();
  const checkpoint = await trainMappo(config, { workers: threads, onUpdate: (m) => metrics.push(m) });
  const sum = (key: string) => metrics.reduce((s, m) => s + (m[key] ?? 0), 0);
  return {
    wall_s: (performance.now() - started) / 1000,
    update_s: sum('time/update_s'),
    act_s: sum('time/act_s'),
    env_steps: checkpoint.envSteps,
    last_return: metrics.at(-1)?.['train/agent_return_mean'] ?? Number.NaN,
    weights_sha256: weightsHash(checkpoint),
  };
}

if (!process.send) throw new Error('training-case.js runs as a forked child of bench training');
process.once('message', (request: TrainingCaseRequest) => {
  run(request).then(
    (result) => process.send!({ result }, () => process.exit(0)),
    (err: unknown) => process.send!({ error: err instanceof Error ? err.message : String(err) }, () => process.exit(1)),
  );
});
