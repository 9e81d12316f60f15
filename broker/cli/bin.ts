#!/usr/bin/env node
// fleetmind-broker: the broker's own command, for gateways that install only @fleetmind/broker.
// Exit status: 0 done, 2 bad arguments or input, 1 anything else.

import { CommanderError } from 'commander';
import { brokerCommand } from './broker-command.js';

const command = brokerCommand('fleetmind-broker').exitOverride();
try {
  await command.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exitCode = err.exitCode === 0 ? 0 : 2;
  else {
    const e = err as Error & { code?: unknown };
    const tagged = typeof e.code === 'string' && e.code.startsWith('FM_ERR');
    process.stderr.write(`fleetmind-broker: error: ${e.message}${tagged ? ` [${e.code}]` : ''}\n`);
    if (process.argv.includes('--verbose') && e.stack) process.stderr.write(`${e.stack}\n`);
    process.exitCode = tagged ? 2 : 1;
  }
}
