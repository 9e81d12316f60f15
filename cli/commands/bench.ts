import type { Command } from 'commander';
import { benchWorld } from '@fleetmind/sim-harness/worlds';
import { positiveInt, positiveIntList, positiveNumber } from '../options.js';
import { printJson, printTable } from '../output.js';

export function registerBench(program: Command): void {
  const bench = program
    .command('bench')
    .description('measure throughput and latency (prints JSON with --json)')
    .addHelpText('after', '\nExample:\n  $ fleetmind bench worlds --json');
  bench
    .command('worlds')
    .description('env-steps/s of simple_spread_v3 under random actions, resets included, for each batch size; median of several runs')
    .option('--agents <n>', 'agents (and landmarks)', positiveInt, 3)
    .option('--envs <list>', 'comma-separated batch sizes E', positiveIntList, [1, 256])
    .option('--seconds <s>', 'seconds per run', positiveNumber, 1)
    .option('--runs <n>', 'timed runs per case (after one warm-up run)', positiveInt, 5)
    .option('--json', 'print a JSON array of {world, agents, envs, env_steps_per_s, runs}')
    .addHelpText('after', '\nExample:\n  $ fleetmind bench worlds --json\n  $ fleetmind bench worlds --envs 1,64,256,1024 --runs 3')
    .action((opts: { agents: number; envs: number[]; seconds: number; runs: number; json?: boolean }) => {
      const cases = benchWorld({ agents: opts.agents, envCounts: opts.envs, seconds: opts.seconds, runs: opts.runs });
      if (opts.json) return printJson(cases);
      printTable(
        ['world', 'agents', 'envs', 'env-steps/s (median)'],
        cases.map((c) => [c.world, c.agents, c.envs, c.env_steps_per_s.toLocaleString('en-US')]),
      );
    });
}
