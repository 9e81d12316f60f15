import { Option, type Command } from 'commander';
import { evaluateController, makeWorld, randomController, scriptedController } from '@fleetmind/sim-harness/worlds';
import { CliError } from '../errors.js';
import { positiveInt } from '../options.js';
import { printJson, printTable } from '../output.js';

interface EvalOptions {
  world: string;
  policy: 'random' | 'scripted';
  episodes: number;
  seed: number;
  agents?: number;
  json?: boolean;
}

function nonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value.trim())) throw new CliError(`--seed: expected a non-negative integer, got "${value}"`);
  return Number(value);
}

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('play whole episodes with a baseline policy and report returns and outcomes (episode k is seeded from (seed, k), so runs with the same seed are comparable)')
    .requiredOption('--world <id>', 'world id or alias (see `fleetmind worlds`)')
    .addOption(new Option('--policy <name>', 'baseline policy').choices(['random', 'scripted']).makeOptionMandatory())
    .option('--episodes <n>', 'episodes to play', positiveInt, 100)
    .option('--seed <s>', 'seed of the first episode', nonNegativeInt, 0)
    .option('--agents <n>', 'number of agents, for worlds that take one (simple_spread: N)', positiveInt)
    .option('--json', 'print {episodes, seed, agent_return_mean, agent_return_std, team_return_mean, episode_team_returns, outcomes}')
    .addHelpText('after', '\nExamples:\n  $ fleetmind eval --world simple_spread --policy scripted --episodes 200\n  $ fleetmind eval --world simple_tag --policy random --json')
    .action((opts: EvalOptions) => {
      if (opts.episodes > 100_000) throw new CliError(`--episodes: at most 100000, got ${opts.episodes}`);
      const config = opts.agents === undefined ? {} : { N: opts.agents };
      const world = makeWorld(opts.world, { numEnvs: opts.episodes, autoReset: false, config });
      const controller = opts.policy === 'random' ? randomController(world, opts.seed) : scriptedController(world);
      const report = evaluateController(world, controller, opts.seed);
      if (opts.json) return printJson({ world: world.id, policy: opts.policy, ...report });
      process.stdout.write(`${world.id}, ${opts.policy} policy, ${report.episodes} episodes from seed ${report.seed}\n`);
      printTable(['', 'value'], [
        ['agent return (mean ± std)', `${report.agent_return_mean.toFixed(3)} ± ${report.agent_return_std.toFixed(3)}`],
        ['team return (mean)', report.team_return_mean.toFixed(3)],
        ...Object.entries(report.role_return_mean).map(([role, v]) => [`${role} return (mean)`, v.toFixed(3)]),
        ...Object.entries(report.outcomes).map(([k, v]) => [k, v.toFixed(3)]),
      ]);
    });
}
