export { agentTopic, fleetTopic, parseTopic, isValidId, TopicError } from './wire/topics.js';
export type { AgentChannel, FleetChannel, ParsedTopic } from './wire/topics.js';
export {
  encodePeerMessage, decodePeerMessage, encodeHeartbeat, decodeHeartbeat, encodeObservation, decodeObservation,
  encodeAction, decodeAction, WireError, MAX_BYTES,
} from './wire/codec.js';
export type { PeerMessage, Heartbeat, Observation, Action, Tier, Quantization, WireRejection } from './wire/codec.js';
