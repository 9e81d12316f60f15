// Generalized Advantage Estimation (Schulman et al. 2016, "High-Dimensional Continuous Control
// Using Generalized Advantage Estimation"), over T steps of B parallel streams (env × agent).
//
//   δ_t = r_t + γ · V_next(t) − V(s_t)
//   A_t = δ_t + γλ · (1 − done_t) · A_{t+1}
// where V_next(t) is V(s_{t+1}) while the episode goes on, 0 when it terminated, and the value of
// its final observation when it was cut by the time limit (bootstrapping a truncation).

export interface GaeInput {
  /** [T, B] rewards of step t */
  rewards: Float32Array;
  /** [T, B] V(s_t) */
  values: Float32Array;
  /** [T, B] 1 when the episode ended at step t (terminated or truncated) */
  dones: Uint8Array;
  /** [B] V(s_T): the value after the last step of the rollout */
  lastValues: Float32Array;
  /** [T, B] optional: 1 when the episode ended at t by truncation (not by the task) */
  truncated?: Uint8Array;
  /** [T, B] optional: V(final observation) where truncated */
  truncationValues?: Float32Array;
  gamma: number;
  lambda: number;
}

export interface GaeOutput {
  /** [T, B] */
  advantages: Float32Array;
  /** [T, B] advantages + values: the critic's targets */
  returns: Float32Array;
}

export function computeGae(input: GaeInput): GaeOutput {
  const { rewards, values, dones, lastValues, truncated, truncationValues, gamma, lambda } = input;
  const b = lastValues.length;
  const t = rewards.length / b;
  if (!Number.isInteger(t) || values.length !== rewards.length || dones.length !== rewards.length) {
    throw new Error(`computeGae: rewards, values and dones must all be [T, ${b}], got ${rewards.length}, ${values.length}, ${dones.length}`);
  }
  const advantages = new Float32Array(rewards.length);
  const returns = new Float32Array(rewards.length);
  const lastGae = new Float64Array(b);
  for (let step = t - 1; step >= 0; step--) {
    for (let j = 0; j < b; j++) {
      const k = step * b + j;
      const done = dones[k] === 1;
      let nextValue: number;
      if (!done) nextValue = step === t - 1 ? lastValues[j] : values[k + b];
      else if (truncated?.[k] && truncationValues) nextValue = truncationValues[k];
      else nextValue = 0;
      const delta = rewards[k] + gamma * nextValue - values[k];
      lastGae[j] = delta + gamma * lambda * (done ? 0 : 1) * lastGae[j];
      advantages[k] = lastGae[j];
      returns[k] = lastGae[j] + values[k];
    }
  }
  return { advantages, returns };
}
