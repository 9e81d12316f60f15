export { useBackend, BackendError, tf } from './backend.js';
export { dense, denseOnData } from './nn/dense.js';
export { inputLayer, asSparseRows, pickRows, SPARSE_DENSITY } from './nn/input-layer.js';
export { actorInputSize, writeActorInputs } from './nn/agent-inputs.js';
export type { SparseRows, NetworkInput } from './nn/input-layer.js';
export { intoTeams, outOfTeams } from './nn/team-rows.js';
export type { PresentRows } from './nn/team-rows.js';
export { computeGae } from './rl/gae.js';
export { BetaHead, BinnedHead, CategoricalHead, GaussianHead, StateStdGaussianHead } from './rl/action-head.js';
export { betaLogDensity, logGamma, sampleBeta } from './rl/beta.js';
export type { ActionHead } from './rl/action-head.js';
export { ValueNormalizer } from './rl/value-normalizer.js';
export { makeActor, actorFromWeights, actorLogits, greedySpeakers, gateMasks, isCommNetWeights, isGruWeights, newActorMemory } from './nn/actor.js';
export { layerNorm, LAYER_NORM_EPSILON } from './nn/layer-norm.js';

export type { BackendName, BackendChoice } from './backend.js';
export type { GaeInput, GaeOutput } from './rl/gae.js';
export type { ValueNormalizerState } from './rl/value-normalizer.js';
export type { Actor, ActorKind, ActorWeights, ActorOptions, ActorMemory, ActorSequence, Acting, ChooseSpeakers } from './nn/actor.js';
export type { EvalComm } from './policy/greedy-policy.js';
export type { AdamState } from './rl/adam.js';
export { Adam } from './rl/adam.js';
export { trainMappo, defaultMappoConfig, defaultChunkLength } from './algos/mappo.js';
export { GradientPool, GradientWorkerError } from './algos/gradient-pool.js';
export { RunFolder, RunError } from './runs/run-folder.js';
export { greedyPolicy } from './policy/greedy-policy.js';
export { writeLearningCurves, curvesSpec } from './runs/curves.js';
export { Mlp } from './nn/mlp.js';
export { CommNet } from './nn/commnet.js';
export type { MappoConfig, MappoMetrics, MappoHooks } from './algos/mappo.js';
export type { RunInfo } from './runs/run-folder.js';
export type { CurvePoint, CurveReferences } from './runs/curves.js';
export type { MlpSpec, MlpWeights } from './nn/mlp.js';
export type { CommNetSpec, CommNetWeights } from './nn/commnet.js';
export { exportRun, ParityError, PARITY_TOLERANCE } from './export/export-run.js';
export type { ExportOptions } from './export/export-run.js';
export { train } from './algos/registry.js';
export { trainQLearning, defaultQLearningConfig, epsilonAt } from './algos/q-learning.js';
export { trainMaddpg, defaultMaddpgConfig } from './algos/maddpg.js';
export { trainTabularIql, defaultTabularIqlConfig, qUpdate, greedyAction } from './algos/iql-tabular.js';
export { Mixer } from './nn/mixer.js';
export { ReplayBuffer } from './rl/replay-buffer.js';
export { hardUpdate, polyakUpdate } from './rl/target-network.js';
export { gumbelSoftmax } from './rl/gumbel-softmax.js';
export { isTabular } from './runs/checkpoint-schema.js';
export type { TrainingHooks, TrainingMetrics } from './algos/hooks.js';
export type { QLearningConfig } from './algos/q-learning.js';
export type { MaddpgConfig } from './algos/maddpg.js';
export type { TabularIqlConfig } from './algos/iql-tabular.js';
export type { MixerSpec, MixerWeights, MixerKind } from './nn/mixer.js';
export type {
  TrainingCheckpoint, NetworkCheckpoint, MappoCheckpoint, RoleCheckpoint, QLearningCheckpoint, MaddpgCheckpoint, TabularIqlCheckpoint,
} from './runs/checkpoint-schema.js';
export { checkpointSchema } from './runs/checkpoint-schema.js';
export {
  ALGOS, algosTaking, checkConfigFitsWorld, defaultConfigFor, parseTrainingConfig, resolveTrainingConfig, TrainingConfigError, withBudget,
} from './algos/training-config.js';
export type { Algo, TrainingConfig } from './algos/training-config.js';
export { tanh } from './nn/tanh.js';
