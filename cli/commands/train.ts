import { Option, type Command } from 'commander';
import { makeWorld, resolveWorldId } from '@fleetmind/sim-harness/worlds';
import { defaultMappoConfig, type MappoConfig } from '@fleetmind/trainer/config';
import type { BackendChoice, CurvePoint, MappoCheckpoint, RunFolder } from '@fleetmind/trainer';
import { CliError } from '../errors.js';
import { positiveInt, positiveNumber, probability } from '../options.js';

interface TrainOptions {
  world: string;
  algo: 'mappo' | 'ippo';
  actor: 'mlp' | 'commnet';
  commRounds: number;
  msgDropout: number;
  commRadius?: number;
  agentDropout: number;
  agents?: number;
  neighbours?: number;
  agentId: boolean;
  steps: number;
  envs: number;
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

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train actors with centralized training (MAPPO: critic on the global state) or independent PPO (IPPO), writing a run folder: config.json, metrics.jsonl, checkpoint.json. Ctrl-C saves a checkpoint; --resume continues')
    .requiredOption('--world <id>', 'world id or alias (see `fleetmind worlds`)')
    .addOption(new Option('--algo <name>', 'algorithm').choices(['mappo', 'ippo']).default('mappo'))
    .addOption(new Option('--actor <kind>', 'actor network: mlp (own observation only) or commnet (also hears its teammates each tick)').choices(['mlp', 'commnet']).default('mlp'))
    .option('--comm-rounds <k>', 'CommNet communication rounds per tick', positiveInt, defaultMappoConfig.commRounds)
    .option('--msg-dropout <p>', 'CommNet training: probability that one message on one link in one round is lost', probability, defaultMappoConfig.msgDropout)
    .option('--comm-radius <r>', 'CommNet: only teammates within this distance hear each other (worlds with positions)', positiveNumber)
    .option('--agent-dropout <p>', 'CommNet training: probability that an agent is silent for a whole episode', probability, defaultMappoConfig.agentDropout)
    .option('--agents <n>', 'number of agents, for worlds that take one (simple_spread: N)', positiveInt)
    .option('--neighbours <k>', 'simple_spread: observe only the k nearest landmarks and agents (a policy that serves any fleet size)', positiveInt)
    .option('--no-agent-id', 'no one-hot agent index in the inputs (needed to run the policy on a fleet of another size)')
    .option('--steps <n>', 'env steps to train for', positiveInt, defaultMappoConfig.totalSteps)
    .option('--envs <n>', 'parallel environments', positiveInt, defaultMappoConfig.numEnvs)
    .option('--seed <s>', 'seed', seedArg, defaultMappoConfig.seed)
    .option('--out <dir>', 'run folder (default: runs/<world>-<algo>-s<seed>)')
    .option('--resume', 'continue the run in --out from its checkpoint')
    .addOption(new Option('--backend <name>', 'TensorFlow.js backend').choices(['auto', 'node', 'wasm', 'cpu']).default('auto'))
    .addHelpText('after', '\nThe checkpoint is saved every minute, on Ctrl-C and at the end; --resume continues exactly where it was\n(weights, optimizer, random streams, worlds mid-episode). --steps with --resume is the new total.\n\nExamples:\n  $ fleetmind train --world simple_spread --algo mappo\n  $ fleetmind train --world simple_spread --actor commnet --msg-dropout 0.3 --out runs/commnet\n  $ fleetmind train --world simple_spread --algo ippo --steps 500000 --out runs/ippo\n  $ fleetmind train --out runs/ippo --world simple_spread --resume')
    .action(async (opts: TrainOptions) => {
      const worldId = resolveWorldId(opts.world);
      const out = opts.out ?? `runs/${worldId}-${opts.algo}-s${opts.seed}`;
      // TensorFlow.js loads only when there is training to do
      const { RunFolder, trainMappo, useBackend, writeLearningCurves } = await import('@fleetmind/trainer');
      const backend = await useBackend(opts.backend);
      if (opts.actor === 'mlp' && (opts.msgDropout > 0 || opts.agentDropout > 0 || opts.commRadius !== undefined)) {
        throw new CliError('--msg-dropout, --agent-dropout and --comm-radius shape communication: they need --actor commnet');
      }
      let config: MappoConfig = {
        ...defaultMappoConfig, world: worldId, algo: opts.algo, totalSteps: opts.steps, numEnvs: opts.envs, seed: opts.seed,
        worldConfig: { ...(opts.agents === undefined ? {} : { N: opts.agents }), ...(opts.neighbours === undefined ? {} : { neighbours: opts.neighbours }) },
        agentId: opts.agentId,
        actor: opts.actor, commRounds: opts.commRounds, msgDropout: opts.msgDropout, commRadius: opts.commRadius ?? null, agentDropout: opts.agentDropout,
      };
      makeWorld(worldId, { config: config.worldConfig }); // validates the world options before any work
      let run: RunFolder;
      let resume: MappoCheckpoint | undefined;
      if (opts.resume) {
        run = RunFolder.open(out);
        resume = run.loadCheckpoint();
        config = { ...resume.config, totalSteps: opts.steps };
        process.stderr.write(`resuming ${out} at ${resume.envSteps} env steps\n`);
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
      const tty = process.stderr.isTTY;
      let lastLine = 0;
      const checkpoint = await trainMappo(config, {
        shouldStop: () => stop,
        checkpointEverySeconds: 60,
        onCheckpoint: (c) => run.saveCheckpoint(c),
        onUpdate: (m) => {
          m['time/wall_s'] += wallOffset;
          run.appendMetrics(m);
          const done = m['global/env_steps'];
          const rate = (done - (resume?.envSteps ?? 0)) / (m['time/wall_s'] - wallOffset);
          const line = `${done.toLocaleString('en-US')}/${config.totalSteps.toLocaleString('en-US')} steps  return ${m['train/agent_return_mean'].toFixed(2)}  ${Math.round(m['train/env_steps_per_s'])} steps/s  ETA ${formatEta((config.totalSteps - done) / rate)}`;
          if (tty) {
            const width = 24;
            const filled = Math.round((done / config.totalSteps) * width);
            process.stderr.write(`\r\x1b[K[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${line}`);
          } else if (m['time/wall_s'] - lastLine >= 10) {
            lastLine = m['time/wall_s'];
            process.stderr.write(`${line}\n`);
          }
        },
      }, resume);
      run.saveCheckpoint(checkpoint);
      if (tty) process.stderr.write('\n');
      const curves = await writeLearningCurves(out, run.metrics() as unknown as CurvePoint[], `${config.algo.toUpperCase()} (${config.actor}) on ${config.world}`);
      process.stdout.write(`${stop ? 'stopped' : 'trained'} ${checkpoint.envSteps.toLocaleString('en-US')} env steps on ${backend}; run folder ${out} (curves: ${curves.map((c) => c.split('/').pop()).join(', ')})\n`);
    });
}
