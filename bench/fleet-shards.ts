// `fleetmind bench fleet --shards K`: the same large fleet as fleet-scale.ts (k-nearest
// simple_spread, neighbour topics, the fleetmind broker in a child process, stepped at --hz), but
// the agents in K shard processes (`sim --shards K`) and the world in this one, speaking over the
// broker. Reported beside the one-process bench: decisions per second, the share missing their
// period, rounds inside their deadline (the shards' own counters), and the CPU each agent-decision
// costs in the world's process, in each shard, in the broker and in all.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resizeBundle } from '@fleetmind/models';
import { simulate } from '@fleetmind/sim-harness/fleet';
import { startTarget } from './broker/targets.js';
import { processCpuSeconds } from './process-cpu.js';

export interface FleetShardsOptions {
  bundle: string;
  agents: number;
  shards: number;
  hz: number;
  seconds: number;
  roundDeadlineMs: number;
  heartbeatMs: number;
}

export interface FleetShardsReport {
  agents: number;
  shards: number;
  hz: number;
  ticks: number;
  decisions_per_s: number;
  decisions_missing_ratio: number;
  rounds_in_deadline_ratio: number;
  tiers: Record<string, number>;
  /** CPU µs per agent-decision: the world's process, each shard, the broker (null where /proc is unreadable), all */
  cpu_us_per_decision: { world: number; shards: number[]; broker: number | null; all: number | null };
}

/** simple_spread's episodes are 25 ticks */
const EPISODE_TICKS = 25;

export async function benchFleetShards(o: FleetShardsOptions): Promise<FleetShardsReport> {
  const dir = mkdtempSync(join(tmpdir(), 'fm-shards-'));
  const broker = await startTarget('fleetmind', 0, { anonymous: true });
  try {
    const resized = resizeBundle(o.bundle, join(dir, 'bundle'), o.agents);
    const episodes = Math.max(1, Math.round((o.seconds * o.hz) / EPISODE_TICKS));
    const brokerFrom = broker.pid === undefined ? null : processCpuSeconds(broker.pid);
    const cpuFrom = process.cpuUsage();
    const run = await simulate({
      bundle: join(dir, 'bundle'), episodes, seed: 0, hz: o.hz, shards: o.shards, broker: broker.url,
      agent: { roundDeadlineMs: o.roundDeadlineMs, heartbeatMs: o.heartbeatMs, peerTimeoutMs: 4 * o.heartbeatMs },
    });
    const cpu = process.cpuUsage(cpuFrom);
    const brokerTo = broker.pid === undefined ? null : processCpuSeconds(broker.pid);
    const decisions = run.asked_actions;
    const shards = run.shard_reports!;
    const counters = shards.map((s) => s.agent_counters!);
    const rounds = counters.reduce((sum, c) => sum + c.ticks, 0) * (resized.communication?.rounds ?? 0);
    const misses = counters.reduce((sum, c) => sum + c.deadlineMisses, 0);
    const per = (seconds: number) => Number(((seconds * 1e6) / Math.max(1, decisions)).toFixed(1));
    const world = per((cpu.user + cpu.system) / 1e6);
    const brokerCpu = brokerFrom === null || brokerTo === null ? null : per(brokerTo - brokerFrom);
    const shardCpu = shards.map((s) => per(s.cpu_s));
    return {
      agents: o.agents, shards: o.shards, hz: o.hz, ticks: episodes * EPISODE_TICKS,
      decisions_per_s: Number(((decisions - run.missing_actions) / (episodes * EPISODE_TICKS / o.hz)).toFixed(1)),
      decisions_missing_ratio: Number((run.missing_actions / Math.max(1, decisions)).toFixed(4)),
      rounds_in_deadline_ratio: Number((1 - misses / Math.max(1, rounds)).toFixed(4)),
      tiers: run.tiers,
      cpu_us_per_decision: { world, shards: shardCpu, broker: brokerCpu, all: brokerCpu === null ? null : Number((world + brokerCpu + shardCpu.reduce((a, b) => a + b, 0)).toFixed(1)) },
    };
  } finally {
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
