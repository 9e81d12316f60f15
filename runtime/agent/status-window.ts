// The latencies an agent's status reports: its ticks and inference since the last status,
// summarised as percentiles and forgotten. Bounded: a stalled status timer cannot grow it.

const MAX_SAMPLES = 4096;

export interface StatusLatencies {
  tickP50Ms: number;
  tickP99Ms: number;
  inferenceP50Ms: number;
}

export class StatusWindow {
  private ticks: number[] = [];
  private inference: number[] = [];

  add(tickMs: number, inferenceMs: number): void {
    if (this.ticks.length >= MAX_SAMPLES) return;
    this.ticks.push(tickMs);
    this.inference.push(inferenceMs);
  }

  /** The window's percentiles (0 when no tick ran), and a new window. */
  take(): StatusLatencies {
    const out = { tickP50Ms: quantile(this.ticks, 0.5), tickP99Ms: quantile(this.ticks, 0.99), inferenceP50Ms: quantile(this.inference, 0.5) };
    this.ticks = [];
    this.inference = [];
    return out;
  }
}

function quantile(values: number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}
