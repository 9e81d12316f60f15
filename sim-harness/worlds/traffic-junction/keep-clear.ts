// Keep the arrival cells clear: the emergency brake, and a car does not wait on an arrival cell
// when it can drive on. IC3Net places an arriving car on its arrival cell whatever stands there,
// so a car waiting on one can be hit from behind by a car that was not on the road a step before,
// and no brake can stop that. Like a "keep clear" marking at a junction, this rule turns BRAKE
// into GAS for a car on an arrival cell; the emergency brake, applied after it and jointly over
// every car's intent, stops that car again where moving on is unsafe. A car still waits on its
// arrival cell behind a queue, as always-GAS cars do, and can still be hit there.

import { BRAKE, GAS } from './junction-map.js';
import { emergencyBrake, type Traffic } from './emergency-brake.js';

/**
 * Applies the rule and the brake to env e's actions ([E, N], in place); returns how many actions
 * now differ from those given (the shield's overrides).
 */
export function keepClear(traffic: Traffic, arrivalCells: Uint8Array, e: number, actions: Int32Array): number {
  const { n, alive, loc } = traffic;
  const first = e * n;
  const given = actions.slice(first, first + n);
  for (let s = first; s < first + n; s++) if (alive[s] && actions[s] === BRAKE && arrivalCells[loc[s]]) actions[s] = GAS;
  emergencyBrake(traffic, e, actions);
  let overrides = 0;
  for (let i = 0; i < n; i++) if (actions[first + i] !== given[i]) overrides++;
  return overrides;
}
