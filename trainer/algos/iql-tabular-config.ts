// The settings of a tabular IQL run (the seed notebook's) and their defaults: plain data, no
// TensorFlow.js, so the command line can describe them without loading the trainer.

export interface TabularIqlConfig {
  world: string;
  worldConfig: Record<string, unknown>;
  algo: 'iql-tabular';
  episodes: number;
  seed: number;
  /** learning rate α */
  alpha: number;
  gamma: number;
  epsilonStart: number;
  /** ε ← max(epsilonMin, ε · epsilonDecay) after every episode */
  epsilonDecay: number;
  epsilonMin: number;
}

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
