// `fleetmind bench training`: what a MAPPO/IPPO run's updates gain from threads. The same run
// (same seed, same steps), each time in a fresh process (training-case.ts), side by side in one
// sitting: its gradient in one part on one thread (the default), in K parts on one thread, and in
// K parts on K threads (`train --workers K`); with --runs R the three alternate R times and the
// medians are reported. The last two must train identical weights (a run's numbers depend on its
// parts, not its threads); the report says whether they did.

import { fork } from 'node:child_process';
import { median } from '@fleetmind/worlds';
import type { MappoConfig } from '@fleetmind/trainer';
import type { TrainingCaseRequest, TrainingCaseResult } from './training-case.js';

export interface TrainingBenchOptions {
  /** a resolved MAPPO/IPPO configuration (its totalSteps is the work measured) */
  config: MappoConfig;
  /** threads (and parts) of the parallel case (default 2) */
  workers?: number;
  /** rounds of the three cases, alternated (default 1) */
  runs?: number;
  onProgress?: (line: string) => void;
}

export interface TrainingBenchCase {
  parts: number;
  threads: number;
  /** medians over the runs */
  wall_s: number;
  /** the loop's own split (metrics' time/…_s summed over the run) */
  update_s: number;
  act_s: number;
  env_steps_per_s: number;
  /** every run's wall seconds */
  runs_wall_s: number[];
  /** the mean training return of the last update's episodes (equal weights, equal returns) */
  last_return: number;
  /** sha256 of the trained weights, Adam moments and value statistics (the same in every run) */
  weights_sha256: string;
}

export interface TrainingBenchReport {
  world: string;
  algo: string;
  actor: string;
  hidden: number[];
  steps: number;
  cases: TrainingBenchCase[];
  /** K parts on K threads trained exactly the weights K parts on one thread did, in every run */
  same_weights: boolean;
  /** median wall time of each case over the K-thread case's */
  ratios: { one_part_vs_threads: number; parts_on_one_thread_vs_threads: number };
}

function runCase(request: TrainingCaseRequest): Promise<TrainingCaseResult> {
  return new Promise((resolve, reject) => {
    const child = fork(new URL('./training-case.js', import.meta.url), { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    let answered = false;
    child.once('message', (reply: { result?: TrainingCaseResult; error?: string }) => {
      answered = true;
      if (reply.result) resolve(reply.result);
      else reject(new Error(`a training case failed: ${reply.error}`));
    });
    child.once('error', reject);
    child.once('exit', (code) => { if (!answered) reject(new Error(`a training case exited with code ${code} before it answered`)); });
    child.send(request);
  });
}

export async function benchTraining(options: TrainingBenchOptions): Promise<TrainingBenchReport> {
  const workers = options.workers ?? 2;
  const runs = options.runs ?? 1;
  const { gradientShards: _parts, ...base } = options.config;
  const plans = [{ parts: 1, threads: 1 }, { parts: workers, threads: 1 }, { parts: workers, threads: workers }];
  const results: TrainingCaseResult[][] = plans.map(() => []);
  for (let run = 0; run < runs; run++) {
    for (const [k, plan] of plans.entries()) {
      options.onProgress?.(`run ${run + 1}/${runs}: ${base.totalSteps.toLocaleString('en-US')} steps, ${plan.parts} part(s) on ${plan.threads} thread(s)`);
      results[k].push(await runCase({ config: plan.parts > 1 ? { ...base, gradientShards: plan.parts } : base, threads: plan.threads }));
    }
  }
  const cases = plans.map((plan, k): TrainingBenchCase => {
    const of = (key: 'wall_s' | 'update_s' | 'act_s') => round(median(results[k].map((r) => r[key])), 2);
    return {
      ...plan,
      wall_s: of('wall_s'), update_s: of('update_s'), act_s: of('act_s'),
      env_steps_per_s: Math.round(results[k][0].env_steps / median(results[k].map((r) => r.wall_s))),
      runs_wall_s: results[k].map((r) => round(r.wall_s, 2)),
      last_return: results[k][0].last_return,
      weights_sha256: results[k][0].weights_sha256,
    };
  });
  const [onePart, partsOnOne, threads] = cases;
  const hashes = new Set([...results[1], ...results[2]].map((r) => r.weights_sha256));
  return {
    world: base.world, algo: base.algo, actor: base.actor, hidden: base.hidden, steps: base.totalSteps,
    cases,
    same_weights: hashes.size === 1,
    ratios: { one_part_vs_threads: round(onePart.wall_s / threads.wall_s, 2), parts_on_one_thread_vs_threads: round(partsOnOne.wall_s / threads.wall_s, 2) },
  };
}

const round = (x: number, digits: number) => Number(x.toFixed(digits));
