// When a recurrent policy forgets, played step by step on a world (evaluation, and a GRU
// Q-network acting in training), by the rule MAPPO's rollouts follow (algos/mappo.ts): an agent's
// state is zeroed before the first step of its env's episode and before any step that follows one
// it was not in (it had left, or had not entered yet), so an agent that enters mid-episode starts
// from nothing, as on a robot.

import type { World } from '@fleetmind/worlds';

export class Forgetting {
  /** per row (env-major, then agent): was the agent in the last step */
  private wasActive: Uint8Array;

  constructor(private readonly world: World, private readonly agents: readonly number[], rows: number) {
    this.wasActive = new Uint8Array(rows).fill(1);
  }

  /** per row, whether its agent was in the last step (a checkpoint keeps it: the next mark depends on it) */
  saved(): Uint8Array {
    return this.wasActive.slice();
  }

  restore(wasActive: Uint8Array): void {
    if (wasActive.length !== this.wasActive.length) throw new Error(`a saved memory of ${wasActive.length} rows for ${this.wasActive.length}`);
    this.wasActive.set(wasActive);
  }

  /** Before a step of `envs` envs: sets resets[row] = 1 for every row whose state must go. */
  mark(resets: Uint8Array, envs: number): void {
    const k = this.agents.length;
    const n = this.world.possibleAgents.length;
    if (this.wasActive.length !== envs * k) this.wasActive = new Uint8Array(envs * k).fill(1);
    for (let row = 0; row < envs * k; row++) {
      const env = Math.floor(row / k);
      if (this.world.stepsInEpisode(env) === 0 || !this.wasActive[row]) resets[row] = 1;
      this.wasActive[row] = this.world.active[env * n + this.agents[row % k]];
    }
  }
}
