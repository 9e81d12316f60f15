// The emergency brake: the seed's "hard-coded emergency brake that overrides the policy". A car
// told to GAS brakes instead when the next cell of its route holds a car that stays there this
// step, or when another car with the right of way enters that cell this step (the one longest in
// the system goes first; on a tie, the lower slot). It is applied jointly, with every car's
// intent known, as each car's automatic braking acts on what its sensors see, so that no two cars
// ever end a step on one cell by moving. What it cannot stop: IC3Net places a new car on its
// arrival cell whatever stands there, so a car held on an arrival cell can still be hit.

import { BRAKE, GAS } from './junction-map.js';

/** The state the brake reads: every car slot's, env-major [E, N]. */
export interface Traffic {
  readonly n: number;
  readonly alive: Uint8Array;
  readonly loc: Int32Array;
  readonly wait: Int32Array;
  /** the cell after a car's current one on its route, or -1 where GAS takes it off the road */
  nextCell(slot: number): number;
}

/** Turns env e's unsafe GAS actions ([E, N], in place) into BRAKE; returns how many it turned. */
export function emergencyBrake(traffic: Traffic, e: number, actions: Int32Array): number {
  const { n, alive, loc, wait } = traffic;
  const first = e * n;
  const moving: number[] = [];
  for (let s = first; s < first + n; s++) if (alive[s] && actions[s] === GAS) moving.push(s);
  const target = new Map(moving.map((s) => [s, traffic.nextCell(s)]));
  const goes = new Set(moving);
  const stop = (s: number) => {
    goes.delete(s);
    actions[s] = BRAKE;
  };
  const before = (a: number, b: number) => wait[a] > wait[b] || (wait[a] === wait[b] && a < b);
  // stopping a car can block the one behind it: repeat until nothing changes
  for (let changed = true; changed;) {
    changed = false;
    for (const s of [...goes]) {
      const cell = target.get(s)!;
      if (cell < 0) continue; // leaving the road frees its cell
      for (let o = first; o < first + n; o++) {
        if (o === s || !alive[o]) continue;
        const staysThere = loc[o] === cell && !goes.has(o);
        const takesIt = goes.has(o) && target.get(o) === cell && before(o, s);
        if (staysThere || takesIt) {
          stop(s);
          changed = true;
          break;
        }
      }
    }
  }
  return moving.length - goes.size;
}
