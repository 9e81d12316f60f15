// What an agent's network reads: its own observation, then (optionally) its one-hot index in its
// role, so agents sharing parameters can still specialise. The same layout the bundle's graphs take.

import type { ReplayBuffer } from '../rl/replay-buffer.js';

/** The actor's input for agent i of a role: its observation, then its one-hot index in the role. */
export function actorInputSize(obsDim: number, roleSize: number, agentId: boolean): number {
  return obsDim + (agentId ? roleSize : 0);
}

/**
 * Writes the actor inputs of a role for every env: [E, roleSize, actorIn]. With `rows`, only the
 * rows r where rows[r] ≠ 0 (the agents in the step, for an actor that reads no other): the
 * others keep what they held.
 */
export function writeActorInputs(nets: { agents: number[]; obsDim: number }, observations: readonly Float32Array[], numEnvs: number, agentId: boolean, out: Float32Array, rows?: ArrayLike<number>): void {
  const n = nets.agents.length;
  const inDim = actorInputSize(nets.obsDim, n, agentId);
  for (let e = 0; e < numEnvs; e++) {
    for (let k = 0; k < n; k++) {
      if (rows && rows[e * n + k] === 0) continue;
      const row = (e * n + k) * inDim;
      out.set(observations[nets.agents[k]].subarray(e * nets.obsDim, (e + 1) * nets.obsDim), row);
      if (agentId) for (let j = 0; j < n; j++) out[row + nets.obsDim + j] = j === k ? 1 : 0;
    }
  }
}

/** A role's network inputs for the sampled slots: [slots·m, in], row = slot·m + q. */
export function replayAgentInputs(replay: ReplayBuffer, nets: { agents: number[]; obsDim: number }, slots: Int32Array, agentId: boolean, next: boolean): Float32Array {
  const m = nets.agents.length;
  const inDim = actorInputSize(nets.obsDim, m, agentId);
  const out = new Float32Array(slots.length * m * inDim);
  nets.agents.forEach((agent, q) => {
    const obs = replay.observationsOf(agent, slots, next);
    for (let b = 0; b < slots.length; b++) {
      const row = (b * m + q) * inDim;
      out.set(obs.subarray(b * nets.obsDim, (b + 1) * nets.obsDim), row);
      if (agentId) out[row + nets.obsDim + q] = 1;
    }
  });
  return out;
}
