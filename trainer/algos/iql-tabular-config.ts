// The settings of a tabular IQL run (the seed notebook's) and their defaults: plain data, no
// TensorFlow.js, so the command line can describe them without loading the trainer.

import { z } from 'zod';
import { worldFields } from './run-fields.js';

export const tabularIqlConfigSchema = z.strictObject({
  ...worldFields,
  algo: z.literal('iql-tabular'),
  episodes: z.number().int().positive(),
  /** learning rate α */
  alpha: z.number().min(0).max(1),
  gamma: z.number().min(0).max(1),
  epsilonStart: z.number().min(0).max(1),
  /** ε ← max(epsilonMin, ε · epsilonDecay) after every episode */
  epsilonDecay: z.number().min(0).max(1),
  epsilonMin: z.number().min(0).max(1),
});

export type TabularIqlConfig = z.infer<typeof tabularIqlConfigSchema>;

export const defaultTabularIqlConfig: TabularIqlConfig = {
  world: 'grid_predator_prey_v0',
  worldConfig: {},
  algo: 'iql-tabular',
  episodes: 2000,
  seed: 1,
  alpha: 0.1,
  gamma: 0.99,
  epsilonStart: 1,
  epsilonDecay: 0.995,
  epsilonMin: 0.01,
};
