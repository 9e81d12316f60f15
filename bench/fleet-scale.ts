// `fleetmind bench fleet`: how large a fleet one machine runs in real time. N runtime agents in
// this process (in-process adapters), the fleetmind broker in a child process (the other core),
// a large simple_spread world where each agent observes its k nearest landmarks and agents and
// talks to its k nearest agents (peers fixed at the first reset, one topic each), stepped at
// --hz. Reported: the share of communication rounds complete inside their deadline, decisions
// missing at the end of their period, the world's step time, the event loop's lag, and the CPU
// time each agent-decision costs: this process (agents and world) and the broker's, apart and in all.
// Every figure is of the steady state: the first --warmup-seconds of ticks (code not yet
// optimized, the first batch's buffers, a start in step) are played but not counted; what they
// missed is reported apart.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pino } from 'pino';
import { loadBundle, resizeBundle } from '@fleetmind/models';
import { batchedInference, createAgent, InProcessAdapter, RolloutOperator, sharedConnections, type FleetAgent } from '@fleetmind/runtime';
import { bundleVariant } from './bundle-variant.js';
import { makeWorld, percentile } from '@fleetmind/worlds';
import { nearestPeers } from '@fleetmind/sim-harness/fleet';
import { startTarget } from './broker/targets.js';
import { processCpuSeconds } from './process-cpu.js';

export interface FleetScaleOptions {
  /** a one-role CommNet bundle trained on k-nearest observations without agent ids */
  bundle: string;
  agents: number;
  hz: number;
  seconds: number;
  /** played before the measured seconds, not counted (default 1) */
  warmupSeconds?: number;
  roundDeadlineMs: number;
  /** heartbeat period; the peer timeout is four of them (heartbeats are a third of a large fleet's traffic at 200 ms) */
  heartbeatMs: number;
  /**
   * a rollout during the measured seconds: the same policy under a new version, padded to this many
   * MB, published to every agent one second in (each agent then has a bundle store)
   */
  rolloutMb?: number;
  /** the rollout's spread: each agent starts its download after a random delay up to this, ms */
  rolloutSpreadMs?: number;
  /** 'per-agent' (default): each agent its own MQTT connection, as robots have; 'shared': one for the process (runtime/agent/shared-connection.ts) */
  connections?: 'per-agent' | 'shared';
  /** per-agent: each agent its own ONNX Runtime calls; batched: the calls of one turn in one (runtime batchedInference) */
  inference?: 'per-agent' | 'batched';
  onProgress?: (line: string) => void;
}

export interface FleetScaleReport {
  agents: number;
  connections: 'per-agent' | 'shared';
  inference: 'per-agent' | 'batched';
  /** batched inference: the agents' calls per graph call (mean); null: per-agent */
  mean_batch: number | null;
  neighbours: number;
  hz: number;
  heartbeat_ms: number;
  ticks: number;
  /** the ticks played first and not counted, and the share of their decisions that missed their period */
  warmup: { ticks: number; decisions_missing_ratio: number };
  rounds: number;
  rounds_in_deadline_ratio: number;
  decisions_missing_ratio: number;
  tiers: Record<string, number>;
  world_step_ms: { p50: number; p99: number };
  event_loop_lag_ms: { p50: number; p99: number };
  /**
   * CPU µs per agent-decision asked: the agents' and world's process, the broker's (null where
   * /proc is not readable), both; and that process's split: the world's steps (their wall time:
   * a step runs on the process's one thread, start to end) and the agents (the rest)
   */
  cpu_us_per_decision: { agents_and_world: number; world: number; agents: number; broker: number | null; all: number | null };
  /** with rolloutMb: the bundle's size, and from the plan to every agent running it (null: not all within the run) */
  rollout?: { bundle_bytes: number; chunks: number; plan_to_all_switched_ms: number | null; switched: number };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * One second into the run, the fleet's bundle under a new version, padded to `mb`, is offered and
 * assigned to everyone; resolves when every agent runs it, or when the run ends first.
 */
async function rolloutDuringRun(fleetBundle: string, candidateDir: string, mb: number, spreadMs: number, brokerUrl: string, agents: number, runEnded: AbortSignal): Promise<NonNullable<FleetScaleReport['rollout']>> {
  const size = Math.round(mb * 2 ** 20);
  const files = JSON.parse(readFileSync(join(fleetBundle, 'manifest.json'), 'utf8')).files as Record<string, { bytes: number }>;
  const candidate = bundleVariant(fleetBundle, candidateDir, '1.0.1', Math.max(0, size - Object.values(files).reduce((s, f) => s + f.bytes, 0)));
  const operator = await RolloutOperator.connect({ brokerUrl, fleet: 'scale' });
  try {
    await operator.until(() => operator.now().reports.length === agents, 'every agent reports', 30_000);
    await sleep(1_000);
    const offered = await operator.offer({ bundleDir: candidate });
    const started = performance.now();
    await operator.assign({ rollout: 'bench', offer: offered.offer, agents: null, switchAtTick: null, spreadMs });
    const switched = () => operator.now().reports.filter((r) => r.running.id === offered.offer.id).length;
    let ms: number | null = null;
    try {
      await operator.until(() => runEnded.aborted || switched() === agents, 'every agent runs the new bundle', 120_000, runEnded);
      if (switched() === agents) ms = Math.round(performance.now() - started);
    } catch {
      // not all within the time: reported as such
    }
    return { bundle_bytes: offered.bytes, chunks: offered.offer.chunks.length, plan_to_all_switched_ms: ms, switched: switched() };
  } finally {
    await operator.close();
  }
}

function perDecision(processUs: number, worldUs: number, brokerUs: number | null, decisions: number): FleetScaleReport['cpu_us_per_decision'] {
  const per = (us: number) => Number((us / decisions).toFixed(1));
  return {
    agents_and_world: per(processUs), world: per(worldUs), agents: per(processUs - worldUs),
    broker: brokerUs === null ? null : per(brokerUs), all: brokerUs === null ? null : per(processUs + brokerUs),
  };
}

export async function benchFleetScale(o: FleetScaleOptions): Promise<FleetScaleReport> {
  const progress = o.onProgress ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), 'fm-fleet-'));
  const resized = resizeBundle(o.bundle, join(dir, 'bundle'), o.agents);
  const k = resized.communication!.inbox_capacity;
  const bundle = await loadBundle(join(dir, 'bundle'));
  const world = makeWorld(resized.world.id, { numEnvs: 1, config: resized.world.config, autoReset: true });
  const broker = await startTarget('fleetmind', 0, { anonymous: true });
  const agents: FleetAgent[] = [];
  const connections = o.connections ?? 'per-agent';
  const shared = connections === 'shared' ? sharedConnections('scale') : null;
  const inference = o.inference ?? 'per-agent';
  const batched = inference === 'batched' ? batchedInference() : null;
  try {
    const ids = world.possibleAgents;
    const nearest = nearestPeers(world, k, 0); // each agent's k nearest at the start
    let observations = world.reset(0).observations;
    const peersOf = (i: number) => nearest?.get(ids[i]) ?? ids.filter((_, j) => j !== i);
    const actions = new Int32Array(ids.length);
    const answered = new Uint8Array(ids.length);
    const tiers: Record<string, number> = { full: 0, partial: 0, none: 0, safe: 0 };
    let tick = 0;
    /** the tick whose period is open (0: none); a decision counts only while its period is */
    let open = 0;
    const adapters = ids.map((_, i) => new InProcessAdapter((a) => {
      if (a.tick !== open) return; // too late for its period: it is counted missing
      actions[i] = a.action;
      answered[i] = 1;
      tiers[a.tier]++;
    }));
    for (const [i, id] of ids.entries()) {
      agents.push(await createAgent({
        bundle, agentId: id, broker: broker.url, fleet: 'scale', adapter: adapters[i], logger: pino({ level: 'silent' }),
        peers: peersOf(i), roundDeadlineMs: o.roundDeadlineMs, heartbeatMs: o.heartbeatMs, peerTimeoutMs: 4 * o.heartbeatMs,
        ...(o.rolloutMb !== undefined ? { bundleStore: join(dir, 'stores', id) } : {}),
        ...(shared ? { transport: shared.transport } : {}),
        ...(batched ? { policy: batched } : {}),
      }));
      if (i % 50 === 49) progress(`started ${i + 1}/${ids.length} agents`);
    }
    for (let w = 0; w < 100 && agents.some((a, i) => a.livePeers().length < Math.min(k, peersOf(i).length)); w++) await sleep(100);
    const periodMs = 1000 / o.hz;
    const total = Math.round(o.seconds * o.hz);
    const warmupTicks = Math.round((o.warmupSeconds ?? 1) * o.hz);
    const safe = bundle.roles[0].spec.safe_action as number; // the bench plays discrete simple_spread bundles
    let missing = 0;
    let stepMs: number[] = [];
    let next = performance.now();
    /** one period: observations out, the period waited, the decisions that missed it replaced, the world stepped */
    const play = async () => {
      tick++;
      open = tick;
      answered.fill(0);
      ids.forEach((_, i) => adapters[i].observe({ tick, values: observations[i].slice() }));
      next += periodMs;
      await sleep(Math.max(0, next - performance.now()));
      // closed before the last tick's wait below, too: a decision after its period is missing, not also made
      open = 0;
      for (let i = 0; i < ids.length; i++) if (!answered[i]) { missing++; actions[i] = safe; }
      const t0 = performance.now();
      observations = world.step(actions).observations;
      stepMs.push(performance.now() - t0);
    };
    for (let t = 0; t < warmupTicks; t++) await play();
    const warmupMissing = missing;
    missing = 0;
    stepMs = [];
    for (const key of Object.keys(tiers)) tiers[key] = 0;
    const missesBefore = agents.reduce((s, a) => s + a.snapshot().deadlineMisses, 0);
    const roundsBefore = agents.reduce((s, a) => s + a.snapshot().ticks, 0);
    const lag = monitorEventLoopDelay({ resolution: 5 });
    lag.enable();
    const cpuFrom = process.cpuUsage();
    const brokerFrom = broker.pid === undefined ? null : processCpuSeconds(broker.pid);
    const runEnded = new AbortController();
    const rollout = o.rolloutMb === undefined ? null : rolloutDuringRun(join(dir, 'bundle'), join(dir, 'candidate'), o.rolloutMb, o.rolloutSpreadMs ?? 0, broker.url, ids.length, runEnded.signal);
    for (let t = 0; t < total; t++) {
      await play();
      if (t % 10 === 9) progress(`tick ${t + 1}/${total}`);
    }
    lag.disable();
    const cpu = process.cpuUsage(cpuFrom);
    runEnded.abort();
    const rolled = await rollout;
    const brokerTo = broker.pid === undefined ? null : processCpuSeconds(broker.pid);
    await sleep(o.roundDeadlineMs * 2);
    const rounds = agents.reduce((s, a) => s + a.snapshot().ticks, 0) - roundsBefore;
    const misses = agents.reduce((s, a) => s + a.snapshot().deadlineMisses, 0) - missesBefore;
    const r = (x: number, d = 3) => Number(x.toFixed(d));
    return {
      agents: ids.length,
      connections, inference, mean_batch: batched ? r(batched.stats.carried / Math.max(1, batched.stats.calls), 1) : null, neighbours: k, hz: o.hz, heartbeat_ms: o.heartbeatMs, ticks: total,
      warmup: { ticks: warmupTicks, decisions_missing_ratio: r(warmupMissing / Math.max(1, warmupTicks * ids.length), 4) },
      rounds: rounds * (resized.communication!.rounds),
      rounds_in_deadline_ratio: r(1 - misses / Math.max(1, rounds * resized.communication!.rounds), 4),
      decisions_missing_ratio: r(missing / (total * ids.length), 4),
      tiers,
      world_step_ms: { p50: r(percentile(stepMs, 0.5)), p99: r(percentile(stepMs, 0.99)) },
      event_loop_lag_ms: { p50: r(lag.percentile(50) / 1e6), p99: r(lag.percentile(99) / 1e6) },
      cpu_us_per_decision: perDecision(cpu.user + cpu.system, stepMs.reduce((a, b) => a + b, 0) * 1000, brokerFrom === null || brokerTo === null ? null : (brokerTo - brokerFrom) * 1e6, total * ids.length),
      ...(rolled ? { rollout: rolled } : {}),
    };
  } finally {
    for (const a of agents) await a.kill();
    await shared?.close();
    await bundle.close();
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
