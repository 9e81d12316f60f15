// Results over independent runs (seeds), the way the field reports them: each run's score is its
// mean over evaluation episodes, the runs are summarised by their interquartile mean (rliable's
// IQM: the mean of the middle half, scipy's trim_mean(0.25)) with a 95 % percentile bootstrap
// interval over runs, and the raw data is kept in marl-eval's JSON layout (instadeepai/marl-eval,
// "Data Structure for Raw Experiment data") so that its tools and plots read it as it is.

import { bootstrapInterval } from './stats.js';

/** One run's evaluation: per metric, one value per evaluation episode. */
export interface RunEvaluation {
  /** env steps the run had trained for (0 for a baseline) */
  readonly stepCount: number;
  readonly metrics: Readonly<Record<string, readonly number[]>>;
}

/** marl-eval's raw layout: env → task → algorithm → run_k → {step_1: {step_count, metric: [...]}, absolute_metrics: {metric: [...]}}. */
export type MarlEvalData = Record<string, Record<string, Record<string, Record<string, Record<string, {
  step_count?: number;
  [metric: string]: number[] | number | undefined;
}>>>>>;

export interface MetricSummary {
  metric: string;
  runs: number;
  /** each run's mean over its evaluation episodes, in run order */
  run_means: number[];
  iqm: number;
  /** 95 % percentile bootstrap interval of the IQM, resampling runs */
  ci95: [number, number];
}

/** scipy.stats.trim_mean(values, 0.25): drop ⌊n/4⌋ values from each end, average the rest. */
export function interquartileMean(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const cut = Math.floor(sorted.length * 0.25);
  const middle = sorted.slice(cut, sorted.length - cut);
  return middle.reduce((a, b) => a + b, 0) / middle.length;
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** A metric over runs: the IQM of the runs' means and its bootstrap interval (seeded: the same every time). */
export function summarizeRuns(runs: readonly RunEvaluation[], metric: string, seed = 0): MetricSummary {
  const runMeans = runs.map((run, k) => {
    const values = run.metrics[metric];
    if (!values || values.length === 0) throw new Error(`run ${k + 1} has no values of ${metric}`);
    return mean(values);
  });
  const ci95 = bootstrapInterval(runMeans.length, (at) => interquartileMean(at.map((i) => runMeans[i])), { seed, resamples: 10_000 });
  return { metric, runs: runs.length, run_means: runMeans, iqm: interquartileMean(runMeans), ci95 };
}

/** The runs in marl-eval's layout: each run's one evaluation as step_1 and as its absolute metrics. */
export function marlEvalLayout(env: string, task: string, algorithm: string, runs: readonly RunEvaluation[]): MarlEvalData {
  const entries = runs.map((run, k) => {
    const metrics = Object.fromEntries(Object.entries(run.metrics).map(([name, values]) => [name, [...values]]));
    return [`run_${k + 1}`, { step_1: { step_count: run.stepCount, ...metrics }, absolute_metrics: metrics }] as const;
  });
  return { [env]: { [task]: { [algorithm]: Object.fromEntries(entries) } } };
}

/** Merges marl-eval data (another algorithm or task of the same file); a run already there is refused. */
export function mergeMarlEval(into: MarlEvalData, add: MarlEvalData): MarlEvalData {
  const out: MarlEvalData = structuredClone(into);
  for (const [env, tasks] of Object.entries(add)) {
    for (const [task, algorithms] of Object.entries(tasks)) {
      for (const [algorithm, runs] of Object.entries(algorithms)) {
        const have = ((out[env] ??= {})[task] ??= {})[algorithm];
        if (have) throw new Error(`${env} / ${task} / ${algorithm} is already in the file: give this evaluation another --algorithm name`);
        out[env][task][algorithm] = runs;
      }
    }
  }
  return out;
}
