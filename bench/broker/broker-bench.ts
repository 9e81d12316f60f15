// `fleetmind bench broker`: the fleetmind broker (auth + ACLs on), bare aedes and Mosquitto,
// measured one after the other by the same client code, and their ratios.

import { median } from '@fleetmind/worlds';
import { measureFanOut, measureFleet, measureRoundTrip, type FanOut, type Fleet, type RoundTrip } from './measure.js';
import { mosquittoAvailable, startTarget, type Target, type TargetKind } from './targets.js';
import { measureOverhead, type Overhead } from './overhead.js';

export interface BrokerBenchOptions {
  targets?: TargetKind[];
  /** interleaved rounds of the round-trip and fan-out measurements; medians are reported */
  rounds?: number;
  rttSamples?: number;
  fanOutSubscribers?: number;
  fanOutMessages?: number;
  fleetAgents?: number;
  fleetHz?: number;
  fleetSeconds?: number;
  onProgress?: (line: string) => void;
}

export interface BrokerBenchTarget {
  /** medians over rounds */
  rtt_ms: { p50: number; p99: number };
  fanout_msgs_per_s: number;
  rounds: { rtt_ms: RoundTrip; fanout: FanOut }[];
  fleet: Fleet;
}

export interface BrokerBenchReport {
  /** auth + ACLs + limits + metrics over bare aedes, both in one process (the ≤ 10 % goal) */
  overhead_vs_aedes?: Overhead;
  targets: Partial<Record<TargetKind, BrokerBenchTarget>>;
  /** fleetmind ÷ other, of the medians: > 1 means fleetmind is slower for times, faster for rates */
  ratios: Record<string, { rtt_p50: number; rtt_p99: number; fanout_msgs_per_s: number; fleet_p99: number }>;
  skipped: string[];
}

const ratio = (a: number, b: number) => Number((a / b).toFixed(3));

export async function benchBroker(options: BrokerBenchOptions = {}): Promise<BrokerBenchReport> {
  const say = options.onProgress ?? (() => {});
  const skipped: string[] = [];
  let kinds = options.targets ?? ['fleetmind', 'aedes', 'mosquitto'];
  if (kinds.includes('mosquitto') && !(await mosquittoAvailable())) {
    skipped.push('mosquitto: not running on 127.0.0.1:1883');
    kinds = kinds.filter((k) => k !== 'mosquitto');
  }
  const rounds = options.rounds ?? 3;
  const agents = Math.max(options.fleetAgents ?? 500, (options.fanOutSubscribers ?? 50) + 1);
  const report: BrokerBenchReport = { targets: {}, ratios: {}, skipped };
  if (kinds.includes('fleetmind') && kinds.includes('aedes')) {
    say('auth + ACL overhead over bare aedes');
    report.overhead_vs_aedes = await measureOverhead(rounds);
  }
  // all brokers stay up while the cheap measurements alternate between them, so that a busy
  // moment on this shared machine does not fall on one broker only
  const targets: Target[] = [];
  try {
    for (const kind of kinds) {
      say(`${kind}: starting`);
      targets.push(await startTarget(kind, agents));
    }
    const perTarget = new Map<TargetKind, { rtt_ms: RoundTrip; fanout: FanOut }[]>(kinds.map((k) => [k, []]));
    for (let r = 0; r < rounds; r++) {
      for (const target of targets) {
        say(`round ${r + 1}/${rounds}: ${target.kind}`);
        const rtt = await measureRoundTrip(target, options.rttSamples);
        const fanout = await measureFanOut(target, options.fanOutSubscribers, options.fanOutMessages);
        perTarget.get(target.kind)!.push({ rtt_ms: rtt, fanout });
      }
    }
    // the first fleet measured used to pay for warming up this (load) process: warm it first
    say('warming up the fleet load generator');
    await measureFleet(targets[0], options.fleetAgents, options.fleetHz, 2);
    for (const target of targets) {
      say(`${target.kind}: fleet of ${options.fleetAgents ?? 500}`);
      const fleet = await measureFleet(target, options.fleetAgents, options.fleetHz, options.fleetSeconds);
      const runs = perTarget.get(target.kind)!;
      report.targets[target.kind] = {
        rtt_ms: { p50: median(runs.map((x) => x.rtt_ms.p50)), p99: median(runs.map((x) => x.rtt_ms.p99)) },
        fanout_msgs_per_s: median(runs.map((x) => x.fanout.msgs_per_s)),
        rounds: runs,
        fleet,
      };
    }
  } finally {
    await Promise.all(targets.map((t) => t.stop()));
  }
  const fm = report.targets.fleetmind;
  for (const other of ['aedes', 'mosquitto'] as const) {
    const o = report.targets[other];
    if (!fm || !o) continue;
    report.ratios[`fleetmind_vs_${other}`] = {
      rtt_p50: ratio(fm.rtt_ms.p50, o.rtt_ms.p50),
      rtt_p99: ratio(fm.rtt_ms.p99, o.rtt_ms.p99),
      fanout_msgs_per_s: ratio(fm.fanout_msgs_per_s, o.fanout_msgs_per_s),
      fleet_p99: ratio(fm.fleet.latency_ms.p99, o.fleet.latency_ms.p99),
    };
  }
  return report;
}
