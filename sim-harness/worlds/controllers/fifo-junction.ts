// The traffic junction's scripted controller: the seed's "sequential turn-taking (FIFO)". A car
// drives on, except into a junction: it enters one only when no car is in it, and of the cars
// waiting at a junction the one longest in the system goes first (on a tie, the lower slot). The
// emergency brake then keeps cars from running into those ahead. It reads the whole junction (the
// world's snapshot), as a traffic controller at the crossing would: a centralized baseline.

import { BRAKE, buildJunctionMap, GAS, type JunctionMap } from '../traffic-junction/junction-map.js';
import { emergencyBrake, type Traffic } from '../traffic-junction/emergency-brake.js';
import { parseJunctionSnapshot } from '../traffic-junction/junction-snapshot.js';
import type { Actions, World } from '../types.js';
import type { Controller } from './controller.js';

export function fifoJunctionController(world: World): Controller {
  const n = world.possibleAgents.length;
  let map: JunctionMap | null = null;
  let blockOf: Int32Array | null = null;
  return {
    act(_observations, actions: Actions) {
      for (let e = 0; e < world.numEnvs; e++) {
        const snapshot = world.snapshot(e);
        map ??= buildJunctionMap(snapshot.difficulty as JunctionMap['difficulty']);
        blockOf ??= junctionBlocks(map);
        const s = parseJunctionSnapshot(world.id, snapshot, n, map);
        const { size, paths } = map;
        const traffic: Traffic = {
          n,
          alive: Uint8Array.from(s.alive),
          loc: Int32Array.from(s.loc, ([r, c]) => r * size + c),
          wait: Int32Array.from(s.wait),
          nextCell: (slot) => (s.routeLoc[slot] + 1 < paths[s.routeId[slot]].length ? paths[s.routeId[slot]][s.routeLoc[slot] + 1] : -1),
        };
        const busy = new Set<number>();
        for (let i = 0; i < n; i++) if (s.alive[i] && blockOf[traffic.loc[i]] >= 0) busy.add(blockOf[traffic.loc[i]]);
        const first = new Map<number, number>(); // junction → the car whose turn it is
        const intents = new Int32Array(n).fill(GAS);
        for (let i = 0; i < n; i++) {
          if (!s.alive[i]) continue;
          const next = traffic.nextCell(i);
          const block = next >= 0 ? blockOf[next] : -1;
          if (block < 0 || blockOf[traffic.loc[i]] === block) continue;
          intents[i] = BRAKE;
          if (busy.has(block)) continue;
          const current = first.get(block);
          if (current === undefined || s.wait[i] > s.wait[current]) first.set(block, i);
        }
        for (const car of first.values()) intents[car] = GAS;
        emergencyBrake(traffic, 0, intents);
        actions.set(intents, e * n);
      }
    },
  };
}

/** each cell's junction (a connected block of crossing cells), or -1 off the junctions */
function junctionBlocks(map: JunctionMap): Int32Array {
  const { size, junction } = map;
  const block = new Int32Array(size * size).fill(-1);
  let blocks = 0;
  for (let start = 0; start < size * size; start++) {
    if (!junction[start] || block[start] >= 0) continue;
    const stack = [start];
    block[start] = blocks;
    while (stack.length > 0) {
      const cell = stack.pop()!;
      const [r, c] = [Math.floor(cell / size), cell % size];
      for (const [nr, nc] of [[r + 1, c], [r - 1, c], [r, c + 1], [r, c - 1]]) {
        const next = nr * size + nc;
        if (nr >= 0 && nr < size && nc >= 0 && nc < size && junction[next] && block[next] < 0) {
          block[next] = blocks;
          stack.push(next);
        }
      }
    }
    blocks++;
  }
  return block;
}
