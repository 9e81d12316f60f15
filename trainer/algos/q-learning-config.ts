// The settings of an IQL (deep Q-network per agent), VDN or QMIX run and their defaults: plain
// data, no TensorFlow.js, so the command line can describe them without loading the trainer.

export interface QLearningConfig {
  world: string;
  worldConfig: Record<string, unknown>;
  /** iql: each agent learns its own Q from its own reward; vdn/qmix: a team Q_tot from the team reward */
  algo: 'iql' | 'vdn' | 'qmix';
  numEnvs: number;
  /** total env steps (each moves every agent once) */
  totalSteps: number;
  /** stop after this many finished episodes, if sooner (null: no limit) */
  maxEpisodes: number | null;
  seed: number;
  hidden: number[];
  activation: 'tanh' | 'relu';
  inputLayerNorm: boolean;
  agentId: boolean;
  lr: number;
  gamma: number;
  /** replay capacity in joint transitions */
  bufferSize: number;
  /** iql: transitions per update */
  batchSize: number;
  /** vdn/qmix: whole episodes per update */
  batchEpisodes: number;
  /** env steps before the first update */
  learningStarts: number;
  /** one gradient update per this many env steps */
  trainEvery: number;
  /** copy the online networks into the targets every this many updates */
  targetUpdateEvery: number;
  epsilonStart: number;
  epsilonEnd: number;
  /** env steps over which ε falls linearly from start to end */
  epsilonSteps: number;
  /** double Q-learning: the online network picks a′, the target network values it */
  doubleQ: boolean;
  maxGradNorm: number;
  /** QMIX mixing width and hypernetwork width */
  mixerEmbed: number;
  hyperHidden: number;
}

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
