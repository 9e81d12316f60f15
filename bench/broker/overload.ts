// `fleetmind bench overload`: reproduces the aedes overload crash and shows the fleetmind
// broker surviving it. 500 clients publish at 10 Hz to one topic they all subscribe to
// (250,000 deliveries/s asked of one process), then all disconnect at once. Bare aedes dies
// with "RangeError: Maximum call stack size exceeded" in mqemitter; fleetmind keeps serving.
// About a minute.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';

const SERVE = fileURLToPath(new URL('./serve.js', import.meta.url));
const CLIENTS = 500;
const HZ = 10;
const SECONDS = 8;

export interface OverloadResult {
  broker: 'aedes' | 'fleetmind';
  crashed: boolean;
  exit_code: number | null;
  error: string | null;
  serves_afterwards: boolean;
}

export interface OverloadReport {
  clients: number;
  hz: number;
  seconds: number;
  results: OverloadResult[];
}

export async function benchBrokerOverload(onProgress: (line: string) => void = () => {}): Promise<OverloadReport> {
  const results = [];
  for (const kind of ['aedes', 'fleetmind'] as const) {
    onProgress(`${kind}: ${CLIENTS} clients at ${HZ} Hz for ${SECONDS} s`);
    results.push(await run(kind));
  }
  return { clients: CLIENTS, hz: HZ, seconds: SECONDS, results };
}

async function run(kind: 'aedes' | 'fleetmind'): Promise<OverloadResult> {
  const child = spawn(process.execPath, [SERVE, kind], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { err += d; });
  const port = await new Promise<number>((resolve) => child.stdout.on('data', () => {
    const m = /PORT (\d+)/.exec(out);
    if (m) resolve(Number(m[1]));
  }));
  const url = `mqtt://127.0.0.1:${port}`;
  const clients = Array.from({ length: CLIENTS }, (_, i) => {
    const c = mqtt.connect(url, { clientId: `c${i}`, reconnectPeriod: 0 });
    c.on('error', () => {});
    return c;
  });
  await new Promise((r) => setTimeout(r, 3000));
  await Promise.all(clients.map((c) => (c.connected ? c.subscribeAsync('fm/f/shared').catch(() => {}) : null)));
  const payload = Buffer.alloc(64);
  const timers = clients.map((c) => setInterval(() => c.connected && c.publish('fm/f/shared', payload), 1000 / HZ));
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  timers.forEach(clearInterval);
  clients.forEach((c) => c.end(true)); // everyone leaves while the broker is still drowning
  const exited = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => resolve(null), 15_000);
    child.once('exit', (code) => { clearTimeout(timer); resolve(code); });
  });
  let servesAfterwards = false;
  if (exited === null) {
    const probe = await mqtt.connectAsync(url, { clientId: 'probe', reconnectPeriod: 0 });
    await probe.subscribeAsync('probe/t');
    servesAfterwards = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 2000);
      probe.on('message', () => { clearTimeout(timer); resolve(true); });
      probe.publish('probe/t', 'ping');
    });
    probe.end(true);
    child.kill('SIGKILL');
  }
  const crash = /RangeError[^\n]*/.exec(err)?.[0];
  return { broker: kind, crashed: exited !== null, exit_code: exited, error: crash ?? null, serves_afterwards: servesAfterwards };
}
