// What every bundle this package writes says about itself, whether exported from a run or
// imported from elsewhere: the action names of its world, the commit it was made at, and the
// parity tolerance its graphs are held to. No TensorFlow.js here: `bundle import` runs without it.

import { execFileSync } from 'node:child_process';

export const PARITY_TOLERANCE = 1e-5;

/** Action names by world family, for the manifest. */
export function actionNames(worldId: string, n: number): string[] {
  if (worldId.startsWith('simple_') && n === 5) return ['no_op', 'left', 'right', 'down', 'up'];
  if (worldId.startsWith('grid_predator_prey') && n === 4) return ['up', 'down', 'left', 'right'];
  return Array.from({ length: n }, (_, a) => `action_${a}`);
}

/** The commit of the working tree the bundle was made in, where there is one. */
export function sourceCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() || null;
  } catch {
    return null;
  }
}
