// Seeded, malformed MQTT: valid packets of every kind (mqtt-packet builds them), then mutated —
// bytes flipped, the remaining length lied about (short, long, absurd), frames cut short,
// unknown packet types, and floods of SUBSCRIBE filters. The same seed gives the same packets.

import mqttPacket, { type Packet } from 'mqtt-packet';
import { Rng } from '@fleetmind/worlds';

export type Mutation = 'valid' | 'flipped' | 'length_lie' | 'absurd_length' | 'truncated' | 'unknown_type' | 'subscribe_flood' | 'garbage';
const MUTATIONS: Mutation[] = ['valid', 'flipped', 'length_lie', 'absurd_length', 'truncated', 'unknown_type', 'subscribe_flood', 'garbage'];

const topic = (rng: Rng) => ['fm', `f${rng.int(3)}`, 'a', `a${rng.int(5)}`, ['msg', 'hb', 'obs', 'act'][rng.int(4)]].slice(0, 1 + rng.int(5)).join('/');
const filter = (rng: Rng) => [topic(rng), 'fm/+/a/+/msg', 'fm/#', '#', '$SYS/#', 'a/#/b', '+/+/+', ''][rng.int(8)];
const bytes = (rng: Rng, n: number) => Buffer.from(Array.from({ length: n }, () => rng.int(256)));

/** A valid packet a client may send after CONNECT. */
function validPacket(rng: Rng): Packet {
  const messageId = 1 + rng.int(65535);
  switch (rng.int(6)) {
    case 0: return { cmd: 'publish', topic: topic(rng), payload: bytes(rng, rng.int(64)), qos: rng.int(2) as 0 | 1, retain: rng.next() < 0.1, dup: false, messageId } as Packet;
    case 1: return { cmd: 'subscribe', messageId, subscriptions: [{ topic: filter(rng) || 'x', qos: rng.int(2) as 0 | 1 }] } as Packet;
    case 2: return { cmd: 'unsubscribe', messageId, unsubscriptions: [filter(rng) || 'x'] } as Packet;
    case 3: return { cmd: 'pingreq' } as Packet;
    case 4: return { cmd: 'puback', messageId } as Packet;
    default: return { cmd: 'publish', topic: topic(rng), payload: bytes(rng, 8), qos: 0, retain: false, dup: false } as Packet;
  }
}

/** A CONNECT most of the time valid (so the fuzz gets past it), sometimes not. */
export function connectPacket(rng: Rng, credentials: { clientId: string; username?: string; password?: string }): Buffer {
  const frame = mqttPacket.generate({
    cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 30, clientId: credentials.clientId,
    username: credentials.username, password: credentials.password === undefined ? undefined : Buffer.from(credentials.password),
  } as Packet);
  return rng.next() < 0.8 ? frame : mutate(rng, frame, MUTATIONS[1 + rng.int(MUTATIONS.length - 1)]).frame;
}

function mutate(rng: Rng, frame: Buffer, mutation: Mutation): { frame: Buffer; mutation: Mutation } {
  const out = Buffer.from(frame);
  switch (mutation) {
    case 'flipped':
      for (let k = 0; k < 1 + rng.int(4); k++) out[rng.int(out.length)] ^= 1 + rng.int(255);
      return { frame: out, mutation };
    case 'length_lie':
      // the remaining length says more or less than follows
      if (out.length > 1) out[1] = (out[1] + (rng.next() < 0.5 ? 1 + rng.int(5) : 256 - 1 - rng.int(3))) & 0x7f;
      return { frame: out, mutation };
    case 'absurd_length':
      // the largest remaining length MQTT can say (268,435,455), or a fifth continuation byte
      return { frame: Buffer.concat([out.subarray(0, 1), Buffer.from(rng.next() < 0.5 ? [0xff, 0xff, 0xff, 0x7f] : [0xff, 0xff, 0xff, 0xff, 0x01]), bytes(rng, 16)]), mutation };
    case 'truncated':
      return { frame: out.subarray(0, Math.max(1, rng.int(out.length))), mutation };
    case 'unknown_type':
      // packet types 0 and 15 are reserved in MQTT 3.1.1
      out[0] = (rng.next() < 0.5 ? 0x00 : 0xf0) | (out[0] & 0x0f);
      return { frame: out, mutation };
    case 'garbage':
      return { frame: bytes(rng, 1 + rng.int(64)), mutation };
    default:
      return { frame: out, mutation };
  }
}

/** The next fuzz frame, and what was done to it. */
export function fuzzFrame(rng: Rng): { frame: Buffer; mutation: Mutation } {
  const mutation = MUTATIONS[rng.int(MUTATIONS.length)];
  if (mutation === 'subscribe_flood') {
    const n = 1000 + rng.int(3000);
    const subscriptions = Array.from({ length: n }, (_, k) => ({ topic: `flood/${k}/${topic(rng)}`, qos: 0 as const }));
    return { frame: mqttPacket.generate({ cmd: 'subscribe', messageId: 1 + rng.int(65535), subscriptions } as Packet), mutation };
  }
  return mutate(rng, mqttPacket.generate(validPacket(rng)), mutation);
}
