export { useBackend, BackendError, tf } from './backend.js';
export { dense } from './nn/dense.js';
export { computeGae } from './rl/gae.js';
export { ValueNormalizer } from './rl/value-normalizer.js';
export { sampleCommMask, sampleAlive, peerMean } from './comm/mask.js';

export type { BackendName, BackendChoice } from './backend.js';
export type { GaeInput, GaeOutput } from './rl/gae.js';
export type { ValueNormalizerState } from './rl/value-normalizer.js';
export type { CommMaskOptions } from './comm/mask.js';
export { trainMappo, defaultMappoConfig } from './algos/mappo.js';
export { RunFolder, RunError } from './runs/run-folder.js';
export { greedyPolicy } from './policy/greedy-policy.js';
export { writeLearningCurves, curvesSpec } from './runs/curves.js';
export { Mlp } from './nn/mlp.js';
export type { MappoConfig, MappoCheckpoint, MappoMetrics, MappoHooks } from './algos/mappo.js';
export type { RunInfo } from './runs/run-folder.js';
export type { CurvePoint } from './runs/curves.js';
export type { MlpSpec, MlpWeights } from './nn/mlp.js';
