// The records of a flight recording (fleetmind.proto, "Recordings"): what an agent's MCAP file
// holds per tick, its counters and the simulator's ground truth — and the proto itself as a
// FileDescriptorSet, the schema MCAP readers (Foxglove, the `mcap` CLI) decode them with.
// Recordings come back from disks in the field, so decoding checks the contents like the wire.
// A tick record is encoded by tick-record-writer.ts (every tick: by hand, for speed).

import type protobuf from 'protobufjs';
import descriptor from 'protobufjs/ext/descriptor/index.js';
import { TIERS, type Tier } from './codec.js';
import { decodeMessageOf, protoRoot as root } from './proto.js';
import { WireError } from './wire-error.js';

/** Full names of the recorded messages, as MCAP schema names. */
export const RECORD_SCHEMAS = {
  tick: 'fleetmind.v1.TickRecord',
  counters: 'fleetmind.v1.CounterRecord',
  world: 'fleetmind.v1.WorldStepRecord',
} as const;

const types = {
  tick: root.lookupType(RECORD_SCHEMAS.tick),
  counters: root.lookupType(RECORD_SCHEMAS.counters),
  world: root.lookupType(RECORD_SCHEMAS.world),
};

/** fleetmind.proto as a serialized google.protobuf.FileDescriptorSet (MCAP's "protobuf" schema encoding). */
export function protoDescriptorSet(): Uint8Array {
  // the extension adds Root#toDescriptor at run time; its typings do not declare it
  const described = root as protobuf.Root & { toDescriptor(syntax: 'proto3'): protobuf.Message };
  return descriptor.FileDescriptorSet.encode(described.toDescriptor('proto3')).finish();
}

export const TICK_PATHS = ['mlp', 'fallback', 'rounds', 'not_asked'] as const;
export type TickPath = (typeof TICK_PATHS)[number];

export interface InboxEntry {
  /** the peer's inbox slot: the recording's metadata lists the peers in slot order */
  slot: number;
  payload: Uint8Array;
  scale: number;
  sentUs: number;
  receivedUs: number;
}

export interface RoundRecord {
  round: number;
  inbox: InboxEntry[];
  timedOut: boolean;
  waitedMs: number;
}

export interface RecordedTick {
  tick: number;
  startedUs: number;
  observation: Float32Array;
  path: TickPath;
  rounds: RoundRecord[];
  policyAction: number;
  action: number;
  /** continuous actions: the policy's vector and the one applied (null for a discrete role) */
  policyVector: Float32Array | null;
  vector: Float32Array | null;
  tier: Tier;
  shielded: boolean;
  /** '' when the policy's action stood */
  safeReason: string;
  /** a recurrent policy: '' when it started from the last tick's state, else why that was zeroed (start, episode, gap, age, bundle) */
  memoryReset: string;
  /** a gated policy chose silence this tick (wire 1.6; false for every other policy) */
  silent: boolean;
  inferenceMs: number;
  waitingMs: number;
  tickMs: number;
}

export interface WorldStepRecord {
  episode: number;
  tick: number;
  agents: string[];
  positions: Float32Array;
  rewards: number[];
  faults: string[];
  /** per agent, whether it is in the episode now (wire 1.8); empty or absent: every agent */
  active?: boolean[];
}

function decodeAs(kind: keyof typeof types, bytes: Uint8Array): Record<string, any> {
  return types[kind].toObject(decodeMessageOf(types[kind], bytes, RECORD_SCHEMAS[kind]), { longs: Number, defaults: true, arrays: true });
}

export function decodeTickRecord(bytes: Uint8Array): RecordedTick {
  const o = decodeAs('tick', bytes);
  const path = TICK_PATHS[o.path];
  const tier = TIERS[o.tier];
  if (!path) throw new WireError('invalid', `TickRecord.path: unknown value ${o.path}`);
  if (!tier) throw new WireError('invalid', `TickRecord.tier: unknown value ${o.tier}`);
  return {
    tick: o.tick, startedUs: o.started_us, observation: Float32Array.from(o.observation), path,
    rounds: o.rounds.map((round: any) => ({
      round: round.round, timedOut: round.timed_out, waitedMs: round.waited_ms,
      inbox: round.inbox.map((m: any) => ({ slot: m.slot, payload: Uint8Array.from(m.payload), scale: m.scale, sentUs: m.sent_us, receivedUs: m.received_us })),
    })),
    policyAction: o.policy_action, action: o.action,
    policyVector: o.policy_vector.length > 0 ? Float32Array.from(o.policy_vector) : null,
    vector: o.action_vector.length > 0 ? Float32Array.from(o.action_vector) : null,
    tier, shielded: o.shielded, safeReason: o.safe_reason, memoryReset: o.memory_reset, silent: o.silent,
    inferenceMs: o.inference_ms, waitingMs: o.waiting_ms, tickMs: o.tick_ms,
  };
}

export function encodeCounterRecord(counters: Record<string, number>): Uint8Array {
  return types.counters.encode(types.counters.fromObject({ counters })).finish();
}

export function decodeCounterRecord(bytes: Uint8Array): Record<string, number> {
  return { ...decodeAs('counters', bytes).counters };
}

export function encodeWorldStepRecord(r: WorldStepRecord): Uint8Array {
  return types.world.encode(types.world.fromObject({
    episode: r.episode, tick: r.tick, agents: r.agents, positions: Array.from(r.positions), rewards: r.rewards, faults: r.faults, active: r.active ?? [],
  })).finish();
}

export function decodeWorldStepRecord(bytes: Uint8Array): WorldStepRecord {
  const o = decodeAs('world', bytes);
  return { episode: o.episode, tick: o.tick, agents: o.agents, positions: Float32Array.from(o.positions), rewards: o.rewards, faults: o.faults, active: o.active };
}
