// Acting with a categorical policy from logits, on plain arrays (cheaper than tensors for a
// batch of a few hundred rows): sample (or take the argmax) and report log π(a).

import type { Rng } from '@fleetmind/worlds';

/**
 * logits: [B, A]. Writes actions[offset + b·stride] and logProbs[b] for each row b.
 * greedy: argmax instead of sampling.
 */
export function actCategorical(
  logits: Float32Array, numActions: number, rng: Rng | null,
  actions: Int32Array | Float32Array, actionIndex: (row: number) => number, logProbs: Float32Array,
): void {
  const rows = logits.length / numActions;
  for (let b = 0; b < rows; b++) {
    const o = b * numActions;
    let max = -Infinity;
    for (let a = 0; a < numActions; a++) max = Math.max(max, logits[o + a]);
    let sum = 0;
    for (let a = 0; a < numActions; a++) sum += Math.exp(logits[o + a] - max);
    const logSum = Math.log(sum) + max;
    let chosen = 0;
    if (rng === null) {
      for (let a = 1; a < numActions; a++) if (logits[o + a] > logits[o + chosen]) chosen = a;
    } else {
      let u = rng.next() * sum;
      chosen = numActions - 1;
      for (let a = 0; a < numActions; a++) {
        u -= Math.exp(logits[o + a] - max);
        if (u < 0) { chosen = a; break; }
      }
    }
    actions[actionIndex(b)] = chosen;
    logProbs[b] = logits[o + chosen] - logSum;
  }
}
