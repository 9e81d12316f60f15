// Printing results: JSON for machines (--json), aligned tables for people.

import type { MetricSummary } from '@fleetmind/worlds';

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printTable(headers: string[], rows: (string | number)[][]): void {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, c) => Math.max(...cells.map((r) => r[c].length)));
  for (const row of cells) process.stdout.write(`${row.map((v, c) => v.padEnd(widths[c])).join('  ').trimEnd()}\n`);
}

/** Figures summarised over runs (seeds): each metric's IQM, its 95 % interval, and each run's figure under `perRun`. */
export function printSummaries(summaries: readonly MetricSummary[], perRun: string): void {
  const figure = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(1) : x.toFixed(3));
  printTable(['metric', 'IQM', '95 % CI', perRun], summaries.map((s) => [
    s.metric, figure(s.iqm), `${figure(s.ci95[0])} to ${figure(s.ci95[1])}`, s.run_means.map(figure).join(' '),
  ]));
}

/**
 * A progress line for long work: rewritten in place on a terminal; in a file or a pipe (a CI
 * log), a plain line at most every 5 s, so long work is visibly alive without flooding the log.
 * Call it with '' to clear the line when the work is done.
 */
export function progressLine(enabled = true): (line: string) => void {
  if (!enabled) return () => {};
  if (process.stderr.isTTY) return (line) => process.stderr.write(`\r\x1b[K${line}`);
  let last = performance.now();
  return (line) => {
    if (line === '' || performance.now() - last < 5_000) return;
    last = performance.now();
    process.stderr.write(`${line}\n`);
  };
}
