import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { CLI_MAIN, REPO_ROOT } from './paths.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built fleetmind CLI as a user would, from the repository root. */
export function runCli(args: string[], input?: string, env: Record<string, string> = {}): CliResult {
  const r = spawnSync(process.execPath, [CLI_MAIN, ...args], { cwd: REPO_ROOT, encoding: 'utf8', input, timeout: 120_000, env: { ...process.env, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs the CLI with --json-printing arguments and returns what it printed, parsed; a failure throws with its stderr. */
export function runCliJson(args: string[]): any {
  const r = runCli(args);
  if (r.code !== 0) throw new Error(`fleetmind ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/**
 * The processes still alive that carry this environment marker: a command run with the marker
 * passes it to every child, grandchild and orphan it leaves (Linux: /proc/<pid>/environ), so
 * this finds exactly what that command left behind, whatever else runs on the machine.
 */
export function processesMarked(marker: string): number[] {
  const needle = `FLEETMIND_TEST_MARK=${marker}`;
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).flatMap((pid) => {
    try {
      return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(needle) ? [Number(pid)] : [];
    } catch {
      return []; // gone meanwhile, or not ours to read
    }
  });
}
