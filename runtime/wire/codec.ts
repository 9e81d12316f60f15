// Encoding and decoding the wire messages of fleetmind.proto with protobufjs. Every decoder
// checks the size before parsing and the contents after, and fails with a WireError whose
// reason a long-running agent counts ('oversized' | 'malformed' | 'invalid') — never anything
// that could take it down.

import type protobuf from 'protobufjs';
import { isValidId } from './ids.js';
import { decodeMessageOf, protoRoot as root } from './proto.js';
import { WireError } from './wire-error.js';
import { bytesPerValue, type Quantization } from './quantization.js';

export { WireError, type WireRejection } from './wire-error.js';

/** The largest encoded message of each kind accepted, in bytes, checked before decoding. */
export const MAX_BYTES = { peer: 4096, heartbeat: 256, observation: 65536, action: 1024, control: 1024, lost: 128, status: 8192 } as const;

const types = {
  peer: root.lookupType('fleetmind.v1.PeerMessage'),
  heartbeat: root.lookupType('fleetmind.v1.Heartbeat'),
  observation: root.lookupType('fleetmind.v1.Observation'),
  action: root.lookupType('fleetmind.v1.Action'),
  control: root.lookupType('fleetmind.v1.Control'),
  lost: root.lookupType('fleetmind.v1.LostNotice'),
  status: root.lookupType('fleetmind.v1.AgentStatus'),
};
export const TIERS = ['full', 'partial', 'none', 'safe'] as const;
export type Tier = (typeof TIERS)[number];

export interface PeerMessage {
  fleet: string;
  agent: string;
  tick: number;
  round: number;
  /** the message in the bundle's quantization; empty (wire 1.3): the sender abstains this round */
  payload: Uint8Array;
  scale: number;
  /** microseconds since the Unix epoch */
  sentUs: number;
  /** wire 1.2: the sender's episode (0: episodes not used) */
  episode?: number;
  /** wire 1.6: an abstention for every round of the tick that the sender's gated policy chose (sent in round 1) */
  silent?: boolean;
}

/**
 * Wire 1.3: an empty payload says the sender has no message for this round (it took the safe
 * action, or skipped the period), so its peers stop waiting for it instead of running out the
 * round deadline. A 1.2 reader refuses it as invalid and waits, as it did before.
 */
export function isAbstention(m: PeerMessage): boolean {
  return m.payload.length === 0;
}

/**
 * Whether a published peer message carries no message (an abstention or a chosen silence), read
 * without the bundle's sizes: a network counting what crosses it tells messages from abstentions.
 */
export function isEmptyPeerMessage(bytes: Uint8Array): boolean {
  try {
    return (decode('peer', bytes).payload as Uint8Array).length === 0;
  } catch {
    return false; // undecodable: not empty, and its receivers refuse it and count it
  }
}

/** A simulated network's notice: `agent`'s message for (tick, round) will not arrive. */
export interface LostNotice {
  agent: string;
  tick: number;
  round: number;
  /** wire 1.7: the episode of the tick (absent or 0: the receiver's current episode) */
  episode?: number;
}

export interface Heartbeat {
  agent: string;
  online: boolean;
  /** online but not in the episode now (wire 1.1): peers do not wait for it */
  standby?: boolean;
  tick: number;
  sentUs: number;
  /** wire 1.4: the running bundle's id and message layout (absent from a 1.3 sender, and in a last will) */
  bundleId?: string;
  layout?: string;
}

export interface Observation {
  tick: number;
  values: Float32Array;
  sentUs: number;
  /** wire 1.2: the episode the tick belongs to (0: episodes not used) */
  episode?: number;
}

export interface Action {
  tick: number;
  /** the discrete action's index (0 for a role with continuous actions) */
  action: number;
  /** continuous actions (wire 1.1): the action vector; null for a discrete role */
  vector: Float32Array | null;
  tier: Tier;
  shielded: boolean;
}


/** The decoded message itself: absent fields read as their defaults from its prototype. */
function decode(kind: keyof typeof types, bytes: Uint8Array): Record<string, any> {
  if (bytes.length > MAX_BYTES[kind]) throw new WireError('oversized', `${kind} message of ${bytes.length} bytes exceeds ${MAX_BYTES[kind]}`);
  return decodeMessageOf(types[kind], bytes, `${kind} message`) as unknown as Record<string, any>;
}

/** A send time must be whole non-negative microseconds. */
/** A sent time: µs since the epoch, ≥ 0; a fractional part (time.time() * 1e6) is rounded away. */
function checkTime(us: number, from: string): number {
  const whole = Math.round(us);
  if (!Number.isSafeInteger(whole) || whole < 0) throw new WireError('invalid', `message from ${from}: sent time ${us} is not microseconds since the Unix epoch`);
  return whole;
}

function encode(kind: keyof typeof types, fields: Record<string, unknown>): Uint8Array {
  return types[kind].encode(types[kind].fromObject(fields)).finish();
}

export function encodePeerMessage(m: PeerMessage): Uint8Array {
  return encode('peer', {
    fleet: m.fleet, agent: m.agent, tick: m.tick, round: m.round, payload: m.payload, scale: m.scale, sent_us: m.sentUs, ...(m.episode ? { episode: m.episode } : {}), ...(m.silent ? { silent: true } : {}),
  });
}

/** The bundle says the message size and quantization; the payload must hold exactly that (or nothing: an abstention). */
export function decodePeerMessage(bytes: Uint8Array, expectedValues: number, quantization: Quantization): PeerMessage {
  const o = decode('peer', bytes);
  if (!isValidId(o.fleet) || !isValidId(o.agent)) throw new WireError('invalid', `peer message: bad fleet or agent id ${JSON.stringify([o.fleet, o.agent])}`);
  const bytesIn = o.payload as Uint8Array;
  const payload = new Uint8Array(bytesIn.buffer, bytesIn.byteOffset, bytesIn.byteLength);
  const bytesPer = bytesPerValue(quantization);
  if (payload.length !== expectedValues * bytesPer && payload.length !== 0) {
    throw new WireError('invalid', `peer message from ${o.agent}: ${payload.length} payload bytes, a ${quantization} message of ${expectedValues} values has ${expectedValues * bytesPer}`);
  }
  if (!Number.isFinite(o.scale) || (quantization === 'int8' && o.scale <= 0 && payload.length > 0)) throw new WireError('invalid', `peer message from ${o.agent}: bad scale ${o.scale}`);
  if (o.silent && (payload.length > 0 || o.round !== 1)) throw new WireError('invalid', `peer message from ${o.agent}: a chosen silence is an empty message in round 1 (${payload.length} payload bytes, round ${o.round})`);
  return { fleet: o.fleet, agent: o.agent, tick: o.tick, round: o.round, payload, scale: o.scale, sentUs: checkTime(o.sent_us, o.agent), ...(o.episode ? { episode: o.episode } : {}), ...(o.silent ? { silent: true } : {}) };
}

export function encodeLostNotice(n: LostNotice): Uint8Array {
  return encode('lost', { agent: n.agent, tick: n.tick, round: n.round, ...(n.episode ? { episode: n.episode } : {}) });
}

export function decodeLostNotice(bytes: Uint8Array): LostNotice {
  const o = decode('lost', bytes);
  if (!isValidId(o.agent)) throw new WireError('invalid', `lost notice: bad agent id ${JSON.stringify(o.agent)}`);
  return { agent: o.agent, tick: o.tick, round: o.round, ...(o.episode ? { episode: o.episode } : {}) };
}

export function encodeHeartbeat(h: Heartbeat): Uint8Array {
  return encode('heartbeat', { agent: h.agent, state: !h.online ? 1 : h.standby ? 2 : 0, tick: h.tick, sent_us: h.sentUs, bundle_id: h.bundleId ?? '', layout: h.layout ?? '' });
}

export function decodeHeartbeat(bytes: Uint8Array): Heartbeat {
  const o = decode('heartbeat', bytes);
  if (!isValidId(o.agent)) throw new WireError('invalid', `heartbeat: bad agent id ${JSON.stringify(o.agent)}`);
  if (o.state !== 0 && o.state !== 1 && o.state !== 2) throw new WireError('invalid', `heartbeat from ${o.agent}: unknown state ${o.state}`);
  if (o.bundle_id && !/^[0-9a-f]{64}$/.test(o.bundle_id)) throw new WireError('invalid', `heartbeat from ${o.agent}: bundle_id is not a sha256 in hex`);
  return {
    agent: o.agent, online: o.state !== 1, ...(o.state === 2 ? { standby: true } : {}), tick: o.tick, sentUs: checkTime(o.sent_us, o.agent),
    ...(o.bundle_id ? { bundleId: o.bundle_id } : {}), ...(o.layout ? { layout: o.layout } : {}),
  };
}

export function encodeObservation(m: Observation): Uint8Array {
  return encode('observation', { tick: m.tick, values: Array.from(m.values), sent_us: m.sentUs, ...(m.episode ? { episode: m.episode } : {}) });
}

/** Decodes an observation; its size and finiteness are the agent's to judge (it falls back to the safe action). */
export function decodeObservation(bytes: Uint8Array): Observation {
  const o = decode('observation', bytes);
  return { tick: o.tick, values: Float32Array.from(o.values as number[]), sentUs: checkTime(o.sent_us, 'the world'), ...(o.episode ? { episode: o.episode } : {}) };
}

export function encodeAction(a: Action): Uint8Array {
  return encode('action', { tick: a.tick, action: a.action, tier: TIERS.indexOf(a.tier), shielded: a.shielded, ...(a.vector ? { vector: Array.from(a.vector) } : {}) });
}

export function decodeAction(bytes: Uint8Array): Action {
  const o = decode('action', bytes);
  const tier = TIERS[o.tier];
  if (!tier) throw new WireError('invalid', `action: unknown tier ${o.tier}`);
  const vector = (o.vector as number[]).length > 0 ? Float32Array.from(o.vector as number[]) : null;
  return { tick: o.tick, action: o.action, vector, tier, shielded: o.shielded };
}

export interface Control {
  command: string;
  argument: string;
}

export function encodeControl(c: Control): Uint8Array {
  return encode('control', { command: c.command, argument: c.argument });
}

export function decodeControl(bytes: Uint8Array): Control {
  const o = decode('control', bytes);
  if (!/^[a-z][a-z0-9_-]{0,63}$/.test(o.command)) throw new WireError('invalid', `control: bad command ${JSON.stringify(o.command)}`);
  return { command: o.command, argument: o.argument };
}

/** What a dashboard shows of one agent (fleetmind.proto's AgentStatus). */
export interface AgentStatus {
  agent: string;
  bundle: string;
  bundleVersion: string;
  role: string;
  tick: number;
  tiers: Record<Tier, number>;
  deadlineMisses: number;
  messagesSent: number;
  messagesReceived: number;
  messagesDropped: number;
  tickP50Ms: number;
  tickP99Ms: number;
  inferenceP50Ms: number;
  /** the peers heard in the last tick's last round */
  heard: string[];
  livePeers: number;
  sentUs: number;
}

export function encodeAgentStatus(s: AgentStatus): Uint8Array {
  return encode('status', {
    agent: s.agent, bundle: s.bundle, bundle_version: s.bundleVersion, role: s.role, tick: s.tick,
    ticks_full: s.tiers.full, ticks_partial: s.tiers.partial, ticks_none: s.tiers.none, ticks_safe: s.tiers.safe,
    deadline_misses: s.deadlineMisses, messages_sent: s.messagesSent, messages_received: s.messagesReceived, messages_dropped: s.messagesDropped,
    tick_p50_ms: s.tickP50Ms, tick_p99_ms: s.tickP99Ms, inference_p50_ms: s.inferenceP50Ms, heard: s.heard, live_peers: s.livePeers, sent_us: s.sentUs,
  });
}

export function decodeAgentStatus(bytes: Uint8Array): AgentStatus {
  const m = decode('status', bytes);
  const o = types.status.toObject(m as protobuf.Message, { longs: Number, defaults: true, arrays: true });
  if (!isValidId(o.agent)) throw new WireError('invalid', `status: bad agent id ${JSON.stringify(o.agent)}`);
  for (const id of o.heard) if (!isValidId(id)) throw new WireError('invalid', `status from ${o.agent}: bad peer id ${JSON.stringify(id)}`);
  return {
    agent: o.agent, bundle: o.bundle, bundleVersion: o.bundle_version, role: o.role, tick: o.tick,
    tiers: { full: o.ticks_full, partial: o.ticks_partial, none: o.ticks_none, safe: o.ticks_safe },
    deadlineMisses: o.deadline_misses, messagesSent: o.messages_sent, messagesReceived: o.messages_received, messagesDropped: o.messages_dropped,
    tickP50Ms: o.tick_p50_ms, tickP99Ms: o.tick_p99_ms, inferenceP50Ms: o.inference_p50_ms, heard: o.heard, livePeers: o.live_peers, sentUs: checkTime(o.sent_us, o.agent),
  };
}
