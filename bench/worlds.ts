// Throughput of a world under random actions, resets included: env-steps per second.

import { makeWorld, median, randomController } from '@fleetmind/worlds';

export interface WorldBenchCase {
  world: string;
  agents: number;
  envs: number;
  /** median over runs */
  env_steps_per_s: number;
  runs: number[];
}

export interface WorldBenchOptions {
  world?: string;
  /** the world's options (simple_spread: N is --agents unless given here) */
  config?: Record<string, unknown>;
  agents?: number;
  envCounts?: number[];
  /** seconds per run (default 1) */
  seconds?: number;
  /** runs per case; the median is reported (default 5) */
  runs?: number;
}

const ACTION_BATCHES = 64;

export function benchWorld(options: WorldBenchOptions = {}): WorldBenchCase[] {
  const worldId = options.world ?? 'simple_spread_v3';
  const agents = options.agents ?? 3;
  const seconds = options.seconds ?? 1;
  const runs = options.runs ?? 5;
  return (options.envCounts ?? [1, 256]).map((envs) => {
    const world = makeWorld(worldId, { numEnvs: envs, config: { ...(worldId === 'simple_spread_v3' ? { N: agents } : {}), ...options.config } });
    const space = world.actionSpace(0);
    const width = space.kind === 'discrete' ? 1 : space.shape[0];
    const n = world.possibleAgents.length;
    // actions are drawn before timing, as in the PettingZoo peer measurement
    const policy = randomController(world, 1);
    const { observations } = world.reset(1);
    const batches = Array.from({ length: ACTION_BATCHES }, () => {
      const a = space.kind === 'discrete' ? new Int32Array(envs * n) : new Float32Array(envs * n * width);
      policy.act(observations, a);
      return a;
    });
    const rates: number[] = [];
    for (let r = 0; r < runs + 1; r++) {
      let steps = 0;
      const start = performance.now();
      const stopAt = start + seconds * 1000;
      let now = start;
      while (now < stopAt) {
        for (let k = 0; k < 16; k++) world.step(batches[(steps + k) % ACTION_BATCHES]);
        steps += 16;
        now = performance.now();
      }
      if (r > 0) rates.push((steps * envs) / ((now - start) / 1000)); // run 0 warms up the JIT
    }
    return { world: world.id, agents: n, envs, env_steps_per_s: Math.round(median(rates)), runs: rates.map(Math.round) };
  });
}
