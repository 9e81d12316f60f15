// The three measurements of `fleetmind bench broker`, the same for every broker:
// round trip of sparse messages, fan-out throughput, and a neighbour-messaging fleet at 10 Hz.

import type { Socket } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import { BENCH_FLEET, type Credentials, type Target } from './targets.js';
import { percentile } from '@fleetmind/worlds';
import { LeanClient } from './lean-client.js';

const topicOf = (i: number) => `fm/${BENCH_FLEET}/a/a${i}/msg`;

const round = (x: number, digits = 3) => Number(x.toFixed(digits));

async function open(url: string, creds: Credentials): Promise<MqttClient> {
  const client = await mqtt.connectAsync(url, { ...creds, reconnectPeriod: 0, connectTimeout: 10_000 });
  (client.stream as unknown as Socket).setNoDelay?.(true); // Nagle adds a ~40 ms tail on loopback
  return client;
}

function stamp(): Buffer {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(performance.now());
  return b;
}

export interface RoundTrip { p50: number; p99: number; samples: number }

/** One client publishes to a topic it subscribes to, one message at a time. */
export async function measureRoundTrip(target: Target, samples = 2000): Promise<RoundTrip> {
  const c = await open(target.url, target.agent(0));
  await c.subscribeAsync(topicOf(0));
  const times: number[] = [];
  let resolveOne: () => void = () => {};
  c.on('message', (_t, p) => { times.push(performance.now() - p.readDoubleLE(0)); resolveOne(); });
  for (let i = 0; i < samples + 100; i++) {
    await new Promise<void>((resolve) => { resolveOne = resolve; c.publish(topicOf(0), stamp()); });
  }
  await c.endAsync(true);
  const sorted = times.slice(100); // the first 100 warm up the JIT
  return { p50: round(percentile(sorted, 0.5)), p99: round(percentile(sorted, 0.99)), samples: sorted.length };
}

export interface FanOut { subscribers: number; messages: number; delivered: number; msgs_per_s: number }

/** One publisher, many subscribers on its topic: deliveries per second. */
export async function measureFanOut(target: Target, subscribers = 50, messages = 2000): Promise<FanOut> {
  const pub = await open(target.url, target.agent(0));
  const subs = await Promise.all(Array.from({ length: subscribers }, (_, k) => open(target.url, target.agent(k + 1))));
  let delivered = 0;
  const expected = subscribers * messages;
  let done: () => void = () => {};
  const allIn = new Promise<void>((resolve) => { done = resolve; });
  await Promise.all(subs.map((s) => s.subscribeAsync(topicOf(0))));
  subs.forEach((s) => s.on('message', () => { if (++delivered === expected) done(); }));
  const payload = Buffer.alloc(64);
  const start = performance.now();
  for (let i = 0; i < messages; i++) {
    pub.publish(topicOf(0), payload);
    if (i % 100 === 99) await new Promise((r) => setImmediate(r));
  }
  // at most 30 s; the timer is cleared, or it would hold the command's exit for the rest of them
  let giveUp: NodeJS.Timeout | undefined;
  await Promise.race([allIn, new Promise((r) => { giveUp = setTimeout(r, 30_000); })]);
  clearTimeout(giveUp);
  const seconds = (performance.now() - start) / 1000;
  await Promise.all([pub, ...subs].map((c) => c.endAsync(true)));
  return { subscribers, messages, delivered, msgs_per_s: Math.round(delivered / seconds) };
}

export interface Fleet {
  agents: number;
  hz: number;
  neighbours: number;
  seconds: number;
  expected: number;
  delivered: number;
  delivered_ratio: number;
  latency_ms: { p50: number; p99: number };
}

/**
 * N agents on a ring, each publishing on its own topic at `hz` (phases spread over the period)
 * and subscribed to its 4 nearest neighbours (i±1, i±2). Driven by LeanClient, so that the
 * load generator is not what is measured.
 */
export async function measureFleet(target: Target, agents = 500, hz = 10, seconds = 5): Promise<Fleet> {
  const neighbours = [-2, -1, 1, 2];
  const port = Number(new URL(target.url).port);
  const clients: LeanClient[] = [];
  for (let i = 0; i < agents; i += 50) {
    clients.push(...await Promise.all(Array.from({ length: Math.min(50, agents - i) }, (_, k) => LeanClient.connect(port, target.agent(i + k)))));
  }
  const latencies: number[] = [];
  let windowStart = Infinity;
  let windowEnd = Infinity;
  await Promise.all(clients.map(async (c, i) => {
    c.onMessage = (_t, p) => {
      const sent = p.readDoubleLE(0);
      if (sent >= windowStart && sent < windowEnd) latencies.push(performance.now() - sent);
    };
    await c.subscribe(neighbours.map((d) => topicOf((i + d + agents) % agents)));
  }));
  let published = 0;
  const periodMs = 1000 / hz;
  const timers: NodeJS.Timeout[] = [];
  clients.forEach((c, i) => {
    const topic = topicOf(i);
    timers.push(setTimeout(() => {
      timers.push(setInterval(() => {
        const now = performance.now();
        if (now >= windowStart && now < windowEnd) published++;
        c.publish(topic, stamp());
      }, periodMs));
    }, (i / agents) * periodMs));
  });
  const warmUp = 1000;
  windowStart = performance.now() + warmUp;
  windowEnd = windowStart + seconds * 1000;
  await new Promise((r) => setTimeout(r, warmUp + seconds * 1000 + 500)); // + time for the last ones to land
  timers.forEach((t) => clearInterval(t));
  clients.forEach((c) => c.end());
  const expected = published * neighbours.length;
  const sorted = latencies;
  return {
    agents, hz, neighbours: neighbours.length, seconds, expected,
    delivered: latencies.length,
    delivered_ratio: round(latencies.length / expected, 4),
    latency_ms: { p50: round(percentile(sorted, 0.5)), p99: round(percentile(sorted, 0.99)) },
  };
}
