// Running normalisation of value targets (MAPPO's ValueNorm): the critic learns returns in
// units of their running standard deviation, which keeps its loss scale steady as returns move.
// Statistics are merged exactly, batch by batch (Chan, Golub & LeVeque's parallel variance).

import type { ValueNormalizerState } from '../runs/checkpoint-schema.js';

export type { ValueNormalizerState };

export class ValueNormalizer {
  private count = 0;
  private mean = 0;
  private m2 = 0;

  constructor(private readonly epsilon = 1e-5) {}

  /** Folds a batch of targets into the running statistics. */
  update(values: ArrayLike<number>): void {
    const n = values.length;
    if (n === 0) return;
    let batchMean = 0;
    for (let i = 0; i < n; i++) batchMean += values[i];
    batchMean /= n;
    let batchM2 = 0;
    for (let i = 0; i < n; i++) batchM2 += (values[i] - batchMean) ** 2;
    const total = this.count + n;
    const delta = batchMean - this.mean;
    this.mean += (delta * n) / total;
    this.m2 += batchM2 + (delta * delta * this.count * n) / total;
    this.count = total;
  }

  get variance(): number {
    return this.count > 0 ? this.m2 / this.count : 1;
  }

  get std(): number {
    return Math.sqrt(this.variance + this.epsilon);
  }

  get runningMean(): number {
    return this.mean;
  }

  normalize(x: number): number {
    return (x - this.mean) / this.std;
  }

  denormalize(y: number): number {
    return y * this.std + this.mean;
  }

  state(): ValueNormalizerState {
    return { count: this.count, mean: this.mean, m2: this.m2 };
  }

  static fromState(state: ValueNormalizerState, epsilon = 1e-5): ValueNormalizer {
    const v = new ValueNormalizer(epsilon);
    v.count = state.count;
    v.mean = state.mean;
    v.m2 = state.m2;
    return v;
  }
}
