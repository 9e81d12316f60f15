// What serving a world over the remote-world protocol costs (docs/remote-world-protocol.md):
// env-steps/s of the same task in process and served — by fleetmind itself over TCP and a Unix
// socket, and by the Python reference server on one and two processes — with every served
// step's time split into the simulator's own share (it reports server_us) and the bridge's
// (framing, copies, the socket thread, the loopback round trip). The bridge's capacity,
// E / bridge time, is what it could carry were the simulator free.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadWorldPlugin, makeWorld, median, openWorld, randomController, RemoteWorld, type World } from '@fleetmind/worlds';

export interface RemoteBenchCase {
  name: string;
  world: string;
  transport: 'in-process' | 'tcp' | 'unix';
  servers: number;
  envs: number;
  env_steps_per_s: number;
  /** served cases: per step, µs (medians over runs) */
  round_trip_us: number | null;
  server_us: number | null;
  bridge_us: number | null;
  /** envs × 1e6 / bridge_us: env-steps/s the bridge alone could carry */
  bridge_capacity_env_steps_per_s: number | null;
}

export interface RemoteBenchReport {
  cases: RemoteBenchCase[];
  /** served / in-process env-steps/s of the same task */
  ratios: Record<string, number>;
}

export interface RemoteBenchOptions {
  envs?: number;
  seconds?: number;
  runs?: number;
  /** python3 by default */
  python?: string;
  onProgress?: (line: string) => void;
}

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const RENDEZVOUS_JS = join(REPO, 'examples', 'worlds', 'rendezvous.js');
const RENDEZVOUS_PY = join(REPO, 'examples', 'remote', 'rendezvous.py');
const SERVER_SCRIPT = fileURLToPath(new URL('./remote-world-server.js', import.meta.url));

function startServer(command: string, args: string[]): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.once('exit', (code) => reject(new Error(`${command} ${args.join(' ')} exited (${code}) before listening`)));
    const onData = (c: Buffer) => {
      out += c.toString();
      const m = /serving \S+ on (\S+)\n/.exec(out); // the whole line: a chunk may end inside the address
      if (!m) return;
      child.stdout!.off('data', onData);
      child.stdout!.resume();
      child.removeAllListeners('exit');
      resolve({ url: m[1], child });
    };
    child.stdout!.on('data', onData);
  });
}

function measure(world: World, seconds: number, runs: number): { rate: number; roundTrip: number | null; server: number | null } {
  const n = world.possibleAgents.length;
  const policy = randomController(world, 1);
  const { observations } = world.reset(1);
  const batches = Array.from({ length: 32 }, () => { const a = new Int32Array(world.numEnvs * n); policy.act(observations, a); return a; });
  const rates: number[] = [];
  const trips: number[] = [];
  const servers: number[] = [];
  for (let r = 0; r < runs + 1; r++) {
    const timing = world instanceof RemoteWorld ? { ...world.timing } : null;
    let steps = 0;
    const start = performance.now();
    while (performance.now() - start < seconds * 1000) {
      world.step(batches[steps % batches.length]);
      steps++;
    }
    const elapsed = performance.now() - start;
    if (r === 0) continue; // warms up the JIT and the server
    rates.push((steps * world.numEnvs) / (elapsed / 1000));
    if (timing && world instanceof RemoteWorld) {
      const d = world.timing.steps - timing.steps;
      trips.push((world.timing.roundTripUs - timing.roundTripUs) / d);
      servers.push((world.timing.serverUs - timing.serverUs) / d);
    }
  }
  return { rate: median(rates), roundTrip: trips.length ? median(trips) : null, server: servers.length ? median(servers) : null };
}

export async function benchRemoteWorld(options: RemoteBenchOptions = {}): Promise<RemoteBenchReport> {
  const envs = options.envs ?? 64;
  const seconds = options.seconds ?? 2;
  const runs = options.runs ?? 3;
  const python = options.python ?? 'python3';
  await loadWorldPlugin(RENDEZVOUS_JS);
  const dir = mkdtempSync(join(tmpdir(), 'fm-bench-remote-'));
  const children: ChildProcess[] = [];
  const serve = async (command: string, args: string[]) => {
    const s = await startServer(command, args);
    children.push(s.child);
    return s.url;
  };
  const cases: RemoteBenchCase[] = [];
  const run = (name: string, world: World, worldId: string, transport: RemoteBenchCase['transport'], servers: number) => {
    options.onProgress?.(`measuring ${name}`);
    try {
      const m = measure(world, seconds, runs);
      const bridge = m.roundTrip !== null && m.server !== null ? m.roundTrip - m.server : null;
      cases.push({
        name, world: worldId, transport, servers, envs, env_steps_per_s: Math.round(m.rate),
        round_trip_us: m.roundTrip && Math.round(m.roundTrip), server_us: m.server && Math.round(m.server), bridge_us: bridge && Math.round(bridge),
        bridge_capacity_env_steps_per_s: bridge ? Math.round((envs * 1e6) / bridge) : null,
      });
    } finally {
      world.close();
    }
  };
  try {
    run('simple_spread in process', makeWorld('simple_spread_v3', { numEnvs: envs }), 'simple_spread_v3', 'in-process', 0);
    const tcp = await serve(process.execPath, [SERVER_SCRIPT, 'simple_spread_v3', 'tcp://127.0.0.1:0']);
    run('simple_spread served by fleetmind, tcp', openWorld(`remote:${tcp}`, { numEnvs: envs }), 'simple_spread_v3', 'tcp', 1);
    const unix = await serve(process.execPath, [SERVER_SCRIPT, 'simple_spread_v3', `unix:${join(dir, 'spread.sock')}`]);
    run('simple_spread served by fleetmind, unix socket', openWorld(`remote:${unix}`, { numEnvs: envs }), 'simple_spread_v3', 'unix', 1);
    run('rendezvous in process (JS plugin)', makeWorld('rendezvous_v0', { numEnvs: envs }), 'rendezvous_v0', 'in-process', 0);
    const py = [await serve(python, [RENDEZVOUS_PY, '--listen', 'tcp://127.0.0.1:0']), await serve(python, [RENDEZVOUS_PY, '--listen', 'tcp://127.0.0.1:0'])];
    run('rendezvous served by Python, tcp', openWorld(`remote:${py[0]}`, { numEnvs: envs }), 'rendezvous_v0', 'tcp', 1);
    run('rendezvous served by two Python processes, tcp', openWorld(`remote:${py.join(',')}`, { numEnvs: envs }), 'rendezvous_v0', 'tcp', 2);
  } finally {
    for (const child of children) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
  const rate = (name: string) => cases.find((c) => c.name === name)!.env_steps_per_s;
  return {
    cases,
    ratios: {
      spread_tcp_over_in_process: rate('simple_spread served by fleetmind, tcp') / rate('simple_spread in process'),
      spread_unix_over_in_process: rate('simple_spread served by fleetmind, unix socket') / rate('simple_spread in process'),
      rendezvous_python_over_in_process: rate('rendezvous served by Python, tcp') / rate('rendezvous in process (JS plugin)'),
      rendezvous_two_python_over_one: rate('rendezvous served by two Python processes, tcp') / rate('rendezvous served by Python, tcp'),
    },
  };
}
