// What an agent's network reads: its own observation, then (optionally) its one-hot index in its
// role, so agents sharing parameters can still specialise. The same layout the bundle's graphs take.

/** The actor's input for agent i of a role: its observation, then its one-hot index in the role. */
export function actorInputSize(obsDim: number, roleSize: number, agentId: boolean): number {
  return obsDim + (agentId ? roleSize : 0);
}

/** Writes the actor inputs of a role for every env: [E, roleSize, actorIn]. */
export function writeActorInputs(nets: { agents: number[]; obsDim: number }, observations: readonly Float32Array[], numEnvs: number, agentId: boolean, out: Float32Array): void {
  const n = nets.agents.length;
  const inDim = actorInputSize(nets.obsDim, n, agentId);
  for (let e = 0; e < numEnvs; e++) {
    for (let k = 0; k < n; k++) {
      const row = (e * n + k) * inDim;
      out.set(observations[nets.agents[k]].subarray(e * nets.obsDim, (e + 1) * nets.obsDim), row);
      if (agentId) for (let j = 0; j < n; j++) out[row + nets.obsDim + j] = j === k ? 1 : 0;
    }
  }
}
