// Per-element bounds of a role's observations for its manifest: what random play in the world
// shows, widened on each side by the span seen (at least 1). A robot's agent gives the safe
// action for an observation outside them (observation_out_of_range): a sensor reporting 1e30 is
// refused, while anything the world can plausibly produce passes.

import { openWorld, randomController } from '@fleetmind/worlds';

const ENVS = 32;
const EPISODES_PER_ENV = 4;

export interface ObservationBounds {
  low: number[];
  high: number[];
}

/** One entry per role: `roleAgents[r]` are the role's agent indices, all observing the same size. */
export function observationBounds(worldId: string, worldConfig: Record<string, unknown>, roleAgents: number[][], seed: number): ObservationBounds[] {
  const world = openWorld(worldId, { numEnvs: ENVS, config: worldConfig });
  try {
    const n = world.possibleAgents.length;
    const sizes = roleAgents.map((agents) => world.observationSpace(agents[0]).shape[0]);
    const min = sizes.map((d) => new Float64Array(d).fill(Infinity));
    const max = sizes.map((d) => new Float64Array(d).fill(-Infinity));
    const see = (observations: Float32Array[], active: Uint8Array) => {
      roleAgents.forEach((agents, r) => {
        const d = sizes[r];
        for (const i of agents) {
          for (let e = 0; e < ENVS; e++) {
            if (!active[e * n + i]) continue;
            for (let k = 0; k < d; k++) {
              const v = observations[i][e * d + k];
              if (v < min[r][k]) min[r][k] = v;
              if (v > max[r][k]) max[r][k] = v;
            }
          }
        }
      });
    };
    const first = world.reset(seed);
    see(first.observations, first.active);
    const policy = randomController(world, seed);
    const space = world.actionSpace(0);
    const actions = space.kind === 'discrete' ? new Int32Array(ENVS * n) : new Float32Array(ENVS * n * space.shape[0]);
    let observations = first.observations;
    for (let t = 0; t < EPISODES_PER_ENV * world.maxCycles; t++) {
      policy.act(observations, actions);
      const r = world.step(actions);
      observations = r.observations;
      see(observations, r.active);
    }
    return sizes.map((d, r) => {
      const low: number[] = [];
      const high: number[] = [];
      for (let k = 0; k < d; k++) {
        // an element never seen (an agent never active): no bound worth the name
        if (!Number.isFinite(min[r][k])) { low.push(-3.4e38); high.push(3.4e38); continue; }
        const margin = Math.max(max[r][k] - min[r][k], 1);
        low.push(Math.fround(min[r][k] - margin));
        high.push(Math.fround(max[r][k] + margin));
      }
      return { low, high };
    });
  } finally {
    world.close();
  }
}
