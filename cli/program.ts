// The fleetmind command line: one program, one registration function per command.

import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerWorlds } from './commands/worlds.js';
import { registerEnvCheck } from './commands/env-check.js';
import { registerBench } from './commands/bench.js';
import { registerEval } from './commands/eval.js';
import { registerTrain } from './commands/train.js';
import { registerExport } from './commands/export.js';
import { registerBundle } from './commands/bundle.js';
import { agentCommand } from '@fleetmind/runtime/agent-command';
import { brokerCommand } from '@fleetmind/broker/broker-command';
import { registerSim } from './commands/sim.js';
import { registerFleet } from './commands/fleet.js';
import { registerDemo } from './commands/demo.js';
import { registerPack } from './commands/pack.js';
import { registerReplay } from './commands/replay.js';
import { registerDashboard } from './commands/dashboard.js';
import { registerRollout } from './commands/rollout.js';
import { loadWorldPluginsFor } from './world-plugins.js';

const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export function buildProgram(): Command {
  const program = new Command('fleetmind')
    .description('Multi-agent RL from central training to the robot: worlds, training, ONNX bundles, edge runtime, fault-injecting fleet simulation.')
    .version(version)
    .option('--verbose', 'print stack traces with errors')
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({ outputError: (message, write) => write(`fleetmind: ${message}`) })
    .enablePositionalOptions()
    // a subcommand's help shows its own options: the parent's (and --verbose, --version) are in `fleetmind --help`
    .configureHelp({ showGlobalOptions: false })
    .addHelpText('after', '\nExamples:\n  $ fleetmind worlds\n  $ fleetmind eval --world simple_spread --policy scripted\n  $ fleetmind <command> --help')
    // world plugins (--world ./my-world.js, or the one a run or bundle was made with) load first
    .hook('preAction', (_program, command) => loadWorldPluginsFor(command));
  registerDemo(program);
  registerWorlds(program);
  registerEnvCheck(program);
  registerTrain(program);
  registerEval(program);
  registerExport(program);
  registerBundle(program);
  program.addCommand(brokerCommand());
  program.addCommand(agentCommand());
  registerSim(program);
  registerFleet(program);
  registerRollout(program);
  registerReplay(program);
  registerDashboard(program);
  registerPack(program);
  registerBench(program);
  return program;
}
