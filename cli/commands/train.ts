import { Option, type Command } from 'commander';
import { makeWorld, resolveWorldId } from '@fleetmind/worlds';
import {
  defaultMaddpgConfig, defaultMappoConfig, defaultQLearningConfig, defaultTabularIqlConfig,
} from '@fleetmind/trainer/config';
import type { BackendChoice, CurvePoint, RunFolder, TrainingCheckpoint, TrainingConfig, TrainingMetrics } from '@fleetmind/trainer';
import { CliError } from '../errors.js';
import { positiveInt, positiveNumber, probability } from '../options.js';
import { printTable } from '../output.js';

const ALGOS = ['mappo', 'ippo', 'iql', 'iql-tabular', 'vdn', 'qmix', 'maddpg'] as const;
type Algo = (typeof ALGOS)[number];

interface TrainOptions {
  world: string;
  algo: Algo;
  actor?: 'mlp' | 'commnet';
  commRounds?: number;
  msgDropout?: number;
  commRadius?: number;
  agentDropout?: number;
  selfPlay?: boolean;
  scriptedOpponent?: number;
  trainEvery?: number;
  agents?: number;
  neighbours?: number;
  agentId: boolean;
  steps?: number;
  episodes?: number;
  envs?: number;
  seed: number;
  out?: string;
  resume?: boolean;
  backend: BackendChoice;
}

function seedArg(value: string): number {
  if (!/^\d+$/.test(value.trim())) throw new CliError(`--seed: expected a non-negative integer, got "${value}"`);
  return Number(value);
}

function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const m = Math.floor(seconds / 60);
  return m > 0 ? `${m}m${String(Math.round(seconds % 60)).padStart(2, '0')}s` : `${Math.round(seconds)}s`;
}

/** The run's configuration from the command line, refusing options its algorithm does not take. */
function configFrom(opts: TrainOptions, world: string): TrainingConfig {
  const worldConfig = { ...(opts.agents === undefined ? {} : { N: opts.agents }), ...(opts.neighbours === undefined ? {} : { neighbours: opts.neighbours }) };
  const ppo = opts.algo === 'mappo' || opts.algo === 'ippo';
  const commOptions = { '--actor': opts.actor, '--comm-rounds': opts.commRounds, '--msg-dropout': opts.msgDropout, '--comm-radius': opts.commRadius, '--agent-dropout': opts.agentDropout, '--self-play': opts.selfPlay, '--scripted-opponent': opts.scriptedOpponent };
  const given = (options: Record<string, unknown>) => Object.entries(options).filter(([, v]) => v !== undefined).map(([k]) => k);
  if (!ppo && given(commOptions).length > 0) throw new CliError(`${given(commOptions).join(', ')}: these are --algo mappo/ippo settings (communicating actors, self-play), not ${opts.algo}'s`);
  if (opts.algo === 'iql-tabular') {
    if (given({ '--steps': opts.steps, '--envs': opts.envs, '--train-every': opts.trainEvery }).length > 0) throw new CliError('--algo iql-tabular plays one episode after another and learns every step: give --episodes, not --steps/--envs/--train-every');
    if (!opts.agentId) throw new CliError('--no-agent-id: iql-tabular has one table per agent, no agent id');
    return { ...defaultTabularIqlConfig, world, worldConfig, seed: opts.seed, episodes: opts.episodes ?? defaultTabularIqlConfig.episodes };
  }
  const common = { world, worldConfig, seed: opts.seed, agentId: opts.agentId };
  if (ppo) {
    if (opts.trainEvery !== undefined) throw new CliError(`--train-every is for the replay-based algorithms (iql, vdn, qmix, maddpg); ${opts.algo} updates after every rollout`);
    if (opts.episodes !== undefined) throw new CliError(`--episodes: ${opts.algo} trains for --steps (episodes are capped for iql-tabular and the replay-based algorithms)`);
    if (opts.actor !== 'commnet' && given({ '--msg-dropout': opts.msgDropout, '--agent-dropout': opts.agentDropout, '--comm-radius': opts.commRadius }).length > 0) {
      throw new CliError('--msg-dropout, --agent-dropout and --comm-radius shape communication: they need --actor commnet');
    }
    return {
      ...defaultMappoConfig, ...common, algo: opts.algo as 'mappo' | 'ippo',
      totalSteps: opts.steps ?? defaultMappoConfig.totalSteps, numEnvs: opts.envs ?? defaultMappoConfig.numEnvs,
      actor: opts.actor ?? 'mlp', commRounds: opts.commRounds ?? defaultMappoConfig.commRounds,
      msgDropout: opts.msgDropout ?? 0, commRadius: opts.commRadius ?? null, agentDropout: opts.agentDropout ?? 0,
      selfPlay: opts.selfPlay ?? false,
      scriptedOpponent: opts.scriptedOpponent ?? defaultMappoConfig.scriptedOpponent,
    };
  }
  if (opts.algo === 'maddpg') {
    return {
      ...defaultMaddpgConfig, ...common, totalSteps: opts.steps ?? defaultMaddpgConfig.totalSteps, maxEpisodes: opts.episodes ?? null,
      numEnvs: opts.envs ?? defaultMaddpgConfig.numEnvs, trainEvery: opts.trainEvery ?? defaultMaddpgConfig.trainEvery,
    };
  }
  return {
    ...defaultQLearningConfig, ...common, algo: opts.algo as 'iql' | 'vdn' | 'qmix',
    totalSteps: opts.steps ?? defaultQLearningConfig.totalSteps, maxEpisodes: opts.episodes ?? null, numEnvs: opts.envs ?? defaultQLearningConfig.numEnvs,
    trainEvery: opts.trainEvery ?? defaultQLearningConfig.trainEvery,
  };
}

/** How far a run is: env steps, or episodes for the tabular learner. */
function progressOf(config: TrainingConfig, m: TrainingMetrics): { done: number; total: number; unit: string } {
  return config.algo === 'iql-tabular'
    ? { done: m['global/updates'], total: config.episodes, unit: 'episodes' }
    : { done: m['global/env_steps'], total: config.totalSteps, unit: 'steps' };
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train a team and write a run folder (config.json, metrics.jsonl, checkpoint.json, curves): MAPPO (critic on the global state) or IPPO with MLP or CommNet actors; IQL (a DQN per agent), VDN and QMIX (value decomposition); MADDPG (centralized critic per agent); or the seed\'s tabular IQL. Ctrl-C saves a checkpoint; --resume continues')
    .requiredOption('--world <id>', 'world id or alias (see `fleetmind worlds`)')
    .addOption(new Option('--algo <name>', 'algorithm: mappo/ippo (on-policy, any actor), iql/vdn/qmix (value-based, cooperative discrete tasks), maddpg (mixed settings), iql-tabular (the seed\'s Q-tables; grid_predator_prey only)').choices(ALGOS).default('mappo'))
    .addOption(new Option('--actor <kind>', 'mappo/ippo actor network: mlp (own observation only) or commnet (also hears its teammates each tick) (default: mlp)').choices(['mlp', 'commnet']))
    .option('--comm-rounds <k>', `CommNet communication rounds per tick (default: ${defaultMappoConfig.commRounds})`, positiveInt)
    .option('--msg-dropout <p>', 'CommNet training: probability that one message on one link in one round is lost (default: 0)', probability)
    .option('--comm-radius <r>', 'CommNet: only teammates within this distance hear each other (worlds with positions)', positiveNumber)
    .option('--agent-dropout <p>', 'CommNet training: probability that an agent is silent for a whole episode (default: 0)', probability)
    .option('--self-play', 'mappo/ippo on a competitive world (simple_tag): both sides learn, each against a pool of the other side\'s past snapshots; reports each side against the latest and the scripted opponent')
    .option('--scripted-opponent <p>', `--self-play: chance per rollout that a side's opponent is the world's scripted controller instead of a past snapshot (default: ${defaultMappoConfig.scriptedOpponent})`, probability)
    .option('--agents <n>', 'number of agents, for worlds that take one (simple_spread: N)', positiveInt)
    .option('--neighbours <k>', 'simple_spread: observe only the k nearest landmarks and agents (a policy that serves any fleet size)', positiveInt)
    .option('--no-agent-id', 'no one-hot agent index in the inputs (needed to run the policy on a fleet of another size)')
    .option('--steps <n>', `env steps to train for (default: mappo/ippo ${defaultMappoConfig.totalSteps.toLocaleString('en-US')}, iql/vdn/qmix/maddpg ${defaultQLearningConfig.totalSteps.toLocaleString('en-US')})`, positiveInt)
    .option('--episodes <n>', `iql-tabular: episodes to train for (default: ${defaultTabularIqlConfig.episodes}, as the seed); iql/vdn/qmix/maddpg: stop after this many episodes if --steps has not run out first`, positiveInt)
    .option('--envs <n>', `parallel environments (default: mappo/ippo ${defaultMappoConfig.numEnvs}, iql/vdn/qmix/maddpg ${defaultQLearningConfig.numEnvs})`, positiveInt)
    .option('--train-every <n>', `iql/vdn/qmix/maddpg: one update per this many env steps (default: ${defaultQLearningConfig.trainEvery}; fewer updates can keep a competitive world from an arms race)`, positiveInt)
    .option('--seed <s>', 'seed', seedArg, defaultMappoConfig.seed)
    .option('--out <dir>', 'run folder (default: runs/<world>-<algo>-s<seed>)')
    .option('--resume', 'continue the run in --out from its checkpoint')
    .addOption(new Option('--backend <name>', 'TensorFlow.js backend').choices(['auto', 'node', 'wasm', 'cpu']).default('auto'))
    .addHelpText('after', '\nThe checkpoint is saved every minute, on Ctrl-C and at the end; --resume continues exactly where it was\n(weights, optimizer, replay, random streams, worlds mid-episode). --steps (or --episodes) with --resume is the new total.\n\nExamples:\n  $ fleetmind train --world simple_spread --algo mappo\n  $ fleetmind train --world simple_spread --actor commnet --msg-dropout 0.3 --out runs/commnet\n  $ fleetmind train --world simple_spread --algo qmix --steps 300000 --out runs/qmix\n  $ fleetmind train --world grid_predator_prey --algo iql-tabular --out runs/iql-tabular\n  $ fleetmind train --world simple_tag --self-play --steps 2000000 --out runs/tag-selfplay\n  $ fleetmind train --out runs/qmix --world simple_spread --algo qmix --resume')
    .action(async (opts: TrainOptions) => {
      const worldId = resolveWorldId(opts.world);
      const out = opts.out ?? `runs/${worldId}-${opts.algo}-s${opts.seed}`;
      let config = configFrom(opts, worldId);
      const world = makeWorld(worldId, { config: config.worldConfig }); // validates the world options before any work
      if (opts.scriptedOpponent !== undefined && !opts.selfPlay) throw new CliError('--scripted-opponent is a --self-play setting');
      if ('selfPlay' in config && config.selfPlay && new Set(world.roles).size < 2) {
        throw new CliError(`--self-play: self-play needs a world with two or more roles; ${worldId} has one`);
      }
      if (config.algo === 'iql-tabular' && world.numDiscreteStates === null) {
        throw new CliError(`--algo iql-tabular needs a world with a discrete state (grid_predator_prey); ${worldId} has none`);
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
        const saved = resume.config;
        switch (saved.algo) {
          case 'iql-tabular': config = { ...saved, episodes: opts.episodes ?? saved.episodes }; break;
          case 'mappo': case 'ippo': config = { ...saved, totalSteps: opts.steps ?? saved.totalSteps }; break;
          default: config = { ...saved, totalSteps: opts.steps ?? saved.totalSteps, maxEpisodes: opts.episodes ?? saved.maxEpisodes ?? null };
        }
        process.stderr.write(`resuming ${out} at ${resume.envSteps.toLocaleString('en-US')} env steps\n`);
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
      const tty = process.stderr.isTTY;
      let lastLine = 0;
      const checkpoint = await train(config, {
        shouldStop: () => stop,
        checkpointEverySeconds: 60,
        onCheckpoint: (c) => run.saveCheckpoint(c),
        onUpdate: (m) => {
          m['time/wall_s'] += wallOffset;
          run.appendMetrics(m);
          const { done, total, unit } = progressOf(config, m);
          const rate = (done - startDone) / (m['time/wall_s'] - wallOffset);
          const line = `${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} ${unit}  return ${m['train/agent_return_mean'].toFixed(2)}  ${Math.round(m['train/env_steps_per_s'])} steps/s  ETA ${formatEta((total - done) / rate)}`;
          if (tty) {
            const width = 24;
            const filled = Math.round((done / total) * width);
            process.stderr.write(`\r\x1b[K[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${line}`);
          } else if (m['time/wall_s'] - lastLine >= 10) {
            lastLine = m['time/wall_s'];
            process.stderr.write(`${line}\n`);
          }
        },
      }, resume);
      run.saveCheckpoint(checkpoint);
      if (tty) process.stderr.write('\n');
      const actor = config.algo === 'mappo' || config.algo === 'ippo' ? ` (${config.actor})` : '';
      const curves = await writeLearningCurves(out, run.metrics() as unknown as CurvePoint[], `${config.algo.toUpperCase()}${actor} on ${config.world}`);
      if (config.algo !== 'iql-tabular' && 'selfPlay' in config && config.selfPlay) printSelfPlay(run.metrics());
      process.stdout.write(`${stop ? 'stopped' : 'trained'} ${checkpoint.envSteps.toLocaleString('en-US')} env steps on ${backend}; run folder ${out} (curves: ${curves.map((c) => c.split('/').pop()).join(', ')})\n`);
    });
}

/** The last self-play measurement: each side against the latest and the scripted opponent. */
function printSelfPlay(metrics: Record<string, number>[]): void {
  const last = [...metrics].reverse().find((m) => Object.keys(m).some((k) => k.startsWith('selfplay/')));
  if (!last) return;
  const rows = Object.entries(last).filter(([k]) => k.startsWith('selfplay/')).map(([k, v]) => [k.slice('selfplay/'.length).replace(/_/g, ' '), v.toFixed(3)]);
  process.stdout.write(`self-play at ${last['global/env_steps'].toLocaleString('en-US')} env steps (greedy, 50 episodes):\n`);
  printTable(['', 'value'], rows);
}
