// What every bundle this package writes says about itself, whether exported from a run or
// imported from elsewhere: the action names of its world, the commit it was made at, and the
// parity tolerance its graphs are held to. No TensorFlow.js here: `bundle import` runs without it.

import { execFileSync } from 'node:child_process';
import type { RoleSpec } from '@fleetmind/models';
import type { World } from '@fleetmind/worlds';

export const PARITY_TOLERANCE = 1e-5;

/** Action names by world family, for the manifest. */
export function actionNames(worldId: string, n: number): string[] {
  if (worldId.startsWith('simple_') && n === 5) return ['no_op', 'left', 'right', 'down', 'up'];
  if (worldId.startsWith('grid_predator_prey') && n === 4) return ['up', 'down', 'left', 'right'];
  if (worldId.startsWith('traffic_junction') && n === 2) return ['gas', 'brake'];
  if (worldId.startsWith('pong') && n === 3) return ['up', 'stay', 'down'];
  return Array.from({ length: n }, (_, a) => `action_${a}`);
}

/** The discrete action that is safe whatever happens: brake (yield) for a car, stay for a paddle, else the first. */
function safeDiscreteAction(worldId: string, names: readonly string[]): number {
  const safe = names.findIndex((name) => name === 'brake' || (worldId.startsWith('pong') && name === 'stay'));
  return safe >= 0 ? safe : 0;
}

/**
 * The manifest's action description and safe action for an agent of a world: Discrete with its
 * names and a safe action (MPE: no_op; grid: the first move, it has no "stay"; traffic junction:
 * brake; Pong: stay), or the Box with its bounds and, as the safe action, no push: 0 in every component
 * that allows it (MPE: no force, damping slows the agent), else the component's bound nearest 0.
 */
export function actionOf(world: Pick<World, 'id' | 'actionSpace'>, agent: number): { action: RoleSpec['action']; safe_action: RoleSpec['safe_action'] } {
  const space = world.actionSpace(agent);
  if (space.kind === 'discrete') {
    const names = actionNames(world.id, space.n);
    return { action: { kind: 'discrete', n: space.n, names }, safe_action: safeDiscreteAction(world.id, names) };
  }
  const size = space.shape[0];
  return {
    action: { kind: 'continuous', size, low: [...space.low], high: [...space.high], names: actionNames(world.id, size) },
    safe_action: space.low.map((low, k) => Math.min(Math.max(0, low), space.high[k])),
  };
}

/** The commit of the working tree the bundle was made in, where there is one. */
export function sourceCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() || null;
  } catch {
    return null;
  }
}
