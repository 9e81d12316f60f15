import { Option, type Command } from 'commander';
import {
  constantController, evaluateController, evaluateControllerAsync, jointSuccessOf, marlEvalLayout, openWorld, randomController, roleMixController, scriptedController, summarizeRuns,
  JUNCTION_SHIELDS, type AsyncController, type Controller, type EvaluationReport, type JunctionShield, type RunEvaluation, type World,
} from '@fleetmind/worlds';
import type { LoadedBundle } from '@fleetmind/models';
import type { BundleEvalOptions } from '@fleetmind/trainer/bundle-controller';
import { CliError } from '../errors.js';
import { baselinePolicy, nameList, nonNegativeInt, positiveInt, probability, worldOption } from '../options.js';
import { printJson, printSummaries, printTable } from '../output.js';
import { addToMarlEvalFile, checkMarlEvalFile, marlEvalTask, type MarlEvalSlot } from '../marl-eval-file.js';

interface EvalOptions {
  world?: string;
  policy?: string;
  worldOption?: Record<string, unknown>;
  shield?: JunctionShield;
  run?: string[];
  runs?: number;
  marlEval?: string;
  algorithm?: string;
  bundle?: string[];
  episodes: number;
  seed: number;
  agents?: number;
  msgDropout: number;
  agentDropout: number;
  scriptedRoles?: string[];
  opponent?: string;
  continuous?: boolean;
  json?: boolean;
}

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('play whole episodes with a trained run (greedy actions) or a baseline policy and report returns and outcomes (episode k is seeded from (seed, k), so runs with the same seed are comparable)')
    .option('--run <dir>', 'a training run folder: its checkpoint\'s greedy policy on its world; repeat it for runs of other seeds: each metric is then summarised over runs (interquartile mean, 95 % bootstrap interval)', (dir: string, previous: string[] = []) => [...previous, dir])
    .option('--runs <k>', 'with --policy: play the baseline k times (a random policy with seeds seed … seed+k−1) on the same episodes, summarised as runs are', positiveInt)
    .option('--marl-eval <file>', 'also write every run\'s per-episode metrics in marl-eval\'s JSON layout (added to the file if it exists: one algorithm per call)')
    .option('--algorithm <name>', 'the algorithm\'s name in --marl-eval data (default: e.g. mappo-commnet, random, always-0)')
    .option('--bundle <dir>', 'a policy bundle: its ONNX graphs, in-process with ONNX Runtime (the reference `fleetmind sim` must reproduce); repeat it for bundles of other seeds: each metric is then summarised over them, as runs are', (dir: string, previous: string[] = []) => [...previous, dir])
    .option('--world <id>', 'world id or alias (see `fleetmind worlds`), with --policy')
    .option('--policy <name>', 'baseline policy: random, scripted (the world\'s scripted controller), or always:K (every agent always takes action K: the traffic junction\'s always-GAS is always:0)', baselinePolicy)
    .option('--world-option <key=value>', 'with --world: a world option, repeatable (see `fleetmind worlds`), e.g. difficulty=hard; with --run or --bundle: play its world with these options in place of those it was trained with (e.g. trained on denser traffic, evaluated on the usual; more sensor loss), as long as its observations and actions stay the same', worldOption)
    .addOption(new Option('--shield <kind>', 'a safety layer in the world, over any policy (traffic_junction): emergency-brake (a car brakes rather than move onto a car or a cell another car with the right of way enters); keep-clear (that, and no car waits on an arrival cell, where new cars are placed, or holds up the queue on one, when it can drive on)').choices([...JUNCTION_SHIELDS]))
    .option('--episodes <n>', 'episodes to play', positiveInt, 100)
    .option('--seed <s>', 'seed of the first episode', nonNegativeInt, 0)
    .option('--agents <n>', 'number of agents, for worlds that take one (simple_spread: N)', positiveInt)
    .option('--continuous', 'with --policy: the world\'s continuous actions (PettingZoo\'s continuous_actions; the MPE worlds): random samples the box, scripted pushes one-hot')
    .option('--msg-dropout <p>', 'with --run/--bundle: lose each message on each link in each round with this probability (robustness of a CommNet)', probability, 0)
    .option('--agent-dropout <p>', 'with --run/--bundle: each agent is silent for the whole episode with this probability', probability, 0)
    .option('--opponent <dir>', 'with --bundle and --scripted-roles: another bundle (e.g. an earlier snapshot) plays those roles instead of the scripted controller')
    .option('--scripted-roles <roles>', 'with --bundle (or --policy random|always:K): these roles (comma-separated, e.g. agent) play the world\'s scripted controller, the others the bundle (or the baseline): does each trained side beat the scripted side, and by how much more than a random one?', nameList)
    .option('--json', 'print {episodes, seed, agent_return_mean, agent_return_std, team_return_mean, episode_team_returns, outcomes}')
    .addHelpText('after', '\nExamples:\n  $ fleetmind eval --run runs/simple_spread_v3-mappo-s1 --episodes 200\n  $ fleetmind eval --run runs/commnet --msg-dropout 0.3 --json\n  $ fleetmind eval --run runs/tj-s1 --run runs/tj-s2 --run runs/tj-s3 --run runs/tj-s4 --run runs/tj-s5 --episodes 1000 --marl-eval results.json\n  $ fleetmind eval --world traffic_junction --world-option difficulty=easy --policy random --runs 5 --episodes 1000 --marl-eval results.json\n  $ fleetmind eval --bundle models/zoo/spread-commnet --episodes 200\n  $ fleetmind eval --bundle models/zoo/tag-mlp --scripted-roles agent --episodes 1000\n  $ fleetmind eval --bundle bundles/pong-s1 --bundle bundles/pong-s2 --bundle bundles/pong-s3 --scripted-roles right --episodes 1000 --marl-eval pong.json\n  $ fleetmind eval --world pong --policy random --runs 5 --scripted-roles right --episodes 1000\n  $ fleetmind eval --world simple_spread --policy scripted --episodes 200\n  $ fleetmind eval --world simple_tag --policy random --json\n  $ fleetmind eval --world simple_spread --continuous --policy random --episodes 1000\n  $ fleetmind eval --world traffic_junction --world-option difficulty=medium --policy always:0 --shield emergency-brake --episodes 1000')
    .action(async (opts: EvalOptions) => {
      if (opts.episodes > 100_000) throw new CliError(`--episodes: at most 100000, got ${opts.episodes}`);
      if ([opts.run, opts.bundle, opts.policy].filter(Boolean).length !== 1) throw new CliError('give one of --run DIR (repeatable), --bundle DIR (repeatable), or --world W with --policy random|scripted|always:K');
      if (opts.scriptedRoles && !opts.bundle && !opts.policy) throw new CliError('--scripted-roles applies to a bundle (--bundle DIR) or a baseline (--world W --policy random|always:K)');
      if (opts.scriptedRoles && opts.policy === 'scripted') throw new CliError('--scripted-roles: with --policy scripted every role already plays the scripted controller');
      if (opts.scriptedRoles && opts.continuous) throw new CliError('--scripted-roles with --policy plays discrete actions; drop --continuous');
      if (opts.opponent && !opts.scriptedRoles) throw new CliError('--opponent plays the roles named by --scripted-roles (e.g. --scripted-roles right)');
      if (opts.opponent && !opts.bundle) throw new CliError('--opponent plays against a bundle (--bundle DIR); a baseline plays against the scripted controller');
      if (opts.continuous && !opts.policy) throw new CliError('--continuous applies to a baseline (--world W --policy random|scripted): a run or a bundle plays the actions it was trained with');
      if (opts.runs !== undefined && !opts.policy) throw new CliError('--runs repeats a baseline (--policy) with other random seeds; trained runs are given as --run DIR, once per seed');
      const perEpisode = Boolean(opts.marlEval) || (opts.run?.length ?? 0) > 1 || (opts.bundle?.length ?? 0) > 1 || (opts.runs ?? 1) > 1;
      const jobs = opts.bundle ? opts.bundle.map((dir) => () => evaluateBundle(opts, dir, perEpisode))
        : opts.run ? opts.run.map((dir) => () => evaluateRun(opts, dir, perEpisode))
          : Array.from({ length: opts.runs ?? 1 }, (_, k) => () => Promise.resolve(evaluateBaseline(opts, k, perEpisode)));
      if (opts.marlEval) checkMarlEvalFile(opts.marlEval);
      const evaluated: Evaluated[] = [];
      for (const [k, job] of jobs.entries()) {
        if (jobs.length > 1 && !opts.json) process.stderr.write(`run ${k + 1}/${jobs.length}…\n`);
        evaluated.push(await job());
        // the first run names the task and the algorithm: a clash is refused before the other runs are played
        if (k === 0 && opts.marlEval) checkMarlEvalFile(opts.marlEval, marlEvalSlot(evaluated[0]));
      }
      if (!perEpisode) return printReport(evaluated[0].worldId, evaluated[0].policy, evaluated[0].report, opts.json);
      printSummary(evaluated, opts);
    });
}

interface Evaluated {
  worldId: string;
  /** the world's options, which name the task (difficulty=medium, …) */
  config: Record<string, unknown>;
  policy: string;
  /** marl-eval's algorithm name */
  algorithm: string;
  stepCount: number;
  /** the world's number of agents (joint success may count them) */
  agents: number;
  report: EvaluationReport;
}

async function evaluateBundle(opts: EvalOptions, dir: string, perEpisode: boolean): Promise<Evaluated> {
  if (opts.world || opts.agents) throw new CliError('--bundle evaluates on the world it was exported for: drop --world/--agents');
  // ONNX Runtime loads only for a bundle: `--help`, baselines and refused arguments stay quick
  const [{ loadBundle }, { bundleController }] = await Promise.all([import('@fleetmind/models'), import('@fleetmind/trainer/bundle-controller')]);
  const bundle = await loadBundle(dir);
  try {
    const { manifest } = bundle;
    if (opts.worldOption && manifest.world.remote) throw new CliError(`--bundle ${dir} plays a remote world (${manifest.world.remote}), served with its own options: drop --world-option`);
    const config = withShield(opts.worldOption ?? manifest.world.config, opts.shield) ?? {};
    // a bundle trained against a remote world is evaluated against it, where it was served
    const world = openWorld(manifest.world.remote ?? manifest.world.id, { numEnvs: opts.episodes, autoReset: false, config });
    const comm = { msgDropout: opts.msgDropout, agentDropout: opts.agentDropout, seed: opts.seed };
    const opponent = opts.opponent ? await loadBundle(opts.opponent) : null;
    if (opponent && opponent.manifest.world.id !== manifest.world.id) throw new CliError(`--opponent ${opts.opponent} plays ${opponent.manifest.world.id}, the bundle ${manifest.world.id}`);
    let controller: AsyncController;
    try {
      controller = opts.scriptedRoles ? against(world, bundle, opts.scriptedRoles, comm, opponent, bundleController) : bundleController(world, bundle, comm);
    } catch (err) {
      if (!opts.worldOption) throw err;
      throw new CliError(`--bundle ${dir} --world-option ${marlEvalTask(opts.worldOption)}: the bundle cannot play ${world.id} with these options: ${(err as Error).message}`);
    }
    const report = await evaluateControllerAsync(world, controller, opts.seed, { perEpisode });
    let policy = `bundle ${manifest.name} ${manifest.version}${comm.msgDropout > 0 || comm.agentDropout > 0 ? `, ${comm.msgDropout * 100}% messages lost, ${comm.agentDropout * 100}% agents silent` : ''}`;
    if (opts.scriptedRoles) policy += ` against ${opponent ? `${opponent.manifest.name} ${opponent.manifest.version} (${opts.opponent})` : 'scripted'} ${opts.scriptedRoles.join(', ')}`;
    if (opts.shield) policy += `, ${opts.shield} shield`;
    if (opts.worldOption) policy += `, exported for ${marlEvalTask(manifest.world.config ?? {})}`;
    await opponent?.close();
    return { worldId: world.id, config, policy, algorithm: opts.algorithm ?? manifest.name, stepCount: 0, agents: world.possibleAgents.length, report };
  } finally {
    await bundle.close();
  }
}

async function evaluateRun(opts: EvalOptions, dir: string, perEpisode: boolean): Promise<Evaluated> {
  if (opts.world || opts.agents) throw new CliError('--run evaluates on the world it was trained on: drop --world/--agents (--world-option replaces its options, --shield adds a shield to it)');
  const { greedyPolicy, RunFolder, useBackend } = await import('@fleetmind/trainer'); // TensorFlow.js only for runs
  await useBackend('auto');
  const checkpoint = RunFolder.open(dir).loadCheckpoint();
  const { config: trained } = checkpoint;
  let policy = `trained (${trained.algo}, ${checkpoint.envSteps.toLocaleString('en-US')} steps)`;
  const comm = { msgDropout: opts.msgDropout, agentDropout: opts.agentDropout, seed: opts.seed };
  if (comm.msgDropout > 0 || comm.agentDropout > 0) policy += `, ${comm.msgDropout * 100}% messages lost, ${comm.agentDropout * 100}% agents silent`;
  if (opts.shield) policy += `, ${opts.shield} shield`;
  if (opts.worldOption) policy += `, trained on ${marlEvalTask(trained.worldConfig ?? {})}`;
  const config = withShield(opts.worldOption ?? trained.worldConfig, opts.shield) ?? {};
  const world = openWorld(trained.world, { numEnvs: opts.episodes, autoReset: false, config });
  let controller: Controller;
  try {
    controller = greedyPolicy(checkpoint, world, comm);
  } catch (err) {
    if (!opts.worldOption) throw err;
    throw new CliError(`--run ${dir} --world-option ${marlEvalTask(opts.worldOption)}: the policy cannot play ${world.id} with these options: ${(err as Error).message}`);
  }
  const report = evaluateController(world, controller, opts.seed, { perEpisode });
  const actor = 'actor' in trained ? `-${String(trained.actor)}` : '';
  return { worldId: world.id, config, policy, algorithm: opts.algorithm ?? `${trained.algo}${actor}`, stepCount: checkpoint.envSteps, agents: world.possibleAgents.length, report };
}

/** Baseline run k: the same evaluation episodes as every other run; a random policy draws from its own seed k. */
function evaluateBaseline(opts: EvalOptions, k: number, perEpisode: boolean): Evaluated {
  if (!opts.world) throw new CliError('--policy needs --world');
  if (opts.msgDropout > 0 || opts.agentDropout > 0) throw new CliError('--msg-dropout and --agent-dropout apply to a trained run (--run DIR)');
  const policy = opts.policy!;
  const config = withShield({ ...opts.worldOption, ...(opts.agents === undefined ? {} : { N: opts.agents }), ...(opts.continuous ? { continuousActions: true } : {}) }, opts.shield) ?? {};
  const world = openWorld(opts.world, { numEnvs: opts.episodes, autoReset: false, config });
  const baseline: Controller = policy === 'random' ? randomController(world, opts.seed + k)
    : policy === 'scripted' ? scriptedController(world) : constantController(world, Number(policy.slice('always:'.length)));
  const controller = opts.scriptedRoles ? againstScripted(world, baseline, opts.scriptedRoles) : baseline;
  const report = evaluateController(world, controller, opts.seed, { perEpisode });
  const name = policy + (opts.continuous ? ' (continuous actions)' : '') + (opts.scriptedRoles ? ` against scripted ${opts.scriptedRoles.join(', ')}` : '') + (opts.shield ? `, ${opts.shield} shield` : '');
  return { worldId: world.id, config, policy: name, algorithm: opts.algorithm ?? policy.replace(':', '-'), stepCount: 0, agents: world.possibleAgents.length, report };
}

/** Every run's per-episode metrics: the team return, the world's joint success where it has one, and each outcome's episode total. */
function runMetrics(e: Evaluated): RunEvaluation {
  const outcomes = e.report.episode_outcomes!;
  const metrics: Record<string, number[]> = { return: e.report.episode_team_returns };
  const joint = jointSuccessOf(e.worldId);
  if (joint) {
    metrics.success = e.report.episode_team_returns.map((_, k) => {
      const final = Object.fromEntries(Object.keys(outcomes).filter((key) => !key.endsWith('_final')).map((key) => [key, outcomes[`${key}_final`][k]]));
      const total = Object.fromEntries(Object.keys(outcomes).filter((key) => !key.endsWith('_final')).map((key) => [key, outcomes[key][k]]));
      return joint.reached({ final, total }, e.agents) ? 1 : 0;
    });
  }
  // an outcome named like the joint success (traffic_junction's per-step success flag) keeps its sum apart
  for (const [key, values] of Object.entries(outcomes)) if (!key.endsWith('_final')) metrics[key in metrics ? `${key}_sum` : key] = values;
  return { stepCount: e.stepCount, metrics };
}

/** Several runs (seeds): each metric's IQM over runs with its 95 % bootstrap interval; the raw data in marl-eval's layout. */
function printSummary(evaluated: Evaluated[], opts: EvalOptions): void {
  const [first] = evaluated;
  const task = taskName(first);
  for (const e of evaluated) {
    if (e.worldId !== first.worldId || taskName(e) !== task) throw new CliError(`--run: every run must be on one world and task to be summarised together; ${first.worldId} ${task} and ${e.worldId} ${taskName(e)} differ`);
  }
  const runs = evaluated.map(runMetrics);
  const summaries = Object.keys(runs[0].metrics).map((metric) => summarizeRuns(runs, metric, opts.seed));
  if (opts.json) {
    printJson({ world: first.worldId, task, algorithm: first.algorithm, policy: first.policy, runs: runs.length, episodes: opts.episodes, seed: opts.seed, summaries });
  } else {
    process.stdout.write(`${first.worldId} ${task}, ${first.policy}: ${runs.length} runs × ${opts.episodes} episodes from seed ${opts.seed}; interquartile mean over runs, 95 % bootstrap interval\n`);
    printSummaries(summaries, 'run means');
  }
  // written after the summary is out: should the file refuse it now, the figures are not lost with it
  if (!opts.marlEval) return;
  addToMarlEvalFile(opts.marlEval, marlEvalLayout(first.worldId, task, first.algorithm, runs));
  if (!opts.json) process.stdout.write(`raw data (marl-eval layout): ${opts.marlEval} (${first.worldId} / ${task} / ${first.algorithm})\n`);
}

const taskName = (e: Evaluated): string => marlEvalTask(e.config);
const marlEvalSlot = (e: Evaluated): MarlEvalSlot => ({ env: e.worldId, task: taskName(e), algorithm: e.algorithm });

/** The world's options with a shield added (the world refuses it if it has none). */
function withShield(config: Record<string, unknown> | undefined, shield: string | undefined): Record<string, unknown> | undefined {
  return shield ? { ...config, shield } : config;
}

/** The world's scripted controller (or another bundle: an earlier snapshot) plays `otherRoles`; the bundle plays its other roles. */
function against(world: World, bundle: LoadedBundle, otherRoles: string[], comm: BundleEvalOptions, opponent: LoadedBundle | null, bundleController: BundleControllerFactory): AsyncController {
  const trainedRoles = rolesLeftTo(bundle.manifest.roles.map((role) => role.name), otherRoles, 'the bundle');
  const other: AsyncController = opponent ? bundleController(world, opponent, { ...comm, roles: otherRoles }) : asAsync(scriptedController(world));
  const trained = bundleController(world, bundle, { ...comm, roles: trainedRoles });
  return {
    async act(observations, actions) {
      await other.act(observations, actions);
      await trained.act(observations, actions);
    },
  };
}

/** The world's scripted controller plays `scriptedRoles`; the baseline (random, always:K) the others: the floor a trained side is measured against. */
function againstScripted(world: World, baseline: Controller, scriptedRoles: string[]): Controller {
  rolesLeftTo([...new Set(world.roles)], scriptedRoles, world.id);
  const scripted = scriptedController(world);
  return roleMixController(world.roles, Object.fromEntries(world.roles.map((role) => [role, scriptedRoles.includes(role) ? scripted : baseline])));
}

/** The roles not named by --scripted-roles; refused when one is unknown or none is left. */
function rolesLeftTo(roles: string[], scriptedRoles: string[], where: string): string[] {
  const unknown = scriptedRoles.filter((role) => !roles.includes(role));
  if (unknown.length > 0) throw new CliError(`--scripted-roles: no role ${unknown.join(', ')} in ${where} (roles: ${roles.join(', ')})`);
  const left = roles.filter((role) => !scriptedRoles.includes(role));
  if (left.length === 0) throw new CliError('--scripted-roles: that is every role; use --world W --policy scripted for scripted against scripted');
  return left;
}

type BundleControllerFactory = typeof import('@fleetmind/trainer/bundle-controller').bundleController;

function asAsync(controller: Controller): AsyncController {
  return { act: async (observations, actions) => controller.act(observations, actions) };
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
