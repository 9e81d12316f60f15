// The one JSON shape every benchmark prints: which bench, on what machine, when, and its
// results. Quote medians and ratios measured side by side in one run: the machine is shared.

import { cpus, platform, arch } from 'node:os';

export interface BenchReport<T> {
  bench: 'worlds' | 'remote' | 'broker' | 'overload' | 'runtime' | 'fleet' | 'fuzz-broker' | 'fuzz-fleet' | 'soak' | 'rollout' | 'fleet-shards' | 'training';
  /** ISO time the bench started */
  started: string;
  /** node_flags: the options node was started with (process.execArgv), e.g. the fleetmind executable's young-generation size */
  machine: { cpus: number; cpu_model: string; platform: string; arch: string; node: string; node_flags: string[] };
  results: T;
}

export async function runBench<T>(bench: BenchReport<T>['bench'], measure: () => T | Promise<T>): Promise<BenchReport<T>> {
  const started = new Date().toISOString();
  const results = await measure();
  const cpu = cpus();
  return {
    bench, started,
    machine: { cpus: cpu.length, cpu_model: cpu[0]?.model ?? 'unknown', platform: platform(), arch: arch(), node: process.version, node_flags: process.execArgv },
    results,
  };
}
