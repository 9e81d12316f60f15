// `fleetmind replay`: a flight recording's inputs through a bundle again, tick by tick. With
// the recorded bundle every action must be the same (exit 1 otherwise: the runtime was not
// deterministic, or the recording is damaged); with another bundle it reports how often the new
// policy agrees with what the robot did — shadow evaluation on field data.

import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { ReplayReport } from '@fleetmind/runtime';
import { CliError, EXIT_FAILED } from '../errors.js';
import { printJson, printTable } from '../output.js';

interface ReplayOptions {
  bundle?: string;
  json?: boolean;
}

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description('replay flight recordings (`fleetmind agent --record`, `fleetmind sim --record`) through a bundle and report every tick whose action differs: the recorded bundle (verified by sha256) must give the same actions; another bundle gives its agreement with what the robot did')
    .argument('<paths...>', 'recording files (.mcap), or folders of them')
    .option('--bundle <dir>', 'replay through this bundle instead of the recorded one (shadow evaluation)')
    .option('--json', 'print one report per recording: {recording, agent, bundle, ticks, compared, identical, agreement, differences, skipped, truncated}')
    .addHelpText('after', '\nExit status: 0 when the recorded bundle gives the same actions (or another bundle was given), 1 when it does not, 2 for bad input.\n\nExamples:\n  $ fleetmind replay /var/log/fleetmind/agent_0-2026-11-29T10-00-00-000Z-0000.mcap\n  $ fleetmind replay runs/sim-record --bundle models/zoo/spread-commnet')
    .action(async (paths: string[], opts: ReplayOptions) => {
      const { readRecording, replayRecording } = await import('@fleetmind/runtime');
      const files = paths.flatMap(recordingFiles);
      if (files.length === 0) throw new CliError(`no .mcap recordings in ${paths.join(', ')}`);
      const reports: ReplayReport[] = [];
      for (const file of files) {
        const recording = await readRecording(file);
        if (recording.ticks.length === 0) continue; // the world's ground truth, or an agent that never ticked
        reports.push(await replayRecording(recording, opts.bundle));
      }
      if (reports.length === 0) throw new CliError(`no agent ticks in ${files.join(', ')}`);
      if (opts.json) printJson(reports);
      else printReports(reports);
      const broken = reports.filter((r) => r.bundle.recorded && r.differences.length > 0);
      if (broken.length > 0) {
        process.stderr.write(`fleetmind: the recorded bundle gave different actions in ${broken.map((r) => r.recording).join(', ')}\n`);
        process.exitCode = EXIT_FAILED;
      }
    });
}

function recordingFiles(path: string): string[] {
  let stats;
  try {
    stats = statSync(path);
  } catch {
    throw new CliError(`${path}: no such file or folder`);
  }
  if (!stats.isDirectory()) return [path];
  return readdirSync(path).filter((name) => name.endsWith('.mcap')).sort().map((name) => join(path, name));
}

function printReports(reports: ReplayReport[]): void {
  printTable(['recording', 'agent', 'bundle', 'ticks', 'compared', 'identical', 'agreement'], reports.map((r) => [
    r.recording + (r.truncated ? ' (cut short)' : ''), r.agent, `${r.bundle.name} ${r.bundle.version}${r.bundle.recorded ? ' (recorded)' : ''}`,
    r.ticks, r.compared, r.identical, `${(r.agreement * 100).toFixed(1)} %`,
  ]));
  for (const r of reports) {
    for (const [reason, n] of Object.entries(r.skipped)) process.stdout.write(`${r.agent}: ${n} ticks not compared: ${reason}\n`);
    const shown = r.differences.slice(0, 20);
    for (const d of shown) process.stdout.write(`${r.agent}: tick ${d.tick}: recorded action ${d.recorded}, replayed ${d.replayed} (${d.path})\n`);
    if (r.differences.length > shown.length) process.stdout.write(`${r.agent}: … and ${r.differences.length - shown.length} more differing ticks (--json lists them all)\n`);
  }
}
