export { makeWorld, openWorld, worldIds, resolveWorldId, scriptedController, jointSuccessOf, worldModuleOf, hasScriptedController, worldOptions } from './registry.js';
export type { WorldOptionInfo } from './registry.js';
export { loadWorldPlugin, isWorldModulePath } from './plugin.js';
export type { WorldDefinition, WorldOptionSpec } from './plugin.js';
export { BatchedWorld } from './batched-world.js';
export { RemoteWorld, SimulatorLostError } from './remote/remote-world.js';
export type { RemoteTiming } from './remote/remote-world.js';
export { serveWorld } from './remote/world-server.js';
export type { WorldServer, WorldServerOptions } from './remote/world-server.js';
export { isRemoteWorld, parseRemoteAddress } from './remote/endpoints.js';
export { ProtocolError } from './remote/protocol.js';
export { WorldError, boxSpace, discreteSpace, continuousSpace, discreteActions } from './types.js';
export { randomController } from './controllers/random.js';
export { constantController } from './controllers/constant.js';
export { roleMixController } from './controllers/role-mix.js';
export { Rng } from './rng.js';
export { sampleCommMask, sampleAlive, peerMean, roundMask, withinRadius } from './comm-mask.js';
export type { CommMaskOptions } from './comm-mask.js';
export { TeamChannel, evaluationRng } from './team-channel.js';
export type { CommConditions } from './team-channel.js';
export { minCostAssignment } from './controllers/assignment.js';
export { parallelApiCheck } from './api-check.js';
export { parseParticleSnapshot } from './mpe/particle-state.js';
export type { ParticleSnapshot } from './mpe/particle-state.js';
export { GridPredatorPreyCore, STATE_BINS } from './grid-predator-prey.js';
export { logAddExp0, ParticleWorld, type EntitySpec } from './mpe/particle-world.js';
export { boundPenalty } from './mpe/simple-tag.js';
export {
  parseConformanceVectors, replayConformanceVectors, ConformanceFormatError,
  CONFORMANCE_FORMAT, CONFORMANCE_TOLERANCE,
} from './conformance.js';
export {
  parseJunctionVectors, replayJunctionVectors, JunctionVectorsError, JUNCTION_VECTORS_FORMAT,
} from './traffic-junction/junction-conformance.js';
export type { JunctionConformanceReport, JunctionMismatch, JunctionVectors } from './traffic-junction/junction-conformance.js';
export { TrafficJunctionCore, JUNCTION_SHIELDS } from './traffic-junction/traffic-junction.js';
export type { JunctionShield } from './traffic-junction/traffic-junction.js';
export { buildJunctionMap, GAS, BRAKE } from './traffic-junction/junction-map.js';
export type { Difficulty, JunctionMap } from './traffic-junction/junction-map.js';
export { advanceCurriculum, initialCurriculum, pythonFloorDiv } from './traffic-junction/curriculum.js';
export { percentile, median, bootstrapInterval } from './stats.js';
export { agentsOfRole, roleGroups } from './roles.js';
export { worldCheckpointSchema, worldSnapshotSchema } from './checkpoint-schema.js';

export type {
  World, WorldOptions, WorldSnapshot, WorldPositions, WorldCheckpoint, WorldInfos, StepResult, ResetResult, BoxSpace, DiscreteSpace, ContinuousSpace, ActionSpace, Actions,
} from './types.js';
export type { MakeWorldOptions, JointSuccess } from './registry.js';
export type { WorldCore } from './batched-world.js';
export type { Controller } from './controllers/controller.js';
export type { ConformanceReport, ConformanceFailure, ConformanceVectors } from './conformance.js';
export { evaluateController, evaluateControllerAsync, EpisodeTally } from './evaluate.js';
export type { EvaluationReport, AsyncController, EvaluateOptions } from './evaluate.js';
export { interquartileMean, summarizeRuns, marlEvalLayout, mergeMarlEval } from './seed-summary.js';
export type { RunEvaluation, MetricSummary, MarlEvalData } from './seed-summary.js';
