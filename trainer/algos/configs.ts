// Every algorithm's settings, defaults and the validation of a run's configuration, without
// TensorFlow.js: what the command line reads before any training starts.

export { defaultMappoConfig, mappoConfigSchema, type MappoConfig } from './mappo-config.js';
export { defaultQLearningConfig, qLearningConfigSchema, type QLearningConfig } from './q-learning-config.js';
export { defaultMaddpgConfig, maddpgConfigSchema, type MaddpgConfig } from './maddpg-config.js';
export { defaultTabularIqlConfig, tabularIqlConfigSchema, type TabularIqlConfig } from './iql-tabular-config.js';
export {
  ALGOS, algosTaking, checkConfigFitsWorld, defaultConfigFor, parseTrainingConfig, resolveTrainingConfig, trainingConfigSchema, TrainingConfigError, withBudget,
} from './training-config.js';
export type { Algo, TrainingConfig } from './training-config.js';
export { TRAINING_PRESETS, type TrainingPreset } from './presets.js';
