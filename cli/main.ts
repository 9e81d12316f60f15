#!/usr/bin/env -S node --max-semi-space-size=64
// (The flag: a process running hundreds of agents, or a simulator, allocates a little at every
// message of every agent; young-generation semi-spaces of up to 64 MiB instead of V8's 16 cut the
// collector's share, about a tenth of the CPU per decision of a 1,000-agent fleet (README, Scaling
// out). A process cannot set it for itself once started, so the executable asks for it;
// `node cli/dist/main.js` runs without it. The shard processes of `sim --shards` get it too:
// sim-harness/fleet/fleet-shards.ts.)
import { CommanderError } from 'commander';
import { buildProgram } from './program.js';
import { EXIT_USAGE, reportError } from './errors.js';

// `fleetmind … | head` closes the pipe early: that is the reader's choice, not an error
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

const program = buildProgram();
program.exitOverride();
const overrideExits = (cmd: typeof program): void => {
  cmd.exitOverride();
  cmd.commands.forEach(overrideExits);
};
overrideExits(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // commander already printed its message (or the help / version)
    process.exitCode = err.exitCode === 0 ? 0 : EXIT_USAGE;
  } else {
    process.exitCode = reportError(err, program.opts<{ verbose?: boolean }>().verbose ?? false);
  }
}
