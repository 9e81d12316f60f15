// @fleetmind/wire: the wire contract every part speaks — the MQTT topic layout, the protobuf
// messages of fleetmind.proto and their codec, message quantization and the id rules. It
// depends on nothing of ours, so the broker, the runtime, the models and the simulator can all
// depend on it (ARCHITECTURE.md, "The wire contract").
export { ID_PATTERN, ID_RULE, isValidId } from './ids.js';
export { agentTopic, bundleChunkTopic, fleetTopic, parseTopic, TopicError } from './topics.js';
export {
  encodePeerMessage, decodePeerMessage, isAbstention, isEmptyPeerMessage, encodeHeartbeat, decodeHeartbeat, encodeObservation, decodeObservation,
  encodeAction, decodeAction, encodeControl, decodeControl, encodeLostNotice, decodeLostNotice, encodeAgentStatus, decodeAgentStatus, WireError, MAX_BYTES, TIERS,
} from './codec.js';
export { msToNextTick, TICK_MODULUS, tickDistance, wallClockTick } from './ticks.js';
export { QUANTIZATIONS, bytesPerValue, encodeMessage, decodeMessage, quantizeRoundTrip } from './quantization.js';

export type { AgentChannel, FleetChannel, ParsedTopic } from './topics.js';
export type { PeerMessage, LostNotice, Heartbeat, Observation, Action, Control, AgentStatus, Tier, WireRejection } from './codec.js';
export {
  RECORD_SCHEMAS, TICK_PATHS, protoDescriptorSet, decodeTickRecord, encodeCounterRecord, decodeCounterRecord,
  encodeWorldStepRecord, decodeWorldStepRecord,
} from './recording.js';
export { encodeTickRecord } from './tick-record-writer.js';
export type { RecordedTick, RoundRecord, InboxEntry, TickPath, WorldStepRecord } from './recording.js';
export type { Quantization, EncodedMessage } from './quantization.js';
