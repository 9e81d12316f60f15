#!/usr/bin/env node
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
