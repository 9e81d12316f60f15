// The MQTT topic layout — a contract that robots from other vendors and external brokers' ACL
// files rely on. Change it only with a version bump. Everything lives under fm/<fleet>/.

import { ID_RULE, isValidId } from './ids.js';

/** lost: simulation only (fleetmind.proto's LostNotice); status: for dashboards (AgentStatus) */
export type AgentChannel = 'msg' | 'hb' | 'obs' | 'act' | 'lost' | 'status';
/** world: a simulator's ground truth each tick (fleetmind.proto's WorldStepRecord), for dashboards */
export type FleetChannel = 'tick' | 'ctl' | 'world';

export class TopicError extends Error {
  readonly code = 'FM_ERR_TOPIC';
}

function checkId(kind: string, id: string): void {
  if (!isValidId(id)) throw new TopicError(`${kind} id ${JSON.stringify(id)} must be ${ID_RULE}`);
}

export function agentTopic(fleet: string, agent: string, channel: AgentChannel): string {
  checkId('fleet', fleet);
  checkId('agent', agent);
  return `fm/${fleet}/a/${agent}/${channel}`;
}

export function fleetTopic(fleet: string, channel: FleetChannel): string {
  checkId('fleet', fleet);
  return `fm/${fleet}/${channel}`;
}

export type ParsedTopic =
  | { kind: 'agent'; fleet: string; agent: string; channel: AgentChannel }
  | { kind: 'fleet'; fleet: string; channel: FleetChannel };

const AGENT_CHANNELS = new Set<string>(['msg', 'hb', 'obs', 'act', 'lost', 'status']);
const FLEET_CHANNELS = new Set<string>(['tick', 'ctl', 'world']);

/** Parses a concrete (wildcard-free) topic of the layout, or returns null. */
export function parseTopic(topic: string): ParsedTopic | null {
  const parts = topic.split('/');
  if (parts[0] !== 'fm' || parts.length < 3 || !isValidId(parts[1])) return null;
  if (parts.length === 3 && FLEET_CHANNELS.has(parts[2])) {
    return { kind: 'fleet', fleet: parts[1], channel: parts[2] as FleetChannel };
  }
  if (parts.length === 5 && parts[2] === 'a' && isValidId(parts[3]) && AGENT_CHANNELS.has(parts[4])) {
    return { kind: 'agent', fleet: parts[1], agent: parts[3], channel: parts[4] as AgentChannel };
  }
  return null;
}
