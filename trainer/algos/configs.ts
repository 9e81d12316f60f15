// Every algorithm's settings and defaults, without TensorFlow.js: what the command line reads.

export { defaultMappoConfig, type MappoConfig } from './mappo-config.js';
export { defaultQLearningConfig, type QLearningConfig } from './q-learning-config.js';
export { defaultMaddpgConfig, type MaddpgConfig } from './maddpg-config.js';
export { defaultTabularIqlConfig, type TabularIqlConfig } from './iql-tabular-config.js';
