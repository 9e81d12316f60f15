// The box a continuous role's actions must stay in, enforced just before the actuator: every
// vector is clamped into the manifest's bounds and, when asked (actionRateLimit), each component
// moves at most that much from one tick's applied action to the next, as a steering servo or a
// throttle should. Both are shield overrides: the agent counts and records them as such. The
// safe action is never slowed: when the policy cannot decide, stopping now matters more.

import type { RoleSpec } from '@fleetmind/models';

export class ActionBox {
  private readonly low: Float32Array;
  private readonly high: Float32Array;
  private last: Float32Array | null = null;

  constructor(action: Extract<RoleSpec['action'], { kind: 'continuous' }>, private readonly maxStep: number | null) {
    this.low = Float32Array.from(action.low);
    this.high = Float32Array.from(action.high);
  }

  /** Clamps `v` into the box in place and, unless `safe`, limits its step from the last applied action; true when anything changed. */
  guard(v: Float32Array, safe: boolean): boolean {
    let changed = false;
    for (let k = 0; k < v.length; k++) {
      let x = Math.min(Math.max(v[k], this.low[k]), this.high[k]);
      if (this.maxStep !== null && this.last && !safe) x = Math.min(Math.max(x, this.last[k] - this.maxStep), this.last[k] + this.maxStep);
      x = Math.fround(x);
      if (x !== v[k]) changed = true;
      v[k] = x;
    }
    this.last = v.slice();
    return changed;
  }
}

/** True when every component is a finite number (a NaN or ±Inf action goes to the safe action). */
export function allFinite(v: Float32Array): boolean {
  for (let k = 0; k < v.length; k++) if (!Number.isFinite(v[k])) return false;
  return true;
}
