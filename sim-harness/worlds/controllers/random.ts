import { Rng } from '../rng.js';
import type { World } from '../types.js';
import type { Controller } from './controller.js';

/** Uniformly random actions, reproducible for a seed. */
export function randomController(world: World, seed = 0): Controller {
  const rng = new Rng(seed, 0x5eed);
  const n = world.possibleAgents.length;
  const sizes = world.possibleAgents.map((a) => world.actionSpace(a).n);
  return {
    act(_observations, actions) {
      for (let k = 0; k < actions.length; k++) actions[k] = rng.int(sizes[k % n]);
    },
  };
}
