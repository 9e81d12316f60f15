// Keep the arrival cells clear: the emergency brake, and no car waits on an arrival cell, or holds
// up the queue standing on one, when it can drive on. IC3Net places an arriving car on its arrival
// cell whatever stands there, so a car waiting on one can be hit from behind by a car that was
// not on the road a step before, and no brake can stop that. Like a "keep clear" marking, this
// rule turns BRAKE into GAS for a car on an arrival cell and for each car of the queue ahead of
// it, cell by cell along the lane; the emergency brake, applied after it and jointly over every
// car's intent, stops again each car for which moving on is unsafe. A car still waits on its
// arrival cell behind a queue that cannot move, as always-GAS cars do, and can still be hit there.

import { GAS } from './junction-map.js';
import { emergencyBrake, type Traffic } from './emergency-brake.js';

/**
 * Applies the rule and the brake to env e's actions ([E, N], in place); returns how many actions
 * now differ from those given (the shield's overrides).
 */
export function keepClear(traffic: Traffic, arrivalCells: Uint8Array, e: number, actions: Int32Array): number {
  const { n, alive, loc } = traffic;
  const first = e * n;
  const given = actions.slice(first, first + n);
  const carOn = new Map<number, number>();
  for (let s = first; s < first + n; s++) if (alive[s]) carOn.set(loc[s], s);
  const moved = new Set<number>();
  for (let s = first; s < first + n; s++) {
    if (!alive[s] || !arrivalCells[loc[s]]) continue;
    // the car on the arrival cell, then the one on the cell ahead of it, and so on up the queue
    // (a queue that closes on itself in a junction ends where it began)
    for (let car: number | undefined = s; car !== undefined && !moved.has(car); ) {
      moved.add(car);
      actions[car] = GAS;
      const next = traffic.nextCell(car);
      car = next < 0 ? undefined : carOn.get(next);
    }
  }
  emergencyBrake(traffic, e, actions);
  let overrides = 0;
  for (let i = 0; i < n; i++) if (actions[first + i] !== given[i]) overrides++;
  return overrides;
}
