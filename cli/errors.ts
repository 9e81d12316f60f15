// How the CLI fails: one clear line on stderr and a non-zero exit; the stack only with --verbose.

/** Exit status: 1 when work ran and failed (a mismatch, a crash), 2 for bad arguments or input. */
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = EXIT_USAGE) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

export function reportError(err: unknown, verbose: boolean): number {
  const e = err instanceof Error ? err : new Error(String(err));
  const code = (e as { code?: unknown }).code;
  const tag = typeof code === 'string' && code.startsWith('FM_ERR') ? ` [${code}]` : '';
  process.stderr.write(`fleetmind: error: ${e.message}${tag}\n`);
  if (verbose && e.stack) process.stderr.write(`${e.stack}\n`);
  else if (!(e instanceof CliError) && !tag) process.stderr.write('(run with --verbose for details)\n');
  return e instanceof CliError ? e.exitCode : (tag ? EXIT_USAGE : EXIT_FAILED);
}
