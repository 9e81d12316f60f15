// The schema of a world checkpoint as it is stored in a training run's checkpoint.json: parsed
// once where the run is read, and typed as the world contract's WorldCheckpoint.

import { z } from 'zod';
import { WorldError, type WorldCheckpoint, type WorldSnapshot } from './types.js';

/** The steps, and whatever else the world put there: each world checks its own fields when it restores one. */
export const worldSnapshotSchema: z.ZodType<WorldSnapshot> = z.looseObject({
  steps: z.number().int().nonnegative(),
});

export const worldCheckpointSchema: z.ZodType<WorldCheckpoint> = z.object({
  envs: z.array(worldSnapshotSchema),
  rngs: z.array(z.array(z.number())),
});

/** A world's own snapshot fields, parsed with its schema; a WorldError names the first field that is wrong. */
export function parseWorldSnapshot<T>(worldId: string, schema: z.ZodType<T>, snapshot: WorldSnapshot, hint = ''): T {
  const parsed = schema.safeParse(snapshot);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new WorldError(`${worldId}: snapshot.${issue.path.join('.')}: ${issue.message}${hint}`);
}
