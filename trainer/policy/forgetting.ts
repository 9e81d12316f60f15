// When a recurrent policy forgets, outside training: the rule the trainer follows (algos/mappo.ts)
// for a policy played step by step on a world — an agent's state is zeroed before the first step
// of its env's episode and before any step that follows one it was not in (it had left, or had
// not entered yet), so an agent that enters mid-episode starts from nothing, as on a robot.

import type { World } from '@fleetmind/worlds';

export class Forgetting {
  /** per row (env-major, then agent): was the agent in the last step */
  private wasActive: Uint8Array;

  constructor(private readonly world: World, private readonly agents: readonly number[], rows: number) {
    this.wasActive = new Uint8Array(rows).fill(1);
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
