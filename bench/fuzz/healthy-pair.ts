// Child process of the broker fuzz: two well-behaved agents bouncing a message with a deadline,
// in a process of their own so that the fuzzer's own work (building floods of packets) cannot
// delay them — what is measured is the broker. argv: <url> <JSON [credA, credB]> <deadline ms>.
// Runs until its standard input closes, then prints its figures as one JSON line.

import type { Socket } from 'node:net';
import mqtt from 'mqtt';
import { percentile } from '@fleetmind/worlds';

const [url, credentialsJson, deadlineArg] = process.argv.slice(2);
const [credA, credB] = JSON.parse(credentialsJson) as { clientId: string; username: string; password: string }[];
const deadlineMs = Number(deadlineArg);
const open = (c: typeof credA) => mqtt.connectAsync(url, { ...c, reconnectPeriod: 0, connectTimeout: 5_000 });
const [a, b] = await Promise.all([open(credA), open(credB)]);
for (const c of [a, b]) (c.stream as unknown as Socket).setNoDelay?.(true);
let disconnects = 0;
for (const c of [a, b]) c.on('close', () => { disconnects++; });
const topicOf = (c: typeof credA) => `fm/bench/a/${c.username}/msg`;
await b.subscribeAsync(topicOf(credA));
b.on('message', (_t, p) => b.publish(topicOf(credB), p));
await a.subscribeAsync(topicOf(credB));
const times: number[] = [];
let late = 0;
/** the round trip in flight: its sequence number and who waits for its echo */
let waiting: { seq: number; done: (at: number) => void } | null = null;
a.on('message', (_t, p) => { if (waiting && Number(p.toString()) === waiting.seq) waiting.done(performance.now()); });
let running = true;
process.stdin.on('end', () => { running = false; });
process.stdin.resume();
process.stdout.write('READY\n');
for (let seq = 0; running; seq++) {
  const sentAt = performance.now();
  const echoedAt = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => { waiting = null; resolve(null); }, deadlineMs);
    waiting = { seq, done: (at) => { clearTimeout(timer); waiting = null; resolve(at); } };
    a.publish(topicOf(credA), String(seq));
  });
  if (echoedAt === null) late++;
  else times.push(echoedAt - sentAt);
  await new Promise((resolve) => setTimeout(resolve, 10)); // a tick's worth between round trips
}
const closedBefore = disconnects;
a.end(true);
b.end(true);
process.stdout.write(`${JSON.stringify({
  disconnects: closedBefore, round_trips: times.length + late, within_deadline_ratio: Number((times.length / Math.max(1, times.length + late)).toFixed(5)),
  p50_ms: Number(percentile(times, 0.5).toFixed(3)), p99_ms: Number(percentile(times, 0.99).toFixed(3)), deadline_ms: deadlineMs,
})}\n`);
process.exit(0);
