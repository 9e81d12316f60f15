// Order statistics for every figure fleetmind prints (simulation reports, evaluations,
// benchmarks): the project's one percentile, one median and one bootstrap interval.

import { Rng } from './rng.js';

/**
 * The q-quantile (0 ≤ q ≤ 1) of values, which need not be sorted: the sample at rank ⌊q·n⌋
 * (so p99 of 100 samples is the largest, never an interpolation between two). NaN when empty.
 */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.floor(q * sorted.length)))];
}

/** The middle value; the mean of the two middle ones for an even count. NaN when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * A percentile bootstrap interval of a statistic over n paired samples (episodes): `statistic`
 * is given the indices of one resample (with replacement). Seeded, so a report prints the same
 * interval every time. The confidence level is two-sided (0.95: the 2.5th and 97.5th percentiles).
 */
export function bootstrapInterval(n: number, statistic: (indices: readonly number[]) => number, o: { resamples?: number; confidence?: number; seed?: number } = {}): [number, number] {
  if (n === 0) return [NaN, NaN];
  const rng = new Rng(o.seed ?? 0, 0xb0075);
  const values: number[] = [];
  const indices = new Array<number>(n);
  for (let k = 0; k < (o.resamples ?? 2000); k++) {
    for (let i = 0; i < n; i++) indices[i] = rng.int(n);
    values.push(statistic(indices));
  }
  const tail = (1 - (o.confidence ?? 0.95)) / 2;
  return [percentile(values, tail), percentile(values, 1 - tail)];
}
