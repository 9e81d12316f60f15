// `fleetmind train`: flags → settings; the trainer resolves and validates the configuration
// (trainer/algos/training-config.ts) and this command runs it with a run folder and progress.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { evaluateController, hasScriptedController, isRemoteWorld, openWorld, SimulatorLostError, type World, randomController, resolveWorldId, scriptedController, worldModuleOf } from '@fleetmind/worlds';
import {
  ALGOS, algosTaking, checkConfigFitsWorld, defaultConfigFor, defaultMappoConfig, defaultQLearningConfig, defaultTabularIqlConfig, resolveTrainingConfig,
  TrainingConfigError, TRAINING_PRESETS, withBudget, type Algo, type TrainingConfig,
} from '@fleetmind/trainer/config';
import type { BackendChoice, RunFolder, TrainingCheckpoint, TrainingMetrics } from '@fleetmind/trainer';
import { CliError, EXIT_FAILED } from '../errors.js';
import { nonNegativeInt, nonNegativeNumber, positiveInt, positiveNumber, probability, worldOption } from '../options.js';
import { printTable, progressLine } from '../output.js';

/** Each training flag and the configuration setting it sets: the trainer validates the settings. */
const FLAG_OF: Record<string, string> = {
  actor: '--actor', gate: '--gate', messageCost: '--message-cost', commRounds: '--comm-rounds', msgDropout: '--msg-dropout', commRadius: '--comm-radius', agentDropout: '--agent-dropout',
  selfPlay: '--self-play', scriptedOpponent: '--scripted-opponent', sharedActor: '--shared-actor', trainEvery: '--train-every', agentId: '--no-agent-id', criticInput: '--critic-input',
  totalSteps: '--steps', episodes: '--episodes', maxEpisodes: '--episodes', numEnvs: '--envs', seed: '--seed', worldConfig: '--agents/--neighbours/--continuous/--world-option',
};

interface TrainOptions {
  world?: string;
  algo: Algo;
  actor?: 'mlp' | 'commnet' | 'tarmac' | 'gru' | 'commnet-gru' | 'tarmac-gru';
  gate?: boolean;
  messageCost?: number;
  commRounds?: number;
  msgDropout?: number;
  commRadius?: number;
  agentDropout?: number;
  selfPlay?: boolean;
  scriptedOpponent?: number;
  sharedActor?: boolean;
  trainEvery?: number;
  agents?: number;
  continuous?: boolean;
  neighbours?: number;
  worldOption?: Record<string, unknown>;
  agentId: boolean;
  criticInput?: 'state' | 'pooled';
  set?: Record<string, unknown>;
  showConfig?: boolean;
  steps?: number;
  episodes?: number;
  envs?: number;
  seed: number;
  out?: string;
  resume?: boolean;
  backend: BackendChoice;
  preset?: string;
  workers?: number;
}

/** settings --set may not give: each has its own flag, which says more */
const SET_REFUSED: Record<string, string> = { algo: '--algo', world: '--world', worldConfig: '--world-option', worldModule: '--world', seed: '--seed' };

/**
 * The settings the flags give, over the preset's (a flag or --set given beside a preset wins);
 * the trainer merges its defaults and refuses what does not fit.
 */
function settingsFrom(opts: TrainOptions, world: string): { algo: Algo } & Record<string, unknown> {
  const flags = flagSettingsFrom(opts, world);
  const set = opts.set ?? {};
  for (const key of Object.keys(set)) {
    if (key in SET_REFUSED) throw new CliError(`--set ${key}: give it with ${SET_REFUSED[key]}`);
    if (flags[key] !== undefined) throw new CliError(`--set ${key} and ${FLAG_OF[key] ?? key} both give ${key}: keep one`);
  }
  const given = Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined)) as typeof flags;
  const settings = { ...presetSettings(opts), ...given, ...set };
  // --workers K splits each minibatch's gradient in K parts unless the run says how many
  if ((opts.workers ?? 1) > 1 && settings.gradientShards === undefined) settings.gradientShards = opts.workers;
  return settings;
}

function presetSettings(opts: TrainOptions): Record<string, unknown> {
  if (!opts.preset) return {};
  const preset = TRAINING_PRESETS[opts.preset];
  if (!preset.algos.includes(opts.algo)) throw new CliError(`--preset ${opts.preset}: a preset for --algo ${preset.algos.join('/')}, not ${opts.algo}`);
  return preset.settings;
}

function flagSettingsFrom(opts: TrainOptions, world: string): { algo: Algo } & Record<string, unknown> {
  const worldConfig = {
    ...opts.worldOption,
    ...(opts.agents === undefined ? {} : { N: opts.agents }), ...(opts.neighbours === undefined ? {} : { neighbours: opts.neighbours }),
    ...(opts.continuous ? { continuousActions: true } : {}),
  };
  const episodic = opts.algo === 'iql-tabular';
  return {
    algo: opts.algo, world, worldConfig, seed: opts.seed, worldModule: worldModuleOf(world) ?? undefined,
    actor: opts.actor, gate: opts.gate, messageCost: opts.messageCost, commRounds: opts.commRounds, msgDropout: opts.msgDropout, commRadius: opts.commRadius, agentDropout: opts.agentDropout,
    selfPlay: opts.selfPlay, scriptedOpponent: opts.scriptedOpponent, sharedActor: opts.sharedActor, trainEvery: opts.trainEvery,
    agentId: opts.agentId ? undefined : false, criticInput: opts.criticInput,
    totalSteps: opts.steps, numEnvs: opts.envs,
    [episodic ? 'episodes' : 'maxEpisodes']: opts.episodes,
  };
}

/** The configuration a run folder was made with (config.json), for --resume. */
function runConfigOf(out: string): TrainingConfig {
  const path = join(out, 'config.json');
  if (!existsSync(path)) throw new CliError(`--resume: ${out} is not a run folder (no config.json)`);
  try {
    return (JSON.parse(readFileSync(path, 'utf8')) as { config: TrainingConfig }).config;
  } catch (err) {
    throw new CliError(`--resume: ${path} is not JSON: ${(err as Error).message}`);
  }
}

/** the option (commander's attribute name) → the setting it decides, for flags a resumed run must not change */
const SETTING_OF_OPTION: Record<string, string> = {
  world: 'world', algo: 'algo', seed: 'seed', actor: 'actor', gate: 'gate', messageCost: 'messageCost', commRounds: 'commRounds', msgDropout: 'msgDropout', commRadius: 'commRadius',
  agentDropout: 'agentDropout', selfPlay: 'selfPlay', scriptedOpponent: 'scriptedOpponent', sharedActor: 'sharedActor', trainEvery: 'trainEvery', agentId: 'agentId', criticInput: 'criticInput',
  envs: 'numEnvs', agents: 'worldConfig', neighbours: 'worldConfig', continuous: 'worldConfig', worldOption: 'worldConfig', set: 'set', preset: 'preset',
};

/**
 * --resume continues the run as it was made: a flag given on the command line that says
 * something else than config.json is refused (only --steps/--episodes, the new total, may change).
 */
function refuseChangedFlags(cmd: Command, opts: TrainOptions, saved: TrainingConfig): void {
  const given = cmd.options.map((o) => o.attributeName()).filter((name) => cmd.getOptionValueSource(name) === 'cli' && name in SETTING_OF_OPTION);
  if (given.length === 0) return;
  const asFlags = settingsFrom(opts, opts.world ? resolveWorldId(opts.world) : saved.world) as Record<string, unknown>;
  const savedSettings = saved as unknown as Record<string, unknown>;
  /** the settings --set or --preset gives that the run was not made with */
  const changedBy = (name: 'set' | 'preset') => Object.entries(name === 'set' ? opts.set ?? {} : presetSettings(opts))
    .filter(([k, v]) => JSON.stringify(v) !== JSON.stringify(savedSettings[k])).map(([k]) => k);
  const differs = given.filter((name) => {
    const key = SETTING_OF_OPTION[name];
    if (key === 'worldConfig') {
      const wanted = asFlags.worldConfig as Record<string, unknown>;
      const had = savedSettings.worldConfig as Record<string, unknown>;
      return Object.keys(wanted).some((k) => wanted[k] !== had[k]);
    }
    if (key === 'agentId') return savedSettings.agentId !== false;
    if (key === 'set' || key === 'preset') return changedBy(key).length > 0;
    return key in asFlags && asFlags[key] !== undefined && JSON.stringify(asFlags[key]) !== JSON.stringify(savedSettings[key]);
  });
  if (differs.length === 0) return;
  const flag = (name: string) => cmd.options.find((o) => o.attributeName() === name)!.long!;
  const was = (name: string) => (name === 'set' || name === 'preset'
    ? changedBy(name).map((k) => `${k} was ${JSON.stringify(savedSettings[k])}`).join(', ')
    : `${flag(name)} was ${JSON.stringify(savedSettings[SETTING_OF_OPTION[name]])}`);
  throw new CliError(`--resume continues ${opts.out} as it was made (config.json); ${differs.map(flag).join(', ')} would change it: `
    + `${differs.map(was).join(', ')}. Only --steps or --episodes (the new total) may change; start a new run for the rest`);
}

/** A refused setting, said in the flags' words (`--set KEY` for one given that way). */
function flagError(err: TrainingConfigError, algo: Algo, set: Record<string, unknown> = {}): CliError {
  const flags = err.settings.map((s) => (s in set ? `--set ${s}` : FLAG_OF[s] ?? `--set ${s}`));
  if (err.reason === 'unknown') {
    const takers = [...new Set(err.settings.flatMap(algosTaking))];
    if (takers.length === 0) {
      return new CliError(`${flags.join(', ')}: no algorithm has ${flags.length > 1 ? 'these settings' : 'this setting'}; ${algo}'s are ${Object.keys(defaultConfigFor(algo)).filter((k) => !(k in SET_REFUSED)).join(', ')} (--show-config prints them with their values)`);
    }
    const what = flags.length > 1 ? 'settings' : 'a setting';
    // a budget flag of another kind of run: say which one this algorithm takes
    const budget = err.settings.some((s) => ['totalSteps', 'maxEpisodes', 'episodes', 'numEnvs', 'trainEvery'].includes(s))
      ? `; ${algo} trains for ${algo === 'iql-tabular' ? '--episodes, one episode after another' : '--steps'}` : '';
    return new CliError(`${flags.join(', ')}: ${what} of --algo ${takers.join('/')}, not of ${algo}${budget}`);
  }
  if (err.reason === 'needs') {
    if (err.needs === 'actor') return new CliError(`${flags.join(', ')}: needs --actor ${err.settings[0] === 'chunkLength' ? 'gru (or commnet-gru)' : 'commnet'}`);
    // a setting with a flag is named by it; one given only by --set, by what the trainer says it needs
    return new CliError(`${flags.join(', ')}: needs ${FLAG_OF[err.needs!] ?? err.requirement}`);
  }
  if (err.reason === 'world') return new CliError(`${err.settings[0] === 'algo' ? '--algo' : FLAG_OF[err.settings[0]] ?? err.settings[0]}: ${err.message}`);
  return new CliError(`${flags[0]}: ${err.message}`);
}

/** How far a run is: env steps, or episodes for the tabular learner. */
function progressOf(config: TrainingConfig, m: TrainingMetrics): { done: number; total: number; unit: string } {
  return config.algo === 'iql-tabular'
    ? { done: m['global/updates'], total: config.episodes, unit: 'episodes' }
    : { done: m['global/env_steps'], total: config.totalSteps, unit: 'steps' };
}

function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const m = Math.floor(seconds / 60);
  return m > 0 ? `${m}m${String(Math.round(seconds % 60)).padStart(2, '0')}s` : `${Math.round(seconds)}s`;
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train a team and write a run folder (config.json, metrics.jsonl, checkpoint.json, curves): MAPPO (critic on the global state) or IPPO with MLP or CommNet actors; IQL (a DQN per agent), VDN and QMIX (value decomposition); MADDPG (centralized critic per agent); or the seed\'s tabular IQL. Ctrl-C saves a checkpoint; --resume continues')
    .option('--world <id>', 'world id or alias (see `fleetmind worlds`); required, but with --resume, where the run says it')
    .addOption(new Option('--algo <name>', 'algorithm: mappo/ippo (on-policy, any actor), iql/vdn/qmix (value-based, cooperative discrete tasks), maddpg (mixed settings), iql-tabular (the seed\'s Q-tables; grid_predator_prey only)').choices([...ALGOS]).default('mappo'))
    .addOption(new Option('--actor <kind>', 'mappo/ippo actor network: mlp (own observation only), commnet (also hears its teammates each tick: the mean of their messages), tarmac (a CommNet that attends over the messages heard, TarMAC), gru (an MLP with a GRU cell that remembers past observations, rMAPPO; --set chunkLength=N for its training sequences) commnet-gru (a CommNet whose first stage is a GRU cell: it remembers, and hears what its teammates remember) or tarmac-gru (the same with TarMAC\'s attention); iql/vdn/qmix: the Q-network, mlp or gru (PyMARL\'s RNN agent: it remembers the episode so far, and learns on whole episodes) (default: mlp)').choices(['mlp', 'commnet', 'tarmac', 'gru', 'commnet-gru', 'tarmac-gru']))
    .option('--gate', 'a communicating actor learns when to talk (IC3Net\'s gate): each agent also chooses every tick whether to send its messages; a silent one still hears, and on the robot it publishes an empty abstention instead of its message')
    .option('--message-cost <c>', '--gate: subtracted from an agent\'s training reward each tick it speaks, to trade messages for return (default: 0; the returns reported are the world\'s)', nonNegativeNumber)
    .option('--comm-rounds <k>', `CommNet communication rounds per tick (default: ${defaultMappoConfig.commRounds})`, positiveInt)
    .option('--msg-dropout <p>', 'CommNet training: probability that one message on one link in one round is lost (default: 0)', probability)
    .option('--comm-radius <r>', 'CommNet: only teammates within this distance hear each other (worlds with positions)', positiveNumber)
    .option('--agent-dropout <p>', 'CommNet training: probability that an agent is silent for a whole episode (default: 0)', probability)
    .option('--self-play', 'mappo/ippo on a competitive world (simple_tag): both sides learn, each against a pool of the other side\'s past snapshots; reports each side against the latest and the scripted opponent')
    .option('--scripted-opponent <p>', `--self-play: chance per rollout that a side's opponent is the world's scripted controller instead of a past snapshot (default: ${defaultMappoConfig.scriptedOpponent})`, probability)
    .option('--shared-actor', 'mappo/ippo: one actor for every role, trained on every role\'s experience (the roles must observe and act alike, as Pong\'s sides do: each sees the court from its own end); the bundle holds it for each role. Critics stay one per role')
    .option('--continuous', 'the world\'s continuous actions (PettingZoo\'s continuous_actions; the MPE worlds): mappo/ippo learn a Beta policy on the box, played by its mode (--set actionDistribution=gaussian: a diagonal Gaussian with a learned constant std, clipped into the box, the default before the Beta; =gaussian-state: its std from the actor; =bins with --set actionBins=K: K values a component)')
    .option('--agents <n>', 'number of agents, for worlds that take one (simple_spread: N)', positiveInt)
    .option('--world-option <key=value>', 'a world option, repeatable (see `fleetmind worlds`), e.g. difficulty=medium for traffic_junction', worldOption)
    .option('--neighbours <k>', 'simple_spread: observe only the k nearest landmarks and agents (a policy that serves any fleet size)', positiveInt)
    .option('--no-agent-id', 'no one-hot agent index in the inputs (needed to run the policy on a fleet of another size)')
    .addOption(new Option('--critic-input <kind>', 'mappo: what the centralized critic reads — state (the world\'s global state: its cost per env step grows with N²) or pooled (the agent\'s observation beside its role\'s mean observation: linear in N, for large k-nearest fleets)').choices(['state', 'pooled']))
    .addOption(new Option('--preset <name>', `a published configuration under the other flags (a flag or --set beside it wins): ${Object.entries(TRAINING_PRESETS).map(([name, p]) => `${name}: ${p.summary}`).join('; ')}; --show-config prints what it sets`).choices(Object.keys(TRAINING_PRESETS)))
    .option('--set <key=value>', 'any other setting of the algorithm, by its name in a run\'s config.json (repeatable; the value is JSON where it parses as JSON), e.g. --set lr=0.0007 --set epochs=10 --set hidden=[128,128]; --show-config lists them with their defaults', worldOption)
    .option('--show-config', 'print the configuration these flags make (every setting, defaults included) as JSON and exit, training nothing')
    .option('--steps <n>', `env steps to train for (default: mappo/ippo ${defaultMappoConfig.totalSteps.toLocaleString('en-US')}, iql/vdn/qmix/maddpg ${defaultQLearningConfig.totalSteps.toLocaleString('en-US')})`, positiveInt)
    .option('--episodes <n>', `iql-tabular: episodes to train for (default: ${defaultTabularIqlConfig.episodes}, as the seed); iql/vdn/qmix/maddpg: stop after this many episodes if --steps has not run out first`, positiveInt)
    .option('--envs <n>', `parallel environments (default: mappo/ippo ${defaultMappoConfig.numEnvs}, iql/vdn/qmix/maddpg ${defaultQLearningConfig.numEnvs})`, positiveInt)
    .option('--train-every <n>', `iql/vdn/qmix/maddpg: one update per this many env steps (default: ${defaultQLearningConfig.trainEvery}; fewer updates can keep a competitive world from an arms race)`, positiveInt)
    .option('--seed <s>', 'seed', nonNegativeInt, defaultMappoConfig.seed)
    .option('--out <dir>', 'run folder (default: runs/<world>-<algo>-s<seed>)')
    .option('--resume', 'continue the run in --out from its checkpoint')
    .addOption(new Option('--backend <name>', 'TensorFlow.js backend').choices(['auto', 'node', 'wasm', 'cpu']).default('auto'))
    .option('--workers <k>', 'mappo/ippo: threads that compute the updates (default: 1), each with its own TensorFlow.js: every minibatch\'s gradient is the sum of gradientShards parts (default: K; --set gradientShards=S), spread over the K threads. The run\'s numbers depend on gradientShards, never on K: a run made with --workers 2 is replayed exactly by --workers 1 --set gradientShards=2', positiveInt)
    .addHelpText('after', '\nThe checkpoint is saved every minute, on Ctrl-C and at the end; --resume continues exactly where it was\n(weights, optimizer, replay, random streams, worlds mid-episode). --steps (or --episodes) with --resume is the new total.\n\nExamples:\n  $ fleetmind train --world simple_spread --algo mappo\n  $ fleetmind train --world simple_spread --actor commnet --msg-dropout 0.3 --out runs/commnet\n  $ fleetmind train --world simple_spread --algo qmix --steps 300000 --out runs/qmix\n  $ fleetmind train --world grid_predator_prey --algo iql-tabular --out runs/iql-tabular\n  $ fleetmind train --world simple_tag --self-play --steps 2000000 --out runs/tag-selfplay\n  $ fleetmind train --world simple_spread --continuous --set lr=0.0007 --set epochs=10 --show-config\n  $ fleetmind train --out runs/qmix --world simple_spread --algo qmix --resume')
    .action(async (opts: TrainOptions, cmd: Command) => {
      if (opts.resume) {
        if (!opts.out) throw new CliError('--resume needs --out <run folder>: the run to continue');
        const saved = runConfigOf(opts.out);
        refuseChangedFlags(cmd, opts, saved);
        opts.world ??= saved.world;
        opts.algo = saved.algo;
      }
      if (!opts.world) throw new CliError('--world <id> is required (see `fleetmind worlds`)');
      if ((opts.workers ?? 1) > 1 && opts.algo !== 'mappo' && opts.algo !== 'ippo') throw new CliError(`--workers: only mappo and ippo compute their updates on several threads, not ${opts.algo}`);
      const worldId = resolveWorldId(opts.world);
      // a remote world's address is its id: the run folder is named after the host and port
      const out = opts.out ?? `runs/${isRemoteWorld(worldId) ? `remote-${worldId.slice('remote:'.length).split('?')[0].replace(/[^A-Za-z0-9.]+/g, '-')}` : worldId}-${opts.algo}-s${opts.seed}`;
      let config: TrainingConfig;
      try {
        // a resumed run is configured by its checkpoint (the flags were checked against it above)
        config = opts.resume ? runConfigOf(out) : resolveTrainingConfig(settingsFrom(opts, worldId));
        const probe = openWorld(worldId, { config: config.worldConfig });
        try {
          checkConfigFitsWorld(config, probe); // the world's options too, before any work
        } finally {
          probe.close();
        }
      } catch (err) {
        throw err instanceof TrainingConfigError ? flagError(err, opts.algo, opts.set) : err;
      }
      const shards = 'gradientShards' in config ? config.gradientShards ?? 1 : 1;
      if ((opts.workers ?? 1) > shards) {
        process.stderr.write(`--workers ${opts.workers}: this run's gradient has ${shards} part${shards > 1 ? 's' : ''} (gradientShards), so ${shards} thread${shards > 1 ? 's' : ''} compute${shards > 1 ? '' : 's'} it${opts.resume ? ' (a resumed run keeps the parts it was made with)' : ''}\n`);
      }
      if (opts.showConfig) {
        process.stdout.write(`${JSON.stringify(config, null, 2)}\n`);
        return;
      }
      // TensorFlow.js loads only when there is training to do
      const { RunFolder, train, useBackend, writeLearningCurves } = await import('@fleetmind/trainer');
      const backend = await useBackend(opts.backend);
      let run: RunFolder;
      let resume: TrainingCheckpoint | undefined;
      if (opts.resume) {
        run = RunFolder.open(out);
        resume = run.loadCheckpoint();
        if (resume.config.algo !== config.algo) throw new CliError(`${out} holds a ${resume.config.algo} run; resume it with --algo ${resume.config.algo}`);
        config = withBudget(resume.config, { steps: opts.steps, episodes: opts.episodes });
        process.stderr.write(`resuming ${out} at ${resume.envSteps.toLocaleString('en-US')} env steps\n`);
        run.recordResume(resume.envSteps);
      } else {
        run = RunFolder.create(out, { config, backend, created: new Date().toISOString(), node: process.version });
      }
      let stop = false;
      const onSignal = () => {
        if (stop) process.exit(130);
        stop = true;
        process.stderr.write('\nstopping after this update; the checkpoint will be saved (Ctrl-C again to abort)\n');
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      // a resumed run's clock continues where the metrics stopped, so curves against wall time stay monotone
      const wallOffset = resume ? (run.metrics().at(-1)?.['time/wall_s'] ?? 0) : 0;
      const startDone = resume ? (config.algo === 'iql-tabular' ? resume.updates : resume.envSteps) : 0;
      const progress = progressLine();
      const logged = !process.stderr.isTTY;
      let lastLine = 0;
      const checkpoint = await train(config, {
        shouldStop: () => stop,
        workers: opts.workers,
        checkpointEverySeconds: 60,
        onCheckpoint: (c) => run.saveCheckpoint(c),
        onUpdate: (m) => {
          m['time/wall_s'] += wallOffset;
          run.appendMetrics(m);
          const { done, total, unit } = progressOf(config, m);
          const rate = (done - startDone) / (m['time/wall_s'] - wallOffset);
          // (no return where no episode ended in this update: long games, such as Pong's)
          const agentReturn = m['train/agent_return_mean'];
          const line = `${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} ${unit} (${Math.floor((done / total) * 100)} %)  return ${Number.isFinite(agentReturn) ? agentReturn.toFixed(2) : '—'}  ${Math.round(m['train/env_steps_per_s'])} steps/s  ETA ${formatEta((total - done) / rate)}`;
          progress(line);
          // a log (not a terminal) gets a line every 10 s instead
          if (logged && m['time/wall_s'] - lastLine >= 10) {
            lastLine = m['time/wall_s'];
            process.stderr.write(`${line}\n`);
          }
        },
      }, resume).catch((err: unknown) => {
        if (!(err instanceof SimulatorLostError)) throw err;
        const saved = err.checkpointSaved ? `the run's checkpoint (${run.loadCheckpoint().envSteps.toLocaleString('en-US')} env steps) is saved in ${out}: start the simulator again and continue with \`fleetmind train --out ${out} --resume\`` : 'no checkpoint was saved';
        throw new CliError(`${err.message}; ${saved}`, EXIT_FAILED);
      });
      run.saveCheckpoint(checkpoint);
      progress('');
      const actor = config.algo === 'mappo' || config.algo === 'ippo' ? ` (${config.actor})` : '';
      const curves = await writeLearningCurves(out, run.metrics(), `${config.algo.toUpperCase()}${actor} on ${config.world}`, referenceReturns(config), (run.info().resumes ?? []).map((r) => r.env_steps));
      if ((config.algo === 'mappo' || config.algo === 'ippo') && config.selfPlay) printSelfPlay(run.metrics(), config.selfPlayEpisodes ?? defaultMappoConfig.selfPlayEpisodes!);
      process.stdout.write(`${stop ? 'stopped' : 'trained'} ${checkpoint.envSteps.toLocaleString('en-US')} env steps on ${backend}; run folder ${out} (curves: ${curves.map((c) => c.split('/').pop()).join(', ')})\n`);
    });
}

/** The uniform-random and scripted policies' mean per-agent returns on the run's world (100 episodes, seed 0), for the curves. */
function referenceReturns(config: TrainingConfig): { random: number; scripted: number | null } {
  const world = () => openWorld(config.world, { numEnvs: 100, autoReset: false, config: config.worldConfig });
  const random = world();
  try {
    return {
      random: evaluateController(random, randomController(random, 0), 0).agent_return_mean,
      scripted: hasScriptedController(config.world) ? scriptedReturn(world) : null,
    };
  } finally {
    random.close();
  }
}

/** The scripted controller's return, or null (said on stderr) where it cannot read this run's observations (simple_spread's k nearest). */
function scriptedReturn(open: () => World): number | null {
  const world = open();
  try {
    return evaluateController(world, scriptedController(world), 0).agent_return_mean;
  } catch (err) {
    process.stderr.write(`the curves have no scripted reference: ${(err as Error).message}\n`);
    return null;
  } finally {
    world.close();
  }
}

/** The last self-play measurement: each side against the latest and the scripted opponent. */
function printSelfPlay(metrics: TrainingMetrics[], episodes: number): void {
  const last = [...metrics].reverse().find((m) => Object.keys(m).some((k) => k.startsWith('selfplay/')));
  if (!last) return;
  const rows = Object.entries(last).filter(([k]) => k.startsWith('selfplay/')).map(([k, v]) => [k.slice('selfplay/'.length).replace(/_/g, ' '), v.toFixed(3)]);
  process.stdout.write(`self-play at ${last['global/env_steps'].toLocaleString('en-US')} env steps (greedy, ${episodes} episodes):\n`);
  printTable(['', 'value'], rows);
}
