// @fleetmind/bench: every benchmark of the project, each a function returning its results;
// `fleetmind bench <name> --json` wraps them in one shape (report.ts). CI runs tests, not these.
export { runBench } from './report.js';
export { benchWorld } from './worlds.js';
export { benchRemoteWorld } from './remote-world.js';
export { benchBroker } from './broker/broker-bench.js';
export { benchBrokerOverload } from './broker/overload.js';
export { benchRuntime } from './runtime.js';
export { benchFleetScale } from './fleet-scale.js';
export { benchFleetShards } from './fleet-shards.js';
export type { FleetShardsOptions, FleetShardsReport } from './fleet-shards.js';
export { benchRollout } from './rollout.js';
export { benchTraining } from './training.js';
export type { TrainingBenchOptions, TrainingBenchReport, TrainingBenchCase } from './training.js';

export type { BenchReport } from './report.js';
export type { WorldBenchCase, WorldBenchOptions } from './worlds.js';
export type { RemoteBenchCase, RemoteBenchOptions, RemoteBenchReport } from './remote-world.js';
export type { BrokerBenchOptions, BrokerBenchReport } from './broker/broker-bench.js';
export type { OverloadReport, OverloadResult } from './broker/overload.js';
export type { RuntimeBenchOptions, RuntimeBenchReport } from './runtime.js';
export type { FleetScaleOptions, FleetScaleReport } from './fleet-scale.js';
export type { RolloutBenchOptions, RolloutBenchReport } from './rollout.js';
export { fuzzBroker } from './fuzz/broker-fuzz.js';
export { fuzzFleet } from './fuzz/fleet-fuzz.js';
export type { BrokerFuzzOptions, BrokerFuzzReport } from './fuzz/broker-fuzz.js';
export type { FleetFuzzOptions, FleetFuzzReport } from './fuzz/fleet-fuzz.js';
export { benchSoak, SOAK_PHASES } from './soak.js';
export type { SoakOptions, SoakReport, SoakMinute, SoakPhase } from './soak.js';
