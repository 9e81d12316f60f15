import { WorldError, type World } from '../types.js';
import type { Controller } from './controller.js';

/**
 * Every agent always takes discrete action k: a baseline where one exists (the traffic junction's
 * "always GAS" is action 0).
 */
export function constantController(world: World, k: number): Controller {
  for (const agent of world.possibleAgents) {
    const space = world.actionSpace(agent);
    if (space.kind !== 'discrete') throw new WorldError(`a constant action needs discrete actions; ${agent} of ${world.id} has a Box`);
    if (!Number.isInteger(k) || k < 0 || k >= space.n) throw new WorldError(`action ${k} is outside ${agent}'s Discrete(${space.n}) in ${world.id}`);
  }
  return { act: (_observations, actions) => { actions.fill(k); } };
}
