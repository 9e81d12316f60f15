#!/usr/bin/env -S node --max-semi-space-size=1 --single-threaded
// fleetmind-agent: the runtime's own command, for devices that install only @fleetmind/runtime.
// The V8 flags above trade nothing an agent needs for ~15 MiB of resident memory: an agent
// allocates little per tick, so 1 MiB young-generation semi-spaces (default 16) suffice, and one
// thread is what a small edge CPU gives it anyway (measured by `fleetmind bench runtime`).

import { readFileSync } from 'node:fs';
import { CommanderError } from 'commander';
import { agentCommand } from './agent-command.js';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
const command = agentCommand('fleetmind-agent').version(version, '-V, --version', 'print the runtime\'s version').exitOverride();
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
  // nothing half-started may keep the process alive after a failure: a supervisor must see the exit
  if (process.exitCode) process.exit();
}
