// `fleetmind bench soak --minutes M`: a fleet of runtime agents at --hz for M minutes over the
// fleetmind broker (its own process), while a fault plan cycles phase by phase — nominal, message
// loss, a partition, crashes with restarts, a broker restart, hostile garbage — recording, minute
// by minute, the rounds inside their deadline, the decisions that missed their period, the
// reconnections, and the memory of the agents' process (RSS, heap) and of the broker's. A leak
// shows as growth over the second half: the report gives it in per cent of the level there.

import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { loadBundle, resizeBundle } from '@fleetmind/models';
import { createAgent, InProcessAdapter, mqttTransport, type AgentSnapshot, type FleetAgent } from '@fleetmind/runtime';
import { faultInjectingTransport, nearestPeers } from '@fleetmind/sim-harness/fleet';
import { parseTopic } from '@fleetmind/wire';
import { makeWorld, Rng } from '@fleetmind/worlds';
import { startTarget, type Target } from './broker/targets.js';

export const SOAK_PHASES = ['nominal', 'loss', 'partition', 'crash', 'broker_restart', 'hostile'] as const;
export type SoakPhase = (typeof SOAK_PHASES)[number];

export interface SoakOptions {
  /** a one-role CommNet bundle without agent ids (it is resized to the fleet) */
  bundle: string;
  minutes: number;
  agents?: number;
  hz?: number;
  /** how long each phase of the cycle lasts */
  phaseSeconds?: number;
  seed?: number;
  onProgress?: (line: string) => void;
}

export interface SoakMinute {
  minute: number;
  /** the phases that ran in this minute */
  phases: SoakPhase[];
  rounds: number;
  rounds_in_deadline_ratio: number;
  decisions_missing_ratio: number;
  reconnects: number;
  agents_rss_mib: number;
  agents_heap_mib: number;
  broker_rss_mib: number;
}

export interface SoakPhaseWindow {
  phase: SoakPhase;
  /** seconds since the soak began */
  start_s: number;
  rounds: number;
  rounds_in_deadline_ratio: number;
}

export interface SoakReport {
  agents: number;
  hz: number;
  minutes: number;
  phase_seconds: number;
  per_minute: SoakMinute[];
  /** each phase as it ran, with its own rounds in deadline */
  per_phase: SoakPhaseWindow[];
  /** least-squares growth over the second half, in per cent of the mean level there */
  second_half_growth_pct: { agents_rss: number; agents_heap: number; broker_rss: number };
  /** the lowest rounds-in-deadline ratio of the nominal (fault-free) phases, the first excepted (the fleet warming up) */
  fault_free_min_in_deadline: number | null;
  faults: { crashes: number; restarts: number; broker_restarts: number; hostile_messages: number; dropped_messages: number };
}

const rssMibOf = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;

/** growth of the fitted line over the span, per cent of the mean */
function growthPct(values: number[]): number {
  const n = values.length;
  if (n < 2) return 0;
  const mx = (n - 1) / 2;
  const my = values.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  values.forEach((y, x) => { num += (x - mx) * (y - my); den += (x - mx) ** 2; });
  return Number((((num / den) * (n - 1)) / my * 100).toFixed(2));
}

export async function benchSoak(o: SoakOptions): Promise<SoakReport> {
  const n = o.agents ?? 50;
  const hz = o.hz ?? 10;
  const phaseMs = (o.phaseSeconds ?? 30) * 1000;
  const rng = new Rng(o.seed ?? 1, 0x50a4);
  const progress = o.onProgress ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), 'fm-soak-'));
  const resized = resizeBundle(o.bundle, join(dir, 'bundle'), n);
  const bundle = await loadBundle(join(dir, 'bundle'));
  const world = makeWorld(resized.world.id, { numEnvs: 1, config: resized.world.config, autoReset: true });
  const ids = [...world.possibleAgents];
  const k = resized.communication!.inbox_capacity;
  let broker: Target = await startTarget('fleetmind', 0, { anonymous: true });
  const port = Number(new URL(broker.url.replace('mqtt:', 'http:')).port);
  const faults = { crashes: 0, restarts: 0, broker_restarts: 0, hostile_messages: 0, dropped_messages: 0 };
  let phase: SoakPhase = 'nominal';
  const half = (id: string) => ids.indexOf(id) < n / 2;
  // message faults at the transport seam: loss and the partition act on what each agent receives
  const transportFor = (receiver: string) => faultInjectingTransport(mqttTransport, {
    down: (packet, send) => {
      const topic = parseTopic(packet.topic);
      if (topic?.kind === 'agent' && topic.channel === 'msg') {
        if ((phase === 'loss' && rng.next() < 0.3) || (phase === 'partition' && half(topic.agent) !== half(receiver))) { faults.dropped_messages++; return; }
      }
      send(packet);
    },
  });
  const nearest = nearestPeers(world, k, 0); // each agent's k nearest at the start
  let observations = world.reset(0).observations;
  const peersOf = (i: number) => nearest?.get(ids[i]) ?? ids.filter((_, j) => j !== i);
  const actions = new Int32Array(n);
  const answered = new Uint8Array(n);
  let tick = 0;
  const adapters = ids.map((_, i) => new InProcessAdapter((a) => { if (a.tick === tick) { actions[i] = a.action; answered[i] = 1; } }));
  const agents: (FleetAgent | null)[] = new Array(n).fill(null);
  /** counters of agents' earlier lives (before a crash) */
  const retired: AgentSnapshot[] = [];
  const launch = async (i: number) => {
    agents[i] = await createAgent({
      bundle, agentId: ids[i], broker: broker.url, fleet: 'soak', adapter: adapters[i], logger: pino({ level: 'silent' }),
      peers: peersOf(i), roundDeadlineMs: 50, heartbeatMs: 500, peerTimeoutMs: 2_000, transport: transportFor(ids[i]),
    });
  };
  const hostile = mqtt.connect(broker.url, { clientId: 'soak-hostile', reconnectPeriod: 500 });
  hostile.on('error', () => {}); // it reconnects by itself after a broker restart; its errors are not the measurement
  const totals = () => {
    const all = [...retired, ...agents.filter((a): a is FleetAgent => a !== null).map((a) => a.snapshot())];
    return { ticks: all.reduce((s, x) => s + x.ticks, 0), misses: all.reduce((s, x) => s + x.deadlineMisses, 0), reconnects: all.reduce((s, x) => s + x.reconnects, 0) };
  };
  const perMinute: SoakMinute[] = [];
  const perPhase: SoakPhaseWindow[] = [];
  let phaseStart = { at: 0, totals: { ticks: 0, misses: 0, reconnects: 0 } };
  /** ends the phase that ran since phaseStart: its rounds in deadline */
  const closePhase = (now: number) => {
    const t = totals();
    const rounds = (t.ticks - phaseStart.totals.ticks) * resized.communication!.rounds;
    perPhase.push({ phase, start_s: Number(((phaseStart.at - beginAt) / 1000).toFixed(1)), rounds, rounds_in_deadline_ratio: Number((1 - (t.misses - phaseStart.totals.misses) / Math.max(1, rounds)).toFixed(5)) });
    phaseStart = { at: now, totals: t };
  };
  let currentPhaseStarted = false;
  let beginAt = 0;
  try {
    for (let i = 0; i < n; i++) await launch(i);
    const rounds = resized.communication!.rounds;
    const periodMs = 1000 / hz;
    const begin = performance.now();
    beginAt = begin;
    const end = begin + o.minutes * 60_000;
    let minuteStart = begin;
    let before = totals();
    let minuteMissing = 0;
    let minuteDecisions = 0;
    let minutePhases = new Set<SoakPhase>();
    let next = begin;
    let crashed: number[] = [];
    let currentPhase = -1;
    const safe = bundle.roles[0].spec.safe_action as number; // the soak plays discrete simple_spread bundles
    while (performance.now() < end) {
      // the phase of the cycle, and what it does as it starts and ends
      const phaseIndex = Math.floor((performance.now() - begin) / phaseMs);
      if (phaseIndex !== currentPhase) {
        if (currentPhaseStarted) closePhase(performance.now());
        else phaseStart = { at: performance.now(), totals: totals() };
        currentPhaseStarted = true;
        if (phase === 'crash') for (const i of crashed) { await launch(i); faults.restarts++; }
        crashed = [];
        currentPhase = phaseIndex;
        phase = SOAK_PHASES[phaseIndex % SOAK_PHASES.length];
        if (phase === 'crash') {
          crashed = Array.from({ length: Math.max(1, Math.round(n / 10)) }, () => rng.int(n)).filter((v, j, a) => a.indexOf(v) === j);
          for (const i of crashed) { retired.push(agents[i]!.snapshot()); await agents[i]!.kill(); agents[i] = null; faults.crashes++; }
        }
        if (phase === 'broker_restart') {
          await broker.stop();
          broker = await startTarget('fleetmind', 0, { anonymous: true, port });
          faults.broker_restarts++;
        }
        progress(`${((performance.now() - begin) / 60_000).toFixed(1)}/${o.minutes} min: ${phase}`);
      }
      minutePhases.add(phase);
      if (phase === 'hostile' && hostile.connected) {
        for (let m = 0; m < 20; m++) {
          hostile.publish(`fm/soak/a/${ids[rng.int(n)]}/msg`, Buffer.from(Array.from({ length: 1 + rng.int(120) }, () => rng.int(256))));
          faults.hostile_messages++;
        }
      }
      tick++;
      answered.fill(0);
      ids.forEach((_, i) => { if (agents[i]) adapters[i].observe({ tick, values: observations[i].slice() }); });
      next += periodMs;
      await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
      for (let i = 0; i < n; i++) if (!answered[i]) { actions[i] = safe; if (agents[i]) minuteMissing++; }
      minuteDecisions += agents.filter(Boolean).length;
      observations = world.step(actions).observations;
      if (performance.now() - minuteStart >= 60_000 || performance.now() >= end) {
        const now = totals();
        const roundsDone = (now.ticks - before.ticks) * rounds;
        const memory = process.memoryUsage();
        perMinute.push({
          minute: perMinute.length + 1, phases: [...minutePhases], rounds: roundsDone,
          rounds_in_deadline_ratio: Number((1 - (now.misses - before.misses) / Math.max(1, roundsDone)).toFixed(5)),
          decisions_missing_ratio: Number((minuteMissing / Math.max(1, minuteDecisions)).toFixed(5)),
          reconnects: now.reconnects - before.reconnects,
          agents_rss_mib: Number((memory.rss / 2 ** 20).toFixed(1)), agents_heap_mib: Number((memory.heapUsed / 2 ** 20).toFixed(1)),
          broker_rss_mib: Number(rssMibOf(broker.pid!).toFixed(1)),
        });
        before = now;
        minuteStart = performance.now();
        minuteMissing = 0;
        minuteDecisions = 0;
        minutePhases = new Set([phase]);
      }
    }
    closePhase(performance.now());
    const second = perMinute.slice(Math.floor(perMinute.length / 2));
    const faultFree = perPhase.slice(1).filter((p) => p.phase === 'nominal');
    return {
      agents: n, hz, minutes: o.minutes, phase_seconds: phaseMs / 1000, per_minute: perMinute, per_phase: perPhase,
      second_half_growth_pct: { agents_rss: growthPct(second.map((m) => m.agents_rss_mib)), agents_heap: growthPct(second.map((m) => m.agents_heap_mib)), broker_rss: growthPct(second.map((m) => m.broker_rss_mib)) },
      fault_free_min_in_deadline: faultFree.length ? Math.min(...faultFree.map((m) => m.rounds_in_deadline_ratio)) : null,
      faults,
    };
  } finally {
    hostile.end(true);
    for (const a of agents) await a?.kill();
    await bundle.close();
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
