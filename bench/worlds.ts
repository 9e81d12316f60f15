// env-steps/s of simple_spread_v3 (N=3) with E=1 and E=256, random actions, resets included.
// Same as `fleetmind bench worlds --json`. Run: npm run bench:worlds
import { benchWorld } from '@fleetmind/sim-harness/worlds';

process.stdout.write(`${JSON.stringify(benchWorld({ envCounts: [1, 256], runs: 5, seconds: 1 }), null, 2)}\n`);
