// Whom each agent of a size-agnostic fleet talks to. A policy trained on its k nearest
// neighbours has an inbox of k; in a larger fleet each agent's peers are its k nearest agents at
// the start of the run (a static choice: the runtime's peers are fixed for an agent's life, and
// one MQTT topic per peer keeps the broker's fan-out at k, not N).

import type { BatchedWorld } from '@fleetmind/worlds';

/** agent id → its k nearest agents at the first reset of `seed`; null when every peer fits the inbox */
export function nearestPeers(world: BatchedWorld, k: number, seed: number): Map<string, string[]> | null {
  const ids = world.possibleAgents;
  if (ids.length - 1 <= k) return null;
  world.reset(seed, 0);
  const where = world.positions(0);
  if (!where) throw new Error(`${world.id} has no positions: a fleet larger than the inbox picks its peers by distance`);
  const start = where.agents;
  return new Map(ids.map((id, i) => [id, ids
    .map((other, j) => ({ other, d: Math.hypot(start[j][0] - start[i][0], start[j][1] - start[i][1]) }))
    .filter((_, j) => j !== i).sort((a, b) => a.d - b.d).slice(0, k).map((p) => p.other)]));
}
