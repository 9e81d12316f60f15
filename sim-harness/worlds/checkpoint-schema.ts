// The schema of a world checkpoint as it is stored in a training run's checkpoint.json: parsed
// once where the run is read, and typed as the world contract's WorldCheckpoint.

import { z } from 'zod';
import type { WorldCheckpoint, WorldSnapshot } from './types.js';

const points = z.array(z.array(z.number()));

export const worldSnapshotSchema: z.ZodType<WorldSnapshot> = z.object({
  agentPos: points,
  agentVel: points,
  landmarkPos: points,
  steps: z.number().int().nonnegative(),
}); // each world checks a snapshot's sizes and ranges itself when it restores one

export const worldCheckpointSchema: z.ZodType<WorldCheckpoint> = z.object({
  envs: z.array(worldSnapshotSchema),
  rngs: z.array(z.array(z.number())),
});
