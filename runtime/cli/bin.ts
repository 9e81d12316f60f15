#!/usr/bin/env node
// fleetmind-agent: the runtime's own command, for devices that install only @fleetmind/runtime.

import { CommanderError } from 'commander';
import { agentCommand } from './agent-command.js';

const command = agentCommand('fleetmind-agent').exitOverride();
try {
  await command.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exitCode = err.exitCode === 0 ? 0 : 2;
  else {
    const e = err as Error & { code?: unknown };
    const tagged = typeof e.code === 'string' && e.code.startsWith('FM_ERR');
    process.stderr.write(`fleetmind-agent: error: ${e.message}${tagged ? ` [${e.code}]` : ''}\n`);
    if (process.argv.includes('--verbose') && e.stack) process.stderr.write(`${e.stack}\n`);
    process.exitCode = tagged ? 2 : 1;
  }
}
