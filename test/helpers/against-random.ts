// A trained checkpoint's greedy policy and the random policy, on the same seeded episodes.

import { evaluateController, makeWorld, randomController } from '@fleetmind/worlds';
import { greedyPolicy, type TrainingCheckpoint } from '@fleetmind/trainer';

/** greedy per-agent return of a checkpoint against the random policy on the same 200 episodes */
export function againstRandom(checkpoint: TrainingCheckpoint, seed = 11) {
  const world = makeWorld(checkpoint.config.world, { numEnvs: 200, autoReset: false, config: checkpoint.config.worldConfig });
  return {
    trained: evaluateController(world, greedyPolicy(checkpoint, world), seed),
    random: evaluateController(world, randomController(world, seed), seed),
  };
}
