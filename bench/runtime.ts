// `fleetmind bench runtime`: what one robot's runtime costs.
//   ort_call_us  one ONNX Runtime call of an MLP actor, batch 1, edge session options, as the
//                agent makes it, beside the same call of an identity graph on the same
//                observation (what any call costs)
//   tick_ms      observation → action of every agent of a fleet (in this process, in-process
//                adapters, lockstep) exchanging CommNet messages through the fleetmind broker in
//                its own process on loopback
//   rss_mib      resident memory of one `fleetmind-agent` process after it has acted
//   msg_bytes    one peer message on the wire, as the agents sent it
//   cpu_ms_per_tick  this process's CPU (the agents; the broker runs elsewhere) per fleet tick
//   gc           that process's garbage collections over the measured ticks (the tick's tail)
//   recording    with `record`: every agent's flight recorder on, and its bytes per agent per tick

import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { pino } from 'pino';
import { EDGE_SESSION_OPTIONS, loadBundle, parseManifest, type LoadedBundle } from '@fleetmind/models';
import { GraphBuilder, JOINED_INPUT } from '@fleetmind/models/onnx';
import { batchedInference, createAgent, InProcessAdapter, sharedConnections, type FleetAgent } from '@fleetmind/runtime';
import { encodeMessage, encodePeerMessage } from '@fleetmind/wire';
import { makeWorld, percentile } from '@fleetmind/worlds';
import { startTarget } from './broker/targets.js';

export interface RuntimeBenchOptions {
  /** CommNet bundle whose agents form the fleet */
  bundle: string;
  /** MLP bundle for the ONNX call */
  mlpBundle: string;
  /** an MLP bundle with continuous actions (the same hidden sizes): its call is measured beside the discrete one */
  continuousBundle?: string;
  /** a recurrent (GRU) bundle: its call, state in and out, is measured beside the MLP's */
  recurrentBundle?: string;
  ticks?: number;
  ortCalls?: number;
  /** an external broker instead of the fleetmind broker in a child process */
  brokerUrl?: string;
  /** a folder: the agents' flight recorders write there (the recording's cost is measured) */
  record?: string;
  /** the fleet's agents: each its own MQTT connection (default, as robots have) or one for the process (sharedConnections) */
  connections?: 'per-agent' | 'shared';
  /** each agent its own ONNX Runtime calls (default) or the calls of one turn as one batch (batchedInference) */
  inference?: 'per-agent' | 'batched';
  onProgress?: (line: string) => void;
}

export interface RuntimeBenchReport {
  ort_call_us: { p50: number; p99: number; calls: number };
  /** an identity graph (obs → action) called the same way in the same blocks, and p50 actor / identity */
  ort_call_us_identity: { p50: number; p99: number; calls: number; actor_p50_ratio: number };
  /** the continuous actor's call, measured in the same blocks as the discrete one, and p50 continuous / discrete */
  ort_call_us_continuous: { p50: number; p99: number; calls: number; p50_ratio: number; bundle: string } | null;
  /** the recurrent actor's call (its state fed, the next state fetched with the action), in the same blocks, and p50 recurrent / MLP */
  ort_call_us_recurrent: { p50: number; p99: number; calls: number; p50_ratio: number; bundle: string } | null;
  tick_ms: { agents: number; rounds: number; p50: number; p99: number; ticks: number; full_ratio: number; broker: string; connections: 'per-agent' | 'shared'; inference: 'per-agent' | 'batched' };
  /** the agents' process's garbage collections over the measured fleet ticks: what its tick tail is made of */
  gc: { fleet_ticks: number; scavenges: number; scavenge_ms_p50: number | null; scavenge_ms_max: number | null; major: number; major_ms_max: number | null };
  cpu_ms_per_tick: number;
  recording: { dir: string; bytes_per_agent_tick: number; files: number } | null;
  rss_mib: number;
  msg_bytes: number;
  bundle: string;
}

const round = (x: number, digits: number) => Number(x.toFixed(digits));

export async function benchRuntime(o: RuntimeBenchOptions): Promise<RuntimeBenchReport> {
  const progress = o.onProgress ?? (() => {});
  progress('ONNX Runtime call…');
  const extra = [o.continuousBundle, o.recurrentBundle].filter((dir): dir is string => Boolean(dir));
  const [ortCall, identity, ...others] = await benchOrtCalls([o.mlpBundle, 'identity', ...extra], o.ortCalls ?? 20_000);
  const beside = (dir: string | undefined) => (dir ? { ...others[extra.indexOf(dir)], p50_ratio: round(others[extra.indexOf(dir)].p50 / ortCall.p50, 3), bundle: dir } : null);
  progress('fleet ticks…');
  const ticks = await benchTicks(o.bundle, o.ticks ?? 400, o.brokerUrl, o.record ?? null, o.connections ?? 'per-agent', o.inference ?? 'per-agent', progress);
  progress('agent process memory…');
  const rss = await agentProcessRss(o.bundle);
  const ortCallIdentity = { ...identity, actor_p50_ratio: round(ortCall.p50 / identity.p50, 3) };
  return { ort_call_us: ortCall, ort_call_us_identity: ortCallIdentity, ort_call_us_continuous: beside(o.continuousBundle), ort_call_us_recurrent: beside(o.recurrentBundle), tick_ms: ticks.tick, gc: ticks.gc, cpu_ms_per_tick: ticks.cpuMsPerTick, recording: ticks.recording, rss_mib: rss, msg_bytes: ticks.msgBytes, bundle: o.bundle };
}

/** obs [batch, size] → action, through one Identity: the floor under any call of a graph with one input */
function identityGraph(size: number): Uint8Array {
  const g = new GraphBuilder('identity');
  g.output(g.input('obs', ['batch', size]), 'action', ['batch', size]);
  return g.toBytes('bench: an identity graph');
}

/**
 * Each MLP or recurrent bundle's actor call, batch 1, as the agent makes it — on the session the
 * bundle loader opens, with the observation and agent id as one row where it takes them so
 * ('identity': an identity graph on the first bundle's observation); they alternate in blocks so
 * they meet the same machine load.
 */
async function benchOrtCalls(dirs: string[], calls: number): Promise<RuntimeBenchReport['ort_call_us'][]> {
  const obsSize = parseManifest(readFileSync(join(dirs[0], 'manifest.json'), 'utf8')).roles[0].observation.size;
  const bundles: LoadedBundle[] = [];
  const actors = await Promise.all(dirs.map(async (dir) => {
    if (dir === 'identity') {
      const session = await ort.InferenceSession.create(identityGraph(obsSize), EDGE_SESSION_OPTIONS);
      const feeds = { obs: new ort.Tensor('float32', new Float32Array(obsSize).fill(0.1), [1, obsSize]) };
      for (let k = 0; k < 2_000; k++) await session.run(feeds, ['action']);
      return { session, feeds, fetches: ['action'], times: [] as number[] };
    }
    const bundle = await loadBundle(dir);
    bundles.push(bundle);
    const role = bundle.roles[0];
    const spec = role.spec;
    if (!role.actor) throw new Error(`${dir} is not an MLP or recurrent bundle`);
    const session = role.actor;
    const obs = new Float32Array(spec.observation.size).fill(0.1);
    const agentId = new Float32Array(spec.agent_id_size);
    const feeds: Record<string, ort.Tensor> = role.joined.has(session)
      ? { [JOINED_INPUT]: new ort.Tensor('float32', Float32Array.from([...obs, ...agentId]), [1, obs.length + agentId.length]) }
      : { obs: new ort.Tensor('float32', obs, [1, obs.length]), ...(agentId.length > 0 ? { agent_id: new ort.Tensor('float32', agentId, [1, agentId.length]) } : {}) };
    // as the agent calls it: only the action is fetched, and a recurrent actor's next state
    const fetches = ['action'];
    if (spec.graphs.kind === 'recurrent') {
      feeds[spec.graphs.state.input] = new ort.Tensor('float32', new Float32Array(spec.graphs.state.size), [1, spec.graphs.state.size]);
      fetches.push(spec.graphs.state.output);
    }
    for (let k = 0; k < 2_000; k++) await session.run(feeds, fetches);
    return { session, feeds, fetches, times: [] as number[] };
  }));
  const blocks = 20;
  for (let b = 0; b < blocks; b++) {
    for (const actor of actors) {
      for (let k = 0; k < calls / blocks; k++) {
        const t0 = process.hrtime.bigint();
        await actor.session.run(actor.feeds, actor.fetches);
        actor.times.push(Number(process.hrtime.bigint() - t0) / 1000);
      }
    }
  }
  await actors[dirs.indexOf('identity')]?.session.release();
  await Promise.all(bundles.map((b) => b.close()));
  return actors.map(({ times }) => ({ p50: round(percentile(times, 0.5), 1), p99: round(percentile(times, 0.99), 1), calls: times.length }));
}

/** a safety net only: every round of the tick benchmark waits for every peer */
const TICK_BENCH_ROUND_DEADLINE_MS = 2_000;

async function benchTicks(dir: string, ticks: number, brokerUrl: string | undefined, record: string | null, connections: 'per-agent' | 'shared', inference: 'per-agent' | 'batched', progress: (line: string) => void) {
  const bundle = await loadBundle(dir);
  const manifest = bundle.manifest;
  if (!manifest.communication) throw new Error(`${dir} is not a CommNet bundle`);
  const world = makeWorld(manifest.world.id, { numEnvs: 1, config: manifest.world.config, autoReset: true });
  const broker = brokerUrl ? { url: brokerUrl, stop: async () => {} } : await startTarget('fleetmind', 0, { anonymous: true });
  const agents: FleetAgent[] = [];
  const shared = connections === 'shared' ? sharedConnections('bench') : null;
  const batched = inference === 'batched' ? batchedInference() : null;
  try {
    const ids = world.possibleAgents;
    const actions = new Int32Array(ids.length);
    const times: number[] = [];
    // minor (scavenge) and major collections, by their pause
    const pauses = { minor: [] as number[], major: [] as number[] };
    const notePause = (e: { duration: number; detail?: unknown }) => ((e.detail as { kind?: number } | undefined)?.kind === constants.NODE_PERFORMANCE_GC_MINOR ? pauses.minor : pauses.major).push(e.duration);
    const gcWatch = new PerformanceObserver((list) => list.getEntries().forEach(notePause));
    let full = 0;
    let waiting: { tick: number; left: number; resolve: () => void } | null = null;
    const adapters = ids.map((_, i) => new InProcessAdapter((a) => {
      actions[i] = a.action;
      if (waiting && a.tick === waiting.tick && --waiting.left === 0) waiting.resolve();
    }));
    for (const [i, id] of ids.entries()) {
      agents.push(await createAgent({
        bundle, agentId: id, broker: broker.url, fleet: `bench-${process.pid}`, adapter: adapters[i], logger: pino({ level: 'silent' }),
        // the tick's latency is the figure: a slow round must show as a slow tick, not be cut at a
        // deadline into a partial one (a 50 ms deadline did that on a loaded 2-core CI machine)
        roundDeadlineMs: TICK_BENCH_ROUND_DEADLINE_MS, record: record ? { dir: record } : null,
        ...(shared ? { transport: shared.transport } : {}),
        ...(batched ? { policy: batched } : {}),
        onTick: (r) => { if (r.tick > 20) { times.push(r.ms); if (r.tier === 'full') full++; } },
      }));
    }
    for (let k = 0; k < 300 && !agents.every((a) => a.livePeers().length === ids.length - 1); k++) await new Promise((r) => setTimeout(r, 10));
    let observations = world.reset(0).observations;
    let cpuFrom: NodeJS.CpuUsage | null = null;
    for (let tick = 1; tick <= ticks + 20; tick++) {
      if (tick === 21) { cpuFrom = process.cpuUsage(); gcWatch.observe({ entryTypes: ['gc'] }); }
      const done = new Promise<void>((resolve) => { waiting = { tick, left: ids.length, resolve }; });
      ids.forEach((_, i) => adapters[i].observe({ tick, values: observations[i].slice() }));
      await done;
      observations = world.step(actions).observations;
      if (tick % 50 === 0) progress(`fleet ticks ${tick}/${ticks + 20}`);
    }
    const cpu = process.cpuUsage(cpuFrom!);
    gcWatch.takeRecords().forEach(notePause); // those not yet handed to the callback
    gcWatch.disconnect();
    const cpuMsPerTick = round((cpu.user + cpu.system) / 1000 / ticks, 3);
    for (const a of agents.splice(0)) await a.stop(); // the recordings are finished and on disk
    const files = record ? readdirSync(record).filter((f) => f.endsWith('.mcap')) : [];
    const bytes = files.reduce((sum, f) => sum + statSync(join(record!, f)).size, 0);
    const recording = record ? { dir: record, bytes_per_agent_tick: round(bytes / ids.length / (ticks + 20), 1), files: files.length } : null;
      const H = manifest.communication.message_size;
    const sample = encodeMessage(new Float32Array(H).map((_, k) => Math.sin(k)), manifest.communication.quantization);
    const msgBytes = encodePeerMessage({ fleet: 'bench', agent: ids[ids.length - 1], tick: ticks + 20, round: 1, payload: sample.payload, scale: sample.scale, sentUs: Date.now() * 1000 }).length;
    return {
      tick: { agents: ids.length, rounds: manifest.communication.rounds, p50: round(percentile(times, 0.5), 3), p99: round(percentile(times, 0.99), 3), ticks: times.length, full_ratio: round(full / times.length, 4), broker: brokerUrl ?? 'fleetmind (child process)', connections, inference },
      msgBytes, cpuMsPerTick, recording,
      gc: {
        fleet_ticks: ticks, scavenges: pauses.minor.length, major: pauses.major.length,
        scavenge_ms_p50: pauses.minor.length ? round(percentile(pauses.minor, 0.5), 2) : null,
        scavenge_ms_max: pauses.minor.length ? round(Math.max(...pauses.minor), 2) : null,
        major_ms_max: pauses.major.length ? round(Math.max(...pauses.major), 2) : null,
      },
    };
  } finally {
    for (const a of agents) await a.stop();
    await shared?.close();
    await bundle.close();
    await broker.stop();
  }
}

/** One agent as a device runs it (the runtime's own command, stdio adapter), after 200 ticks. */
async function agentProcessRss(dir: string): Promise<number> {
  const manifest = parseManifest(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  const role = manifest.roles[0];
  const bin = fileURLToPath(import.meta.resolve('@fleetmind/runtime').replace(/index\.js$/, 'cli/bin.js'));
  // run the bin itself, so that its #! line's V8 flags apply as on a device
  const child = spawn(bin, ['--bundle', dir, '--agent', role.agents[0], '--broker', 'mqtt://127.0.0.1:1', '--adapter', 'stdio', '--log-level', 'silent'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const obs = JSON.stringify(Array.from({ length: role.observation.size }, (_, k) => Math.cos(k) / 2));
  // one observation at a time, as a robot's control loop sends them (lockstep skips superseded ones)
  let tick = 0;
  const send = () => child.stdin.write(`{"tick":${++tick},"values":${obs}}\n`);
  const answered = new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => {
    const lines = d.toString().split('\n').length - 1;
    for (let k = 0; k < lines; k++) if (tick < 200) send(); else resolve();
  }));
  send();
  await answered;
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  const kib = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  child.stdin.end();
  await new Promise((resolve) => child.once('exit', resolve));
  return round(kib / 1024, 1);
}
