// How a self-play run stands: each role's greedy return against the latest other roles, and
// against the world's scripted controller, with the outcomes (e.g. catches) of each match-up
// and of scripted against scripted, all on the same evaluation episodes.

import { evaluateController, openWorld, roleMixController, scriptedController } from '@fleetmind/worlds';
import type { MappoCheckpoint } from '../runs/checkpoint-schema.js';
import { greedyPolicy } from './greedy-policy.js';

export function measureSelfPlay(checkpoint: MappoCheckpoint, episodes: number, seed: number): Record<string, number> {
  const { config } = checkpoint;
  const world = openWorld(config.world, { numEnvs: episodes, autoReset: false, config: config.worldConfig });
  const trained = greedyPolicy(checkpoint, world);
  const scripted = scriptedController(world);
  const metrics: Record<string, number> = {};
  const record = (prefix: string, report: ReturnType<typeof evaluateController>, role?: string) => {
    if (role) metrics[`${prefix}_return`] = report.role_return_mean[role];
    for (const [key, value] of Object.entries(report.outcomes)) if (!key.endsWith('_final')) metrics[`${prefix}_${key}`] = value;
  };
  const latest = evaluateController(world, trained, seed);
  const roles = [...new Set(world.roles)];
  for (const role of roles) {
    metrics[`selfplay/${role}_vs_latest_return`] = latest.role_return_mean[role];
    const mix = roleMixController(world.roles, Object.fromEntries(roles.map((r) => [r, r === role ? trained : scripted])));
    record(`selfplay/${role}_vs_scripted`, evaluateController(world, mix, seed), role);
  }
  record('selfplay/latest_vs_latest', latest);
  record('selfplay/scripted_vs_scripted', evaluateController(world, scripted, seed));
  return metrics;
}
