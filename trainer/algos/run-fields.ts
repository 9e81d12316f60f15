// The settings every algorithm's configuration shares, as schema fields spread into each
// algorithm's schema: where the run is, its seed, and (for the network learners) the shape of
// their networks and the budget of a replay-based run.

import { z } from 'zod';

/** every run: the world and the seed */
export const worldFields = {
  /** world id or alias */
  world: z.string().min(1),
  /** a plugin world: the absolute path of its module (to load it again for eval, export, resume) */
  worldModule: z.string().min(1).optional(),
  /** world-specific options, e.g. { N: 3 } */
  worldConfig: z.record(z.string(), z.unknown()),
  seed: z.number().int().nonnegative(),
};

/** every network learner: hidden layers, activation, input LayerNorm, the one-hot agent id */
export const networkFields = {
  /** hidden layer widths */
  hidden: z.array(z.number().int().positive()).min(1),
  /** hidden-layer activation */
  activation: z.enum(['tanh', 'relu']),
  /** LayerNorm on the network inputs */
  inputLayerNorm: z.boolean(),
  /** append a one-hot agent index to the inputs */
  agentId: z.boolean(),
};

/** the replay-based learners' budget: parallel envs, env steps, and an optional episode cap */
export const replayBudgetFields = {
  numEnvs: z.number().int().positive(),
  /** total env steps (each moves every agent once) */
  totalSteps: z.number().int().positive(),
  /** stop after this many finished episodes, if sooner (null: no limit) */
  maxEpisodes: z.number().int().positive().nullable(),
};
