// The settings of a MADDPG run and their defaults: plain data, no TensorFlow.js, so the command
// line can describe them without loading the trainer.

import { z } from 'zod';
import { networkFields, replayBudgetFields, worldFields } from './run-fields.js';

export const maddpgConfigSchema = z.strictObject({
  ...worldFields,
  algo: z.literal('maddpg'),
  ...replayBudgetFields,
  ...networkFields,
  actorLr: z.number().positive(),
  criticLr: z.number().positive(),
  gamma: z.number().min(0).max(1),
  /** Polyak step of the target networks per update */
  tau: z.number().min(0).max(1),
  /** replay capacity in joint transitions */
  bufferSize: z.number().int().positive(),
  batchSize: z.number().int().positive(),
  learningStarts: z.number().int().nonnegative(),
  /** one update per this many env steps */
  trainEvery: z.number().int().positive(),
  /** Gumbel-softmax temperature of the actor's relaxed action in the policy gradient */
  gumbelTemperature: z.number().positive(),
  /** weight of the mean squared logits in the actor loss (keeps logits from running off) */
  logitPenalty: z.number().nonnegative(),
  maxGradNorm: z.number().positive(),
  /** continuous actions: the exploration noise's standard deviation, as a fraction of each component's half-width (default 0.2) */
  explorationNoise: z.number().nonnegative().optional(),
  /** continuous actions: weight of the actor's mean squared distance outside the box (keeps it where the critic learned; default 1) */
  boxPenalty: z.number().nonnegative().optional(),
});

export type MaddpgConfig = z.infer<typeof maddpgConfigSchema>;

export const defaultMaddpgConfig: MaddpgConfig = {
  world: 'simple_spread_v3',
  worldConfig: {},
  algo: 'maddpg',
  numEnvs: 8,
  totalSteps: 500_000,
  maxEpisodes: null,
  seed: 1,
  hidden: [64, 64],
  activation: 'relu',
  inputLayerNorm: true,
  agentId: true,
  actorLr: 1e-3,
  criticLr: 1e-3,
  gamma: 0.95,
  tau: 0.01,
  bufferSize: 50_000,
  batchSize: 256,
  learningStarts: 5_000,
  trainEvery: 16,
  gumbelTemperature: 1,
  logitPenalty: 1e-3,
  maxGradNorm: 0.5,
};
