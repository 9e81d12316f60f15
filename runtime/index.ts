export { agentTopic, fleetTopic, parseTopic, isValidId, TopicError } from './wire/topics.js';
export type { AgentChannel, FleetChannel, ParsedTopic } from './wire/topics.js';
