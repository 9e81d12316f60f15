export { GraphBuilder, OPSET_VERSION, IR_VERSION } from './graph-builder.js';
export type { Dim, ElemType } from './graph-builder.js';
export {
  mlpActorGraph, mlpQGraph, commNetStage0Graph, commNetRoundGraph, commNetFinalGraph, commNetFallbackGraph, LAYER_NORM_EPSILON, ATTENTION_MASK_PENALTY,
} from './actor-graphs.js';
export type { MlpGraphWeights, CommNetGraphWeights, ActorIo } from './actor-graphs.js';
export { gruActorGraph } from './gru-actor-graph.js';
export type { GruGraphWeights } from './gru-actor-graph.js';
export { adaptImportedActor, originalActorOutputs, ImportError } from './imported-actor.js';
export { fuseLastRoundWithFinal } from './graph-fusion.js';
export { joinObservationAndAgentId, JOINED_INPUT } from './graph-join.js';
export type { ImportExpectations } from './imported-actor.js';
