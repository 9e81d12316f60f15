import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { REPO_ROOT } from '../helpers/paths.js';
import {
  decodeAction, decodeHeartbeat, decodeObservation, decodePeerMessage, isAbstention, isEmptyPeerMessage, encodeAction, encodeHeartbeat, encodeObservation,
  encodePeerMessage, MAX_BYTES, WireError, encodeControl, decodeControl, encodeTickRecord, decodeTickRecord, TICK_PATHS, TIERS,
  type RecordedTick,
} from '@fleetmind/wire';

const peer = {
  fleet: 'f1', agent: 'a7', tick: 4_000_000_000, round: 2,
  payload: Uint8Array.from({ length: 64 }, (_, k) => (k * 7) & 0xff), scale: Math.fround(0.0125), sentUs: 1_764_000_000_123_456,
};

t.test('messages round-trip exactly, times in microseconds beyond 2^32 included', (t) => {
  const bytes = encodePeerMessage(peer);
  // the design target (README, measured goals): ≤ 96 bytes with int8 at hidden 64 (here with two-character fleet and agent ids and a tick past 2^31)
  t.ok(bytes.length <= 96, `an int8 message of 64 values is ${bytes.length} bytes`);
  t.same(decodePeerMessage(bytes, 64, 'int8'), peer);
  const hb = { agent: 'a1', online: false, tick: 9, sentUs: 1_764_000_000_000_001 };
  t.same(decodeHeartbeat(encodeHeartbeat(hb)), hb);
  // wire 1.4: what the agent runs, in a heartbeat that still fits its 256 bytes with a 64-character id
  const running = { agent: 'a'.repeat(64), online: true, tick: 9, sentUs: 1_764_000_000_000_001, bundleId: 'c0ffee'.repeat(10) + '0123', layout: 'messages 128 × int8, 3 rounds, inbox 16' };
  t.same(decodeHeartbeat(encodeHeartbeat(running)), running);
  t.ok(encodeHeartbeat(running).length <= MAX_BYTES.heartbeat, `${encodeHeartbeat(running).length} bytes`);
  const obs = { tick: 3, values: Float32Array.from([0.5, -1.25, 3e-8]), sentUs: 42 };
  t.same(decodeObservation(encodeObservation(obs)), obs);
  // wire 1.2: the episode, on observations and peer messages (absent when 0, as a 1.1 sender leaves it)
  t.same(decodeObservation(encodeObservation({ ...obs, episode: 7 })), { ...obs, episode: 7 });
  t.same(decodePeerMessage(encodePeerMessage({ ...peer, episode: 3 }), 64, 'int8'), { ...peer, episode: 3 });
  t.equal(encodePeerMessage({ ...peer, episode: 0 }).length, bytes.length, 'episode 0 costs no byte');
  // wire 1.3: an empty payload is an abstention (no message this round), in any quantization, without a scale
  const abstention = { ...peer, payload: new Uint8Array(0), scale: 0 };
  for (const q of ['int8', 'f16', 'f32'] as const) t.ok(isAbstention(decodePeerMessage(encodePeerMessage(abstention), 64, q)), `an abstention decodes as one (${q})`);
  t.notOk(isAbstention(decodePeerMessage(bytes, 64, 'int8')), 'a message is not one');
  // wire 1.6: a gated policy's chosen silence, an empty round-1 message marked silent
  const silence = { ...abstention, round: 1, silent: true };
  const silenceBytes = encodePeerMessage(silence);
  t.same(decodePeerMessage(silenceBytes, 64, 'int8'), silence);
  t.equal(silenceBytes.length, encodePeerMessage({ ...abstention, round: 1 }).length + 2, 'the mark costs two bytes');
  t.equal(decodePeerMessage(encodePeerMessage({ ...abstention, round: 1 }), 64, 'int8').silent, undefined, 'an abstention is not a chosen silence');
  t.ok(isEmptyPeerMessage(silenceBytes) && isEmptyPeerMessage(encodePeerMessage(abstention)), 'a network tells empty messages apart without the bundle');
  t.notOk(isEmptyPeerMessage(bytes), 'a message is not empty');
  t.notOk(isEmptyPeerMessage(Uint8Array.from([0x0a, 0xff, 0xff])), 'nor is an undecodable one (its receivers refuse it)');
  const act = { tick: 3, action: 4, vector: null, tier: 'partial' as const, shielded: true };
  t.same(decodeAction(encodeAction(act)), act);
  // wire 1.1: a continuous action's vector, exact in float32
  const steer = { tick: 4, action: 0, vector: Float32Array.from([0.25, -1, Math.fround(0.1)]), tier: 'full' as const, shielded: false };
  t.same(decodeAction(encodeAction(steer)), steer);
  t.end();
});

t.test('oversized, malformed and invalid messages are refused with a reason to count, never a crash', (t) => {
  const refuse = (fn: () => unknown, reason: string, message: RegExp, label: string) => {
    try {
      fn();
      t.fail(`${label}: accepted`);
    } catch (err) {
      t.ok(err instanceof WireError, label);
      t.match(err, { reason, message }, label);
    }
  };
  refuse(() => decodePeerMessage(new Uint8Array(MAX_BYTES.peer + 1), 64, 'int8'), 'oversized', /4097 bytes exceeds 4096/, 'oversized');
  refuse(() => decodePeerMessage(Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0x0f]), 64, 'int8'), 'malformed', /does not decode/, 'truncated field');
  refuse(() => decodePeerMessage(encodePeerMessage(peer), 32, 'int8'), 'invalid', /64 payload bytes, a int8 message of 32 values has 32/, 'wrong size');
  refuse(() => decodePeerMessage(encodePeerMessage({ ...peer, agent: 'a/b' }), 64, 'int8'), 'invalid', /bad fleet or agent id/, 'topic characters in an id');
  refuse(() => decodePeerMessage(encodePeerMessage({ ...peer, scale: 0 }), 64, 'int8'), 'invalid', /bad scale 0/, 'int8 without a scale');
  refuse(() => decodePeerMessage(encodePeerMessage({ ...peer, round: 1, silent: true }), 64, 'int8'), 'invalid', /a chosen silence is an empty message in round 1 \(64 payload bytes/, 'a silence with a message');
  refuse(() => decodePeerMessage(encodePeerMessage({ ...peer, payload: new Uint8Array(0), scale: 0, silent: true }), 64, 'int8'), 'invalid', /round 2\)/, 'a silence after round 1');
  refuse(() => decodeHeartbeat(new Uint8Array(300)), 'oversized', /exceeds 256/, 'oversized heartbeat');
  refuse(() => decodeHeartbeat(encodeHeartbeat({ agent: 'a1', online: true, tick: 1, sentUs: 1, bundleId: '../etc' })), 'invalid', /bundle_id is not a sha256 in hex/, 'a bundle id that is not one');
  refuse(() => decodePeerMessage(encodePeerMessage({ ...peer, sentUs: -3 }), 64, 'int8'), 'invalid', /sent time -3 is not microseconds since the Unix epoch/, 'a negative time');
  // a vendor's time.time() * 1e6 has a fractional part: rounded, never a silent drop
  t.equal(decodePeerMessage(encodePeerMessage({ ...peer, sentUs: 1_764_000_000_123_456.6 }), 64, 'int8').sentUs, 1_764_000_000_123_457, 'fractional time: rounded');
  t.equal(decodeObservation(encodeObservation({ tick: 1, values: new Float32Array(2), sentUs: 1_764_000_000_000_000.25 })).sentUs, 1_764_000_000_000_000);
  refuse(() => decodePeerMessage(encodePeerMessage(peer), 64, 'f16'), 'invalid', /a f16 message of 64 values has 128/, 'the bundle says f16');
  refuse(() => decodeAction(Uint8Array.from([0x18, 0x09])), 'invalid', /unknown tier 9/, 'unknown tier');
  t.end();
});

t.test('control messages round-trip; a bad command is invalid, a huge one oversized', (t) => {
  const c = { command: 'pause', argument: 'until tick 90' };
  t.same(decodeControl(encodeControl(c)), c);
  const reason = (fn: () => unknown) => {
    try {
      fn();
      return 'accepted';
    } catch (err) {
      return err instanceof WireError ? err.reason : String(err);
    }
  };
  t.equal(reason(() => decodeControl(encodeControl({ command: 'rm -rf /', argument: '' }))), 'invalid');
  t.equal(reason(() => decodeControl(new Uint8Array(2000))), 'oversized');
  t.end();
});

t.test('a tick record written by hand decodes with the generated decoder, field for field', (t) => {
  const protoRoot = protobuf.parse(readFileSync(join(REPO_ROOT, 'runtime', 'wire', 'fleetmind.proto'), 'utf8'), { keepCase: true }).root;
  const generated = protoRoot.lookupType('fleetmind.v1.TickRecord');
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let n = 0; n < 200; n++) {
    const rounds = Array.from({ length: Math.floor(rand() * 3) }, (_, r) => ({
      round: r + 1, timedOut: rand() < 0.3, waitedMs: rand() * 50,
      inbox: Array.from({ length: Math.floor(rand() * 10) }, (_, slot) => ({
        slot, payload: Uint8Array.from({ length: Math.floor(rand() * 300) }, () => Math.floor(rand() * 256)),
        scale: Math.fround(rand()), sentUs: 1.8e15 + Math.floor(rand() * 1e9), receivedUs: 1.8e15 + Math.floor(rand() * 1e9),
      })),
    }));
    const record: RecordedTick = {
      tick: n === 0 ? 2 ** 32 - 1 : Math.floor(rand() * 2 ** 32), startedUs: 1.8e15 + n, observation: Float32Array.from({ length: Math.floor(rand() * 200) }, () => rand() - 0.5),
      path: TICK_PATHS[n % 4], rounds, policyAction: Math.floor(rand() * 300), action: Math.floor(rand() * 5),
      policyVector: n % 2 ? Float32Array.from({ length: 1 + (n % 7) }, () => rand() * 2 - 1) : null,
      vector: n % 2 ? Float32Array.from({ length: 1 + (n % 7) }, () => rand()) : null, tier: TIERS[n % 4],
      shielded: rand() < 0.5, safeReason: n % 3 === 0 ? 'observation_nonfinite' : '', memoryReset: n % 4 === 1 ? 'episode' : '', silent: n % 5 === 2, inferenceMs: rand(), waitingMs: rand() * 10, tickMs: rand() * 20,
    };
    const bytes = encodeTickRecord(record);
    t.same(decodeTickRecord(bytes), record, `record ${n}`);
    const o = generated.toObject(generated.decode(bytes), { longs: Number, defaults: true });
    if (o.tick !== record.tick || o.observation.length !== record.observation.length || o.rounds.length !== rounds.length) t.fail(`record ${n}: the generated decoder reads ${JSON.stringify({ tick: o.tick, rounds: o.rounds.length })}`);
  }
  t.end();
});
