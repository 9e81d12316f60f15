// The settings of an IQL (deep Q-network per agent), VDN or QMIX run and their defaults: plain
// data, no TensorFlow.js, so the command line can describe them without loading the trainer.

import { z } from 'zod';
import { networkFields, replayBudgetFields, worldFields } from './run-fields.js';

export const qLearningConfigSchema = z.strictObject({
  ...worldFields,
  /** iql: each agent learns its own Q from its own reward; vdn/qmix: a team Q_tot from the team reward */
  algo: z.enum(['iql', 'vdn', 'qmix']),
  ...replayBudgetFields,
  ...networkFields,
  /**
   * each agent's Q-network: mlp (its observation now) or gru (PyMARL's RNN agent: an encoder, a
   * GRU cell of hidden[0] units and a linear head, remembering the episode so far). A GRU learns
   * on whole episodes unrolled from their start, IQL's updates too (batchEpisodes of them)
   */
  actor: z.enum(['mlp', 'gru']).default('mlp'),
  lr: z.number().positive(),
  gamma: z.number().min(0).max(1),
  /** replay capacity in joint transitions */
  bufferSize: z.number().int().positive(),
  /** iql with an MLP: transitions per update */
  batchSize: z.number().int().positive(),
  /** vdn/qmix, and any GRU: whole episodes per update */
  batchEpisodes: z.number().int().positive(),
  /** env steps before the first update */
  learningStarts: z.number().int().nonnegative(),
  /** one gradient update per this many env steps */
  trainEvery: z.number().int().positive(),
  /** copy the online networks into the targets every this many updates */
  targetUpdateEvery: z.number().int().positive(),
  epsilonStart: z.number().min(0).max(1),
  epsilonEnd: z.number().min(0).max(1),
  /** env steps over which ε falls linearly from start to end */
  epsilonSteps: z.number().int().positive(),
  /** double Q-learning: the online network picks a′, the target network values it */
  doubleQ: z.boolean(),
  maxGradNorm: z.number().positive(),
  /** QMIX mixing width and hypernetwork width */
  mixerEmbed: z.number().int().positive(),
  hyperHidden: z.number().int().positive(),
});

export type QLearningConfig = z.infer<typeof qLearningConfigSchema>;

export const defaultQLearningConfig: QLearningConfig = {
  world: 'simple_spread_v3',
  worldConfig: {},
  algo: 'qmix',
  numEnvs: 8,
  totalSteps: 500_000,
  maxEpisodes: null,
  seed: 1,
  hidden: [64, 64],
  activation: 'relu',
  inputLayerNorm: true,
  agentId: true,
  actor: 'mlp',
  lr: 5e-4,
  gamma: 0.99,
  bufferSize: 50_000,
  batchSize: 256,
  batchEpisodes: 16,
  learningStarts: 5_000,
  trainEvery: 16,
  targetUpdateEvery: 200,
  epsilonStart: 1,
  epsilonEnd: 0.05,
  epsilonSteps: 100_000,
  doubleQ: true,
  maxGradNorm: 10,
  mixerEmbed: 32,
  hyperHidden: 64,
};
