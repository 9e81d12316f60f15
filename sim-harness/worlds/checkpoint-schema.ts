// The schema of a world checkpoint as it is stored in a training run's checkpoint.json: parsed
// once where the run is read, and typed as the world contract's WorldCheckpoint.

import { z } from 'zod';
import type { WorldCheckpoint, WorldSnapshot } from './types.js';

/** The steps, and whatever else the world put there: each world checks its own fields when it restores one. */
export const worldSnapshotSchema: z.ZodType<WorldSnapshot> = z.looseObject({
  steps: z.number().int().nonnegative(),
});

export const worldCheckpointSchema: z.ZodType<WorldCheckpoint> = z.object({
  envs: z.array(worldSnapshotSchema),
  rngs: z.array(z.array(z.number())),
});
