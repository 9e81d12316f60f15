// The MQTT topic layout — a contract that robots from other vendors and external brokers' ACL
// files rely on. Change it only with a version bump. Everything lives under fm/<fleet>/.

import { ID_RULE, isValidId } from './ids.js';

/**
 * lost: simulation only (fleetmind.proto's LostNotice); status: for dashboards (AgentStatus);
 * rollout: the agent's over-the-air rollout report (JSON, retained; runtime/rollout/rollout-plan.ts)
 */
export type AgentChannel = 'msg' | 'hb' | 'obs' | 'act' | 'lost' | 'status' | 'rollout';
/**
 * world: a simulator's ground truth each tick (fleetmind.proto's WorldStepRecord), for dashboards;
 * rollout: the operator's rollout plan (JSON, retained)
 */
export type FleetChannel = 'tick' | 'ctl' | 'world' | 'rollout';

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

/** fm/<fleet>/bundles/<bundle id>/<n>: chunk n of a bundle offered by a rollout (retained) */
export function bundleChunkTopic(fleet: string, bundleId: string, index: number): string {
  checkId('fleet', fleet);
  if (!BUNDLE_ID.test(bundleId)) throw new TopicError(`bundle id ${JSON.stringify(bundleId)} must be a sha256 in lower-case hex`);
  if (!Number.isInteger(index) || index < 0) throw new TopicError(`chunk index ${index} must be a whole number ≥ 0`);
  return `fm/${fleet}/bundles/${bundleId}/${index}`;
}

const BUNDLE_ID = /^[0-9a-f]{64}$/;

export type ParsedTopic =
  | { kind: 'agent'; fleet: string; agent: string; channel: AgentChannel }
  | { kind: 'fleet'; fleet: string; channel: FleetChannel }
  | { kind: 'bundle_chunk'; fleet: string; bundleId: string; index: number };

const AGENT_CHANNELS = new Set<string>(['msg', 'hb', 'obs', 'act', 'lost', 'status', 'rollout']);
const FLEET_CHANNELS = new Set<string>(['tick', 'ctl', 'world', 'rollout']);

/** Parses a concrete (wildcard-free) topic of the layout, or returns null. */
export function parseTopic(topic: string): ParsedTopic | null {
  const parts = topic.split('/');
  if (parts[0] !== 'fm' || parts.length < 3 || !isValidId(parts[1])) return null;
  if (parts.length === 3 && FLEET_CHANNELS.has(parts[2])) {
    return { kind: 'fleet', fleet: parts[1], channel: parts[2] as FleetChannel };
  }
  if (parts.length === 5 && parts[2] === 'bundles' && BUNDLE_ID.test(parts[3]) && /^(0|[1-9][0-9]{0,8})$/.test(parts[4])) {
    return { kind: 'bundle_chunk', fleet: parts[1], bundleId: parts[3], index: Number(parts[4]) };
  }
  if (parts.length === 5 && parts[2] === 'a' && isValidId(parts[3]) && AGENT_CHANNELS.has(parts[4])) {
    return { kind: 'agent', fleet: parts[1], agent: parts[3], channel: parts[4] as AgentChannel };
  }
  return null;
}
