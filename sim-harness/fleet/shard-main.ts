// One shard of a sharded simulation (fleet-shards.ts): `fleetmind fleet --agents …` for the
// world in the parent process. It says {"ready": true} on stdout once its agents are online, and
// {"report": …} when the world's Control {command: "stop"} ends it.

import type { ShardSpec } from './fleet-shards.js';
import { runFleet } from './serve-fleet.js';

const spec = JSON.parse(process.argv[2] ?? '') as ShardSpec;
const stop = new AbortController();
process.once('SIGTERM', () => stop.abort());
const report = await runFleet({
  bundle: spec.bundle, broker: spec.broker, fleet: spec.fleet, agents: spec.agents, peers: spec.peers, agent: spec.agent, signal: stop.signal,
  ...(spec.username ? { credentials: { username: spec.username, password: process.env.FLEETMIND_PASSWORD ?? '' } } : {}),
  onReady: () => process.stdout.write(`${JSON.stringify({ ready: true })}\n`),
});
process.stdout.write(`${JSON.stringify({ report })}\n`);
