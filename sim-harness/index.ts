// @fleetmind/sim-harness: fleet-in-the-loop simulation. The worlds are @fleetmind/worlds.
export * from './fleet/index.js';
