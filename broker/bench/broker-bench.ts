// `fleetmind bench broker`: the fleetmind broker (auth + ACLs on), bare aedes and Mosquitto,
// measured one after the other by the same client code, and their ratios.

import { measureFanOut, measureFleet, measureRoundTrip, type FanOut, type Fleet, type RoundTrip } from './measure.js';
import { mosquittoAvailable, startTarget, type TargetKind } from './targets.js';

export interface BrokerBenchOptions {
  targets?: TargetKind[];
  rttSamples?: number;
  fanOutSubscribers?: number;
  fanOutMessages?: number;
  fleetAgents?: number;
  fleetHz?: number;
  fleetSeconds?: number;
  onProgress?: (line: string) => void;
}

export interface BrokerBenchTarget {
  rtt_ms: RoundTrip;
  fanout: FanOut;
  fleet: Fleet;
}

export interface BrokerBenchReport {
  targets: Partial<Record<TargetKind, BrokerBenchTarget>>;
  /** fleetmind ÷ other: > 1 means fleetmind is slower for times, faster for rates */
  ratios: Record<string, { rtt_p50: number; rtt_p99: number; fanout_msgs_per_s: number; fleet_p99: number }>;
  skipped: string[];
}

export async function benchBroker(options: BrokerBenchOptions = {}): Promise<BrokerBenchReport> {
  const say = options.onProgress ?? (() => {});
  const skipped: string[] = [];
  let kinds = options.targets ?? ['fleetmind', 'aedes', 'mosquitto'];
  if (kinds.includes('mosquitto') && !(await mosquittoAvailable())) {
    skipped.push('mosquitto: not running on 127.0.0.1:1883');
    kinds = kinds.filter((k) => k !== 'mosquitto');
  }
  const agents = Math.max(options.fleetAgents ?? 500, (options.fanOutSubscribers ?? 50) + 1);
  const report: BrokerBenchReport = { targets: {}, ratios: {}, skipped };
  for (const kind of kinds) {
    say(`${kind}: starting`);
    const target = await startTarget(kind, agents);
    try {
      say(`${kind}: round trip`);
      const rtt = await measureRoundTrip(target, options.rttSamples);
      say(`${kind}: fan-out`);
      const fanout = await measureFanOut(target, options.fanOutSubscribers, options.fanOutMessages);
      say(`${kind}: fleet of ${options.fleetAgents ?? 500}`);
      const fleet = await measureFleet(target, options.fleetAgents, options.fleetHz, options.fleetSeconds);
      report.targets[kind] = { rtt_ms: rtt, fanout, fleet };
    } finally {
      await target.stop();
    }
  }
  const fm = report.targets.fleetmind;
  for (const other of ['aedes', 'mosquitto'] as const) {
    const o = report.targets[other];
    if (!fm || !o) continue;
    report.ratios[`fleetmind_vs_${other}`] = {
      rtt_p50: Number((fm.rtt_ms.p50 / o.rtt_ms.p50).toFixed(3)),
      rtt_p99: Number((fm.rtt_ms.p99 / o.rtt_ms.p99).toFixed(3)),
      fanout_msgs_per_s: Number((fm.fanout.msgs_per_s / o.fanout.msgs_per_s).toFixed(3)),
      fleet_p99: Number((fm.fleet.latency_ms.p99 / o.fleet.latency_ms.p99).toFixed(3)),
    };
  }
  return report;
}
