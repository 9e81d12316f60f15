// `fleetmind bench fuzz --target fleet`: a live fleet of runtime agents (the 10-agent CommNet
// bundle, MQTT adapters, the embedded broker), free-running at --hz as on robots, with the world
// publishing every agent's observation each period, while a hostile client publishes seeded,
// mutated protobuf payloads on every topic of the fleet — peer messages, heartbeats,
// observations, control and ticks: valid records with bytes flipped, cut short, grown past their
// limits, replaced by garbage, or well-formed and wrong. Pass: every agent keeps deciding every
// period, and every refusal is counted by its reason. (Free-running, because a lockstep agent
// follows the world's tick numbers by design: a forged observation far in the future would hold
// it until the world caught up — the broker's ACLs are what keep others off the obs topic.)

import { pino } from 'pino';
import mqtt from 'mqtt';
import { loadBundle } from '@fleetmind/models';
import { createAgent, MqttAdapter, type FleetAgent } from '@fleetmind/runtime';
import { startBroker } from '@fleetmind/broker';
import {
  agentTopic, decodeAction, encodeControl, encodeHeartbeat, encodeObservation, encodePeerMessage, fleetTopic, MAX_BYTES,
} from '@fleetmind/wire';
import { makeWorld, Rng } from '@fleetmind/worlds';

export interface FleetFuzzOptions {
  /** a CommNet bundle whose agents form the fleet */
  bundle: string;
  /** mutated payloads in all */
  payloads?: number;
  /** mutated payloads each period */
  perTick?: number;
  seed?: number;
  /** the agents' and the world's rate */
  hz?: number;
  /** false: the control run — as many periods, the hostile client silent (default true) */
  hostile?: boolean;
  onProgress?: (line: string) => void;
}

export interface FleetFuzzReport {
  /** the control run: the payloads were drawn but not sent */
  control: boolean;
  payloads: number;
  by_topic: Record<string, number>;
  agents: number;
  /** world periods played */
  ticks: number;
  /** decisions the agents delivered, and the periods they had (agents × seconds × hz) */
  decisions: { made: number; expected: number; min_agent_ratio: number };
  /** the agents' refusals, summed over the fleet, by reason */
  refusals: Record<string, number>;
  observations_refused: number;
  /** the safe actions the agents took, summed over the fleet, by reason */
  safe_reasons: Record<string, number>;
  deadline_misses: number;
  tiers: Record<string, number>;
  seconds: number;
}

const CHANNELS = ['msg', 'hb', 'obs', 'ctl', 'tick'] as const;

/** A plausible record for the channel, then (mostly) broken. */
function payloadFor(rng: Rng, channel: (typeof CHANNELS)[number], fleet: string, agent: string, tick: number, messageSize: number): Buffer {
  const valid = (): Uint8Array => {
    switch (channel) {
      case 'msg': return encodePeerMessage({ fleet, agent, tick: tick + rng.int(3) - 1, round: rng.int(3), payload: new Uint8Array(messageSize).map(() => rng.int(256)), scale: rng.next() * 2, sentUs: Date.now() * 1000 });
      case 'hb': return encodeHeartbeat({ agent, online: rng.next() < 0.9, tick, sentUs: Date.now() * 1000 });
      case 'obs': return encodeObservation({ tick: tick + rng.int(2000), values: Float32Array.from({ length: 1 + rng.int(40) }, () => rng.uniform(-1e6, 1e6)), sentUs: 0 });
      default: return encodeControl({ command: ['pause', 'resume', 'DROP TABLE', ''][rng.int(4)], argument: 'x'.repeat(rng.int(2000)) });
    }
  };
  const bytes = Buffer.from(valid());
  switch (rng.int(5)) {
    case 0: for (let k = 0; k < 1 + rng.int(4); k++) bytes[rng.int(bytes.length)] ^= 1 + rng.int(255); return bytes;
    case 1: return bytes.subarray(0, rng.int(bytes.length));
    case 2: {
      // past the record's own limit, so the agent's size check (not the broker's) refuses it
      const limit = { msg: MAX_BYTES.peer, hb: MAX_BYTES.heartbeat, obs: MAX_BYTES.observation, ctl: MAX_BYTES.control, tick: MAX_BYTES.control }[channel];
      return Buffer.concat([bytes, Buffer.alloc(limit + 1 + rng.int(1000), rng.int(256))]);
    }
    case 3: return Buffer.from(Array.from({ length: 1 + rng.int(300) }, () => rng.int(256)));
    default: return bytes; // well-formed, and wrong: a stale tick, a forged OFFLINE, a wrong-size observation
  }
}

export async function fuzzFleet(o: FleetFuzzOptions): Promise<FleetFuzzReport> {
  const total = o.payloads ?? 100_000;
  const perTick = o.perTick ?? 50;
  const hz = o.hz ?? 20;
  const rng = new Rng(o.seed ?? 1, 0xf1ee);
  const progress = o.onProgress ?? (() => {});
  const bundle = await loadBundle(o.bundle);
  const m = bundle.manifest;
  if (!m.communication) throw new Error(`${o.bundle} is not a CommNet bundle`);
  const world = makeWorld(m.world.id, { numEnvs: 1, config: m.world.config });
  const ids = [...world.possibleAgents];
  const fleet = `fuzz-${process.pid}`;
  // packets up to 256 KiB, so that oversized records reach the agents and are judged there
  const broker = await startBroker({ port: 0, allowAnonymous: true, connectionBurst: 5_000, maxPacketSize: 256 * 1024 });
  const agents: FleetAgent[] = [];
  const worldClient = await mqtt.connectAsync(broker.url, { clientId: 'fuzz-world', reconnectPeriod: 0 });
  const hostile = await mqtt.connectAsync(broker.url, { clientId: 'fuzz-hostile', reconnectPeriod: 0 });
  const started = performance.now();
  try {
    for (const id of ids) {
      agents.push(await createAgent({
        bundle, agentId: id, broker: broker.url, fleet, adapter: new MqttAdapter(), logger: pino({ level: 'silent' }),
        heartbeatMs: 100, peerTimeoutMs: 500, roundDeadlineMs: 20, hz, maxObservationAgeMs: 1_000,
      }));
    }
    const actions = new Int32Array(ids.length);
    const decided = new Array<number>(ids.length).fill(0);
    let counting = false;
    worldClient.on('message', (topic, payload) => {
      const i = ids.indexOf(topic.split('/')[3]);
      let a;
      try { a = decodeAction(payload); } catch { return; }
      actions[i] = a.action;
      if (counting) decided[i]++;
    });
    await worldClient.subscribeAsync(`fm/${fleet}/a/+/act`);
    // the fleet knows itself before the first period
    const deadline = performance.now() + 15_000;
    while (!agents.every((a) => a.livePeers().length === ids.length - 1)) {
      if (performance.now() > deadline) throw new Error('the fleet did not come online within 15 s');
      await new Promise((r) => setTimeout(r, 20));
    }
    const byTopic: Record<string, number> = {};
    let sent = 0;
    let observations = world.reset(0).observations;
    let tick = 0;
    counting = true;
    const t0 = performance.now();
    const wallStart = Date.now();
    while (sent < total) {
      tick++;
      for (let k = 0; k < perTick && sent < total; k++) {
        const channel = CHANNELS[rng.int(CHANNELS.length)];
        const victim = ids[rng.int(ids.length)];
        const topic = channel === 'ctl' || channel === 'tick' ? fleetTopic(fleet, channel) : agentTopic(fleet, victim, channel);
        const payload = payloadFor(rng, channel, fleet, victim, tick, m.communication.message_size);
        if (o.hostile ?? true) hostile.publish(topic, payload);
        byTopic[channel] = (byTopic[channel] ?? 0) + 1;
        sent++;
      }
      ids.forEach((id, i) => worldClient.publish(agentTopic(fleet, id, 'obs'), Buffer.from(encodeObservation({ tick, values: observations[i], sentUs: Date.now() * 1000 }))));
      // the world keeps its own period, whatever the agents and the hostile client do
      await new Promise((r) => setTimeout(r, Math.max(0, t0 + (tick * 1000) / hz - performance.now())));
      observations = world.step(actions).observations;
      if (tick % 100 === 0) progress(`${sent.toLocaleString('en-US')}/${total.toLocaleString('en-US')} payloads, tick ${tick}`);
    }
    counting = false;
    // the agents' clocks fire on the wall clock's period boundaries: count those the run spanned
    const periodMs = 1000 / hz;
    const periods = Math.floor(Date.now() / periodMs) - Math.floor(wallStart / periodMs);
    const refusals: Record<string, number> = {};
    const tiers: Record<string, number> = {};
    const safeReasons: Record<string, number> = {};
    let observationsRefused = 0;
    let deadlineMisses = 0;
    for (const a of agents) {
      const s = a.snapshot();
      for (const [reason, n] of Object.entries(s.messages.dropped)) refusals[reason] = (refusals[reason] ?? 0) + n;
      for (const [tier, n] of Object.entries(s.tiers)) tiers[tier] = (tiers[tier] ?? 0) + n;
      for (const [reason, n] of Object.entries(s.safeReasons)) safeReasons[reason] = (safeReasons[reason] ?? 0) + (n ?? 0);
      observationsRefused += s.observationsDropped;
      deadlineMisses += s.deadlineMisses;
    }
    return {
      control: !(o.hostile ?? true), payloads: sent, by_topic: byTopic, agents: ids.length, ticks: tick,
      decisions: { made: decided.reduce((a, b) => a + b, 0), expected: periods * ids.length, min_agent_ratio: Number((Math.min(...decided) / Math.max(1, periods)).toFixed(4)) },
      refusals, observations_refused: observationsRefused, safe_reasons: safeReasons, deadline_misses: deadlineMisses, tiers,
      seconds: Number(((performance.now() - started) / 1000).toFixed(1)),
    };
  } finally {
    await Promise.all(agents.map((a) => a.stop()));
    worldClient.end(true);
    hostile.end(true);
    await broker.close();
    await bundle.close();
  }
}
