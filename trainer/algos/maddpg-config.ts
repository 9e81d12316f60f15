// The settings of a MADDPG run and their defaults: plain data, no TensorFlow.js, so the command
// line can describe them without loading the trainer.

export interface MaddpgConfig {
  world: string;
  worldConfig: Record<string, unknown>;
  algo: 'maddpg';
  numEnvs: number;
  totalSteps: number;
  /** stop after this many finished episodes, if sooner (null: no limit) */
  maxEpisodes: number | null;
  seed: number;
  hidden: number[];
  activation: 'tanh' | 'relu';
  inputLayerNorm: boolean;
  agentId: boolean;
  actorLr: number;
  criticLr: number;
  gamma: number;
  /** Polyak step of the target networks per update */
  tau: number;
  /** replay capacity in joint transitions */
  bufferSize: number;
  batchSize: number;
  learningStarts: number;
  /** one update per this many env steps */
  trainEvery: number;
  /** Gumbel-softmax temperature of the actor's relaxed action in the policy gradient */
  gumbelTemperature: number;
  /** weight of the mean squared logits in the actor loss (keeps logits from running off) */
  logitPenalty: number;
  maxGradNorm: number;
}

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
