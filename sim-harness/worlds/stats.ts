// Order statistics for every figure fleetmind prints (simulation reports, evaluations,
// benchmarks): the project's one percentile and one median.

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
