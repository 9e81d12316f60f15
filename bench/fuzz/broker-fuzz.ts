// `fleetmind bench fuzz --target broker`: the fleetmind broker, in a process of its own, takes
// seeded malformed MQTT from several raw connections while two well-behaved clients keep doing
// round trips with a deadline. Pass: the broker never exits, its memory stays bounded, the
// healthy clients keep their deadlines. Every fuzz connection opens with a CONNECT (mostly valid,
// so the fuzz reaches the handlers behind it) and sends frames until the broker closes it.

import { connect as tcpConnect, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';
import { Rng, percentile } from '@fleetmind/worlds';
import { startTarget } from '../broker/targets.js';
import { connectPacket, fuzzFrame, type Mutation } from './mqtt-mutations.js';

export interface BrokerFuzzOptions {
  /** frames to send in all */
  packets?: number;
  seed?: number;
  /** fuzz connections open at once */
  connections?: number;
  /** frames per fuzz connection before it is replaced (if the broker has not closed it) */
  framesPerConnection?: number;
  /** the healthy clients' round-trip deadline, ms */
  deadlineMs?: number;
  onProgress?: (line: string) => void;
}

export interface BrokerFuzzReport {
  packets: number;
  by_mutation: Partial<Record<Mutation, number>>;
  connections: number;
  /** fuzz connections the broker closed before they were done */
  closed_by_broker: number;
  /** broker process exits (0 is a pass) */
  crashes: number;
  broker_rss_mib: { start: number; peak: number; end: number };
  healthy: { round_trips: number; within_deadline_ratio: number; p50_ms: number; p99_ms: number; deadline_ms: number };
  seconds: number;
}

const rssMib = (pid: number) => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
};

/** Two clients bouncing a message with a deadline: what a fleet's traffic needs from the broker. */
async function healthyPair(url: string, deadlineMs: number) {
  const open = (clientId: string) => mqtt.connectAsync(url, { clientId, reconnectPeriod: 0, connectTimeout: 5_000 });
  const [a, b]: MqttClient[] = await Promise.all([open('healthy-a'), open('healthy-b')]);
  for (const c of [a, b]) (c.stream as unknown as Socket).setNoDelay?.(true);
  await b.subscribeAsync('fm/healthy/a/b/msg');
  b.on('message', (_t, p) => a.publish('fm/healthy/a/a/msg', p));
  await a.subscribeAsync('fm/healthy/a/a/msg');
  const times: number[] = [];
  let late = 0;
  /** the round trip in flight: its sequence number and who waits for its echo */
  let waiting: { seq: number; done: (at: number) => void } | null = null;
  a.on('message', (_t, p) => { if (waiting && Number(p.toString()) === waiting.seq) waiting.done(performance.now()); });
  let running = true;
  const loop = (async () => {
    for (let seq = 0; running; seq++) {
      const sentAt = performance.now();
      const echoedAt = await new Promise<number | null>((resolve) => {
        const timer = setTimeout(() => { waiting = null; resolve(null); }, deadlineMs);
        waiting = { seq, done: (at) => { clearTimeout(timer); waiting = null; resolve(at); } };
        a.publish('fm/healthy/a/b/msg', String(seq));
      });
      if (echoedAt === null) late++;
      else times.push(echoedAt - sentAt);
      await new Promise((resolve) => setTimeout(resolve, 10)); // a tick's worth between round trips
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      a.end(true);
      b.end(true);
      return { round_trips: times.length + late, within_deadline_ratio: times.length / Math.max(1, times.length + late), p50_ms: percentile(times, 0.5), p99_ms: percentile(times, 0.99), deadline_ms: deadlineMs };
    },
  };
}

export async function fuzzBroker(o: BrokerFuzzOptions = {}): Promise<BrokerFuzzReport> {
  const total = o.packets ?? 1_000_000;
  const rng = new Rng(o.seed ?? 1, 0xf022);
  const parallel = o.connections ?? 8;
  const perConnection = o.framesPerConnection ?? 200;
  const progress = o.onProgress ?? (() => {});
  const target = await startTarget('fleetmind', 0, { anonymous: true });
  const pid = target.pid!;
  let crashes = 0;
  void target.exited!.then(() => { crashes++; });
  const port = Number(new URL(target.url.replace('mqtt:', 'http:')).port);
  const rss = { start: rssMib(pid), peak: 0, end: 0 };
  const sampler = setInterval(() => { if (!crashes) rss.peak = Math.max(rss.peak, rssMib(pid)); }, 200);
  const healthy = await healthyPair(target.url, o.deadlineMs ?? 50);
  const started = performance.now();
  let sent = 0;
  let connections = 0;
  let closedByBroker = 0;
  const byMutation: Partial<Record<Mutation, number>> = {};

  /** one fuzz connection: CONNECT, then frames until done or closed; resolves when it is over */
  const fuzzOne = (k: number) => new Promise<void>((resolve) => {
    connections++;
    const socket = tcpConnect({ port, host: '127.0.0.1', noDelay: true });
    let closed = false;
    socket.on('error', () => {});
    socket.on('data', () => {}); // read and drop what the broker answers
    socket.once('close', () => { closed = true; resolve(); });
    socket.once('connect', async () => {
      socket.write(connectPacket(rng, `fuzz-${k}`));
      for (let n = 0; n < perConnection && !closed && sent < total; n++) {
        const { frame, mutation } = fuzzFrame(rng);
        byMutation[mutation] = (byMutation[mutation] ?? 0) + 1;
        sent++;
        // respect backpressure: a fuzzer that buffers without bound measures itself, not the broker
        if (!socket.write(frame)) await new Promise((r) => socket.once('drain', r));
        if (n % 32 === 31) await new Promise((r) => setImmediate(r));
      }
      if (closed) closedByBroker++;
      else socket.destroy();
    });
  });

  let next = 0;
  const lanes = Array.from({ length: parallel }, async () => {
    while (sent < total && !crashes) {
      await fuzzOne(next++);
      if (next % 50 === 0) progress(`${sent.toLocaleString('en-US')}/${total.toLocaleString('en-US')} frames, ${connections} connections, broker RSS ${rss.peak.toFixed(0)} MiB`);
    }
  });
  await Promise.all(lanes);
  const healthyReport = await healthy.stop();
  clearInterval(sampler);
  rss.end = crashes ? NaN : rssMib(pid);
  await target.stop();
  const round = (x: number) => Number(x.toFixed(1));
  return {
    packets: sent, by_mutation: byMutation, connections, closed_by_broker: closedByBroker, crashes,
    broker_rss_mib: { start: round(rss.start), peak: round(rss.peak), end: round(rss.end) },
    healthy: { ...healthyReport, p50_ms: Number(healthyReport.p50_ms.toFixed(3)), p99_ms: Number(healthyReport.p99_ms.toFixed(3)), within_deadline_ratio: Number(healthyReport.within_deadline_ratio.toFixed(5)) },
    seconds: round((performance.now() - started) / 1000),
  };
}
