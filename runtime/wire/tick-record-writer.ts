// TickRecord (fleetmind.proto) encoded by hand into one reused buffer: the flight recorder
// encodes a record every tick of every agent, and protobufjs's generated encoder spends most of
// its time in allocations (a writer, a fork per nested message). The field numbers below are
// fleetmind.proto's; test/runtime/wire.test.ts decodes what this writes with the generated
// decoder and with the schema alone, so the two cannot drift apart.

import { TIERS } from './codec.js';
import { TICK_PATHS, type RecordedTick } from './recording.js';

/** wire types: 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32 */
const key = (field: number, wire: number) => (field << 3) | wire;

const varintSize = (v: number) => (v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5);
const text = new TextEncoder();

let buffer = new Uint8Array(4096);
let view = new DataView(buffer.buffer);
let at = 0;

function ensure(bytes: number): void {
  if (at + bytes <= buffer.length) return;
  const grown = new Uint8Array(Math.max(buffer.length * 2, at + bytes));
  grown.set(buffer.subarray(0, at));
  buffer = grown;
  view = new DataView(buffer.buffer);
}

function varint(v: number): void {
  while (v >= 0x80) {
    buffer[at++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buffer[at++] = v;
}

function double(field: number, v: number): void {
  buffer[at++] = key(field, 1);
  view.setFloat64(at, v, true);
  at += 8;
}

function packedFloats(field: number, values: Float32Array | null): void {
  if (!values || values.length === 0) return;
  buffer[at++] = key(field, 2); varint(values.length * 4);
  for (let k = 0; k < values.length; k++, at += 4) view.setFloat32(at, values[k], true);
}

function entrySize(m: RecordedTick['rounds'][number]['inbox'][number]): number {
  return 1 + varintSize(m.slot) + 1 + varintSize(m.payload.length) + m.payload.length + 5 + 9 + 9;
}

function roundSize(r: RecordedTick['rounds'][number]): number {
  let size = 1 + varintSize(r.round) + 2 + 9;
  for (const m of r.inbox) {
    const e = entrySize(m);
    size += 1 + varintSize(e) + e;
  }
  return size;
}

/** The record as fleetmind.v1.TickRecord bytes (a fresh copy). */
export function encodeTickRecord(r: RecordedTick): Uint8Array {
  at = 0;
  const reason = r.safeReason ? text.encode(r.safeReason) : null;
  const forgot = r.memoryReset ? text.encode(r.memoryReset) : null;
  const rounds = r.rounds.map(roundSize);
  ensure(96 + (r.observation.length + (r.policyVector?.length ?? 0) + (r.vector?.length ?? 0)) * 4 + 12 + rounds.reduce((s, n) => s + 6 + n, 0) + (reason?.length ?? 0) + (forgot ? 3 + forgot.length : 0) + 3);
  buffer[at++] = key(1, 0); varint(r.tick);
  double(2, r.startedUs);
  buffer[at++] = key(3, 2); varint(r.observation.length * 4);
  for (let k = 0; k < r.observation.length; k++, at += 4) view.setFloat32(at, r.observation[k], true);
  buffer[at++] = key(4, 0); varint(TICK_PATHS.indexOf(r.path));
  r.rounds.forEach((round, i) => {
    buffer[at++] = key(5, 2); varint(rounds[i]);
    buffer[at++] = key(1, 0); varint(round.round);
    for (const m of round.inbox) {
      buffer[at++] = key(2, 2); varint(entrySize(m));
      buffer[at++] = key(1, 0); varint(m.slot);
      buffer[at++] = key(3, 2); varint(m.payload.length);
      buffer.set(m.payload, at); at += m.payload.length;
      buffer[at++] = key(4, 5); view.setFloat32(at, m.scale, true); at += 4;
      double(5, m.sentUs);
      double(6, m.receivedUs);
    }
    buffer[at++] = key(3, 0); buffer[at++] = round.timedOut ? 1 : 0;
    double(4, round.waitedMs);
  });
  buffer[at++] = key(6, 0); varint(r.policyAction);
  buffer[at++] = key(7, 0); varint(r.action);
  buffer[at++] = key(8, 0); varint(TIERS.indexOf(r.tier));
  buffer[at++] = key(9, 0); buffer[at++] = r.shielded ? 1 : 0;
  if (reason) {
    buffer[at++] = key(10, 2); varint(reason.length);
    buffer.set(reason, at); at += reason.length;
  }
  double(11, r.inferenceMs);
  double(12, r.waitingMs);
  double(13, r.tickMs);
  packedFloats(14, r.policyVector);
  packedFloats(15, r.vector);
  if (forgot) {
    varint(key(16, 2)); varint(forgot.length); // (field 16's key takes two bytes)
    buffer.set(forgot, at); at += forgot.length;
  }
  if (r.silent) { varint(key(17, 0)); varint(1); }
  return buffer.slice(0, at);
}
