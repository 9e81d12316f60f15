// `fleetmind bench fuzz --target broker`: the fleetmind broker, in a process of its own with
// users and ACLs on, takes seeded malformed MQTT from several raw connections while two
// well-behaved agents keep doing round trips with a deadline. Pass: the broker never exits, its
// memory stays bounded, the healthy agents keep their deadlines. Every fuzz connection opens
// with a CONNECT — mostly valid, as a compromised robot of the fleet (an agent user), so the fuzz
// reaches the handlers behind authentication — and sends frames until the broker closes it.

import { connect as tcpConnect, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Rng } from '@fleetmind/worlds';
import { startTarget, type Credentials } from '../broker/targets.js';
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
  /** frames per second, all connections together: a hostile robot, not a denial of service (default 5,000) */
  rate?: number;
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
  healthy: { disconnects: number; round_trips: number; within_deadline_ratio: number; p50_ms: number; p99_ms: number; deadline_ms: number };
  seconds: number;
}

/** agent users the fuzz connections log in as */
const FUZZ_USERS = 16;

const rssMib = (pid: number) => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
};

const HEALTHY = fileURLToPath(new URL('./healthy-pair.js', import.meta.url));

/** Two agents bouncing a message with a deadline, in their own process; stop() returns their figures. */
async function healthyPair(url: string, deadlineMs: number, credA: Credentials, credB: Credentials) {
  const child = spawn(process.execPath, [HEALTHY, url, JSON.stringify([credA, credB]), String(deadlineMs)], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', () => { if (out.includes('READY')) resolve(); });
    child.once('exit', (code) => reject(new Error(`the healthy clients exited with ${code} before starting`)));
  });
  return {
    async stop(): Promise<BrokerFuzzReport['healthy']> {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.stdin!.end();
      await exited;
      return JSON.parse(out.split('\n').filter((l) => l.startsWith('{')).at(-1)!);
    },
  };
}

export async function fuzzBroker(o: BrokerFuzzOptions = {}): Promise<BrokerFuzzReport> {
  const total = o.packets ?? 1_000_000;
  const rng = new Rng(o.seed ?? 1, 0xf022);
  const parallel = o.connections ?? 32;
  const perConnection = o.framesPerConnection ?? 200;
  const rate = o.rate ?? 5_000;
  const progress = o.onProgress ?? (() => {});
  // agents a0…a(FUZZ_USERS−1) are the compromised robots; the last two are the healthy pair
  const target = await startTarget('fleetmind', FUZZ_USERS + 2);
  const pid = target.pid!;
  let crashes = 0;
  let stopping = false;
  void target.exited!.then(() => { if (!stopping) crashes++; });
  const port = Number(new URL(target.url.replace('mqtt:', 'http:')).port);
  const rss = { start: rssMib(pid), peak: 0, end: 0 };
  const sampler = setInterval(() => { if (!crashes) rss.peak = Math.max(rss.peak, rssMib(pid)); }, 200);
  const healthy = await healthyPair(target.url, o.deadlineMs ?? 50, target.agent(FUZZ_USERS), target.agent(FUZZ_USERS + 1));
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
    let weClosed = false;
    socket.on('error', () => {});
    socket.on('data', () => {}); // read and drop what the broker answers
    socket.once('close', () => {
      closed = true;
      if (!weClosed) closedByBroker++;
      resolve();
    });
    socket.once('connect', async () => {
      const user = target.agent(k % FUZZ_USERS);
      socket.write(connectPacket(rng, { ...user, clientId: `${user.clientId}:fuzz${k}` }));
      for (let n = 0; n < perConnection && !closed && sent < total; n++) {
        const { frame, mutation } = fuzzFrame(rng);
        byMutation[mutation] = (byMutation[mutation] ?? 0) + 1;
        sent++;
        // respect backpressure: a fuzzer that buffers without bound measures itself, not the broker
        if (!socket.write(frame)) await new Promise((r) => socket.once('drain', r));
        // keep to the rate: wait until the schedule has caught up with what was sent
        const ahead = sent / rate - (performance.now() - started) / 1000;
        if (ahead > 0.005) await new Promise((r) => setTimeout(r, ahead * 1000));
      }
      if (!closed) { weClosed = true; socket.destroy(); }
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
  stopping = true;
  await target.stop();
  const round = (x: number) => Number(x.toFixed(1));
  return {
    packets: sent, by_mutation: byMutation, connections, closed_by_broker: closedByBroker, crashes,
    broker_rss_mib: { start: round(rss.start), peak: round(rss.peak), end: round(rss.end) },
    healthy: healthyReport,
    seconds: round((performance.now() - started) / 1000),
  };
}
