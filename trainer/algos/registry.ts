// Every training algorithm behind one call, chosen by config.algo, for the command line.

import type { MaddpgCheckpoint, MappoCheckpoint, QLearningCheckpoint, TabularIqlCheckpoint, TrainingCheckpoint } from '../runs/checkpoint-schema.js';
import { parseTrainingConfig, type TrainingConfig } from './training-config.js';
import type { TrainingHooks } from './hooks.js';
import { trainMappo } from './mappo.js';
import { trainQLearning } from './q-learning.js';
import { trainMaddpg } from './maddpg.js';
import { trainTabularIql } from './iql-tabular.js';

/** Trains with any algorithm; the configuration is validated first (parseTrainingConfig), whoever built it. */
export async function train(input: TrainingConfig, hooks: TrainingHooks<TrainingCheckpoint> = {}, resume?: TrainingCheckpoint): Promise<TrainingCheckpoint> {
  const config = parseTrainingConfig(input);
  if (resume && resume.config.algo !== config.algo) throw new Error(`the checkpoint is a ${resume.config.algo} run, not ${config.algo}`);
  switch (config.algo) {
    case 'mappo':
    case 'ippo':
      return trainMappo(config, hooks, resume as MappoCheckpoint | undefined);
    case 'iql':
    case 'vdn':
    case 'qmix':
      return trainQLearning(config, hooks, resume as QLearningCheckpoint | undefined);
    case 'maddpg':
      return trainMaddpg(config, hooks, resume as MaddpgCheckpoint | undefined);
    case 'iql-tabular':
      return trainTabularIql(config, hooks, resume as TabularIqlCheckpoint | undefined);
    default:
      throw new Error(`unknown algorithm ${(config as { algo: string }).algo}`);
  }
}
