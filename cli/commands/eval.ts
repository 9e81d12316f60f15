import { Option, type Command } from 'commander';
import { constantController, evaluateController, evaluateControllerAsync, openWorld, randomController, scriptedController, type AsyncController, type Controller, type World, type EvaluationReport } from '@fleetmind/worlds';
import { loadBundle, type LoadedBundle } from '@fleetmind/models';
import { bundleController, type BundleEvalOptions } from '@fleetmind/trainer/bundle-controller';
import { CliError } from '../errors.js';
import { baselinePolicy, nameList, nonNegativeInt, positiveInt, probability, worldOption } from '../options.js';
import { printJson, printTable } from '../output.js';

interface EvalOptions {
  world?: string;
  policy?: string;
  worldOption?: Record<string, unknown>;
  shield?: 'emergency-brake';
  run?: string;
  bundle?: string;
  episodes: number;
  seed: number;
  agents?: number;
  msgDropout: number;
  agentDropout: number;
  scriptedRoles?: string[];
  continuous?: boolean;
  json?: boolean;
}

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('play whole episodes with a trained run (greedy actions) or a baseline policy and report returns and outcomes (episode k is seeded from (seed, k), so runs with the same seed are comparable)')
    .option('--run <dir>', 'a training run folder: its checkpoint\'s greedy policy on its world')
    .option('--bundle <dir>', 'a policy bundle: its ONNX graphs, in-process with ONNX Runtime (the reference `fleetmind sim` must reproduce)')
    .option('--world <id>', 'world id or alias (see `fleetmind worlds`), with --policy')
    .option('--policy <name>', 'baseline policy: random, scripted (the world\'s scripted controller), or always:K (every agent always takes action K: the traffic junction\'s always-GAS is always:0)', baselinePolicy)
    .option('--world-option <key=value>', 'with --world: a world option, repeatable (see `fleetmind worlds`), e.g. difficulty=hard', worldOption)
    .addOption(new Option('--shield <kind>', 'a safety layer in the world, over any policy: emergency-brake (traffic_junction: a car brakes rather than move onto a car or a cell another car with the right of way enters)').choices(['emergency-brake']))
    .option('--episodes <n>', 'episodes to play', positiveInt, 100)
    .option('--seed <s>', 'seed of the first episode', nonNegativeInt, 0)
    .option('--agents <n>', 'number of agents, for worlds that take one (simple_spread: N)', positiveInt)
    .option('--continuous', 'with --policy: the world\'s continuous actions (PettingZoo\'s continuous_actions; the MPE worlds): random samples the box, scripted pushes one-hot')
    .option('--msg-dropout <p>', 'with --run/--bundle: lose each message on each link in each round with this probability (robustness of a CommNet)', probability, 0)
    .option('--agent-dropout <p>', 'with --run/--bundle: each agent is silent for the whole episode with this probability', probability, 0)
    .option('--scripted-roles <roles>', 'with --bundle: these roles (comma-separated, e.g. agent) play the world\'s scripted controller, the others the bundle: does each trained side beat the scripted side?', nameList)
    .option('--json', 'print {episodes, seed, agent_return_mean, agent_return_std, team_return_mean, episode_team_returns, outcomes}')
    .addHelpText('after', '\nExamples:\n  $ fleetmind eval --run runs/simple_spread_v3-mappo-s1 --episodes 200\n  $ fleetmind eval --run runs/commnet --msg-dropout 0.3 --json\n  $ fleetmind eval --bundle models/zoo/spread-commnet --episodes 200\n  $ fleetmind eval --bundle models/zoo/tag-mlp --scripted-roles agent --episodes 1000\n  $ fleetmind eval --world simple_spread --policy scripted --episodes 200\n  $ fleetmind eval --world simple_tag --policy random --json\n  $ fleetmind eval --world simple_spread --continuous --policy random --episodes 1000\n  $ fleetmind eval --world traffic_junction --world-option difficulty=medium --policy always:0 --shield emergency-brake --episodes 1000')
    .action(async (opts: EvalOptions) => {
      if (opts.episodes > 100_000) throw new CliError(`--episodes: at most 100000, got ${opts.episodes}`);
      if ([opts.run, opts.bundle, opts.policy].filter(Boolean).length !== 1) throw new CliError('give one of --run DIR, --bundle DIR, or --world W with --policy random|scripted|always:K');
      if (opts.scriptedRoles && !opts.bundle) throw new CliError('--scripted-roles applies to a bundle (--bundle DIR)');
      if (opts.continuous && !opts.policy) throw new CliError('--continuous applies to a baseline (--world W --policy random|scripted): a run or a bundle plays the actions it was trained with');
      if (opts.bundle) {
        if (opts.world || opts.agents) throw new CliError('--bundle evaluates on the world it was exported for: drop --world/--agents');
        if (opts.worldOption) throw new CliError('--bundle evaluates on the world it was exported for: drop --world-option (--shield adds a shield to it)');
        const bundle = await loadBundle(opts.bundle);
        try {
          const { manifest } = bundle;
          // a bundle trained against a remote world is evaluated against it, where it was served
          const world = openWorld(manifest.world.remote ?? manifest.world.id, { numEnvs: opts.episodes, autoReset: false, config: withShield(manifest.world.config, opts.shield) });
          const comm = { msgDropout: opts.msgDropout, agentDropout: opts.agentDropout, seed: opts.seed };
          const controller = opts.scriptedRoles ? againstScripted(world, bundle, opts.scriptedRoles, comm) : bundleController(world, bundle, comm);
          const report = await evaluateControllerAsync(world, controller, opts.seed);
          let policy = `bundle ${manifest.name} ${manifest.version}${comm.msgDropout > 0 || comm.agentDropout > 0 ? `, ${comm.msgDropout * 100}% messages lost, ${comm.agentDropout * 100}% agents silent` : ''}`;
          if (opts.scriptedRoles) policy += ` against scripted ${opts.scriptedRoles.join(', ')}`;
          if (opts.shield) policy += `, ${opts.shield} shield`;
          printReport(world.id, policy, report, opts.json);
        } finally {
          await bundle.close();
        }
        return;
      }
      if (opts.run && (opts.world || opts.agents || opts.worldOption)) throw new CliError('--run evaluates on the world it was trained on: drop --world/--agents/--world-option (--shield adds a shield to it)');
      let controller: (world: ReturnType<typeof openWorld>) => Controller;
      let worldId: string;
      let config: Record<string, unknown> = { ...opts.worldOption, ...(opts.agents === undefined ? {} : { N: opts.agents }), ...(opts.continuous ? { continuousActions: true } : {}) };
      let policyName: string;
      if (opts.run) {
        const { greedyPolicy, RunFolder, useBackend } = await import('@fleetmind/trainer'); // TensorFlow.js only for runs
        await useBackend('auto');
        const checkpoint = RunFolder.open(opts.run).loadCheckpoint();
        worldId = checkpoint.config.world;
        config = checkpoint.config.worldConfig;
        policyName = `trained (${checkpoint.config.algo}, ${checkpoint.envSteps.toLocaleString('en-US')} steps)`;
        const comm = { msgDropout: opts.msgDropout, agentDropout: opts.agentDropout, seed: opts.seed };
        if (comm.msgDropout > 0 || comm.agentDropout > 0) policyName += `, ${comm.msgDropout * 100}% messages lost, ${comm.agentDropout * 100}% agents silent`;
        controller = (world) => greedyPolicy(checkpoint, world, comm);
      } else {
        if (!opts.world) throw new CliError('--policy needs --world');
        if (opts.msgDropout > 0 || opts.agentDropout > 0) throw new CliError('--msg-dropout and --agent-dropout apply to a trained run (--run DIR)');
        worldId = opts.world;
        policyName = opts.policy! + (opts.continuous ? ' (continuous actions)' : '');
        const policy = opts.policy!;
        controller = (world) => (policy === 'random' ? randomController(world, opts.seed)
          : policy === 'scripted' ? scriptedController(world) : constantController(world, Number(policy.slice('always:'.length))));
      }
      if (opts.shield) policyName += `, ${opts.shield} shield`;
      const world = openWorld(worldId, { numEnvs: opts.episodes, autoReset: false, config: withShield(config, opts.shield) });
      const report = evaluateController(world, controller(world), opts.seed);
      printReport(world.id, policyName, report, opts.json);
    });
}

/** The world's options with a shield added (the world refuses it if it has none). */
function withShield(config: Record<string, unknown> | undefined, shield: string | undefined): Record<string, unknown> | undefined {
  return shield ? { ...config, shield } : config;
}

/** The world's scripted controller plays `scriptedRoles`; the bundle plays its other roles. */
function againstScripted(world: World, bundle: LoadedBundle, scriptedRoles: string[], comm: BundleEvalOptions): AsyncController {
  const bundleRoles = bundle.manifest.roles.map((role) => role.name);
  const unknown = scriptedRoles.filter((role) => !bundleRoles.includes(role));
  if (unknown.length > 0) throw new CliError(`--scripted-roles: no role ${unknown.join(', ')} in the bundle (roles: ${bundleRoles.join(', ')})`);
  const trainedRoles = bundleRoles.filter((role) => !scriptedRoles.includes(role));
  if (trainedRoles.length === 0) throw new CliError('--scripted-roles: that is every role; use --world W --policy scripted for scripted against scripted');
  const scripted = scriptedController(world);
  const trained = bundleController(world, bundle, { ...comm, roles: trainedRoles });
  return {
    async act(observations, actions) {
      scripted.act(observations, actions);
      await trained.act(observations, actions);
    },
  };
}

function printReport(worldId: string, policy: string, report: EvaluationReport, json?: boolean): void {
  if (json) return printJson({ world: worldId, policy, ...report });
  process.stdout.write(`${worldId}, ${policy} policy, ${report.episodes} episodes from seed ${report.seed}\n`);
  printTable(['', 'value'], [
    ['agent return (mean ± std)', `${report.agent_return_mean.toFixed(3)} ± ${report.agent_return_std.toFixed(3)}`],
    ['team return (mean)', report.team_return_mean.toFixed(3)],
    ...Object.entries(report.role_return_mean).map(([role, v]) => [`${role} return (mean)`, v.toFixed(3)]),
    ...Object.entries(report.outcomes).map(([k, v]) => [k, v.toFixed(3)]),
  ]);
}
