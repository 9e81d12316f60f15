// A traffic-junction env's snapshot: every car slot's state as IC3Net keeps it, the episode's
// failure flag and the arrival-rate curriculum. Parsed with a schema when restored, and checked
// against the world (slot count, cells on the grid, routes and positions along them).

import { z } from 'zod';
import { WorldError, type WorldSnapshot } from '../types.js';
import { parseWorldSnapshot } from '../checkpoint-schema.js';
import type { JunctionMap } from './junction-map.js';

const int = z.number().int();
const flag = z.number().int().min(0).max(1);

export const junctionSnapshotSchema = z.looseObject({
  difficulty: z.enum(['easy', 'medium', 'hard']),
  alive: z.array(flag),
  /** [row, col] per slot; a car off the road at [0, 0] */
  loc: z.array(z.tuple([int, int])),
  routeId: z.array(int.min(-1)),
  routeLoc: z.array(int.min(-1)),
  lastAct: z.array(flag),
  wait: z.array(int.nonnegative()),
  hasFailed: flag,
  addRate: z.number().min(0).max(1),
  exactRate: z.number().finite(),
  epochLastUpdate: int.nonnegative(),
  episodes: int.nonnegative(),
  /** the arrival stream's state (four unsigned 32-bit integers) */
  arrivalRng: z.tuple([int, int, int, int]).refine((v) => v.every((x) => x >= 0 && x <= 0xffffffff), 'four unsigned 32-bit integers'),
});

export type JunctionSnapshot = z.infer<typeof junctionSnapshotSchema>;

export function parseJunctionSnapshot(worldId: string, snapshot: WorldSnapshot, n: number, map: JunctionMap): JunctionSnapshot {
  const s = parseWorldSnapshot(worldId, junctionSnapshotSchema, snapshot);
  if (s.difficulty !== map.difficulty) throw new WorldError(`${worldId}: snapshot.difficulty: ${s.difficulty}, but this world is ${map.difficulty}`);
  for (const key of ['alive', 'loc', 'routeId', 'routeLoc', 'lastAct', 'wait'] as const) {
    if (s[key].length !== n) throw new WorldError(`${worldId}: snapshot.${key} must hold ${n} entries (one per car slot), got ${s[key].length}`);
  }
  for (let i = 0; i < n; i++) {
    const [r, c] = s.loc[i];
    if (r < 0 || r >= map.size || c < 0 || c >= map.size) throw new WorldError(`${worldId}: snapshot.loc.${i}: [${r}, ${c}] is off the ${map.size}×${map.size} grid`);
    if (s.routeId[i] >= map.paths.length) throw new WorldError(`${worldId}: snapshot.routeId.${i}: ${s.routeId[i]} is not a route (there are ${map.paths.length})`);
    if (!s.alive[i]) continue;
    const path = s.routeId[i] >= 0 ? map.paths[s.routeId[i]] : null;
    if (!path || s.routeLoc[i] < 0 || s.routeLoc[i] >= path.length || path[s.routeLoc[i]] !== r * map.size + c) {
      throw new WorldError(`${worldId}: snapshot: car ${i} is alive but [${r}, ${c}] is not cell ${s.routeLoc[i]} of route ${s.routeId[i]}`);
    }
  }
  return s;
}
