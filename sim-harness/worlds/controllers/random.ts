import { Rng } from '../rng.js';
import type { World } from '../types.js';
import type { Controller } from './controller.js';

/** Uniformly random actions, reproducible for a seed: Discrete(n) uniformly, a Box uniformly inside it (float32). */
export function randomController(world: World, seed = 0): Controller {
  const rng = new Rng(seed, 0x5eed);
  const n = world.possibleAgents.length;
  const spaces = world.possibleAgents.map((a) => world.actionSpace(a));
  return {
    act(_observations, actions) {
      const first = spaces[0];
      if (first.kind === 'discrete') {
        for (let k = 0; k < actions.length; k++) actions[k] = rng.int((spaces[k % n] as typeof first).n);
        return;
      }
      const d = first.shape[0];
      for (let k = 0; k < actions.length; k++) {
        const c = k % d;
        actions[k] = Math.fround(first.low[c] + rng.next() * (first.high[c] - first.low[c]));
      }
    },
  };
}
