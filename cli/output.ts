// Printing results: JSON for machines (--json), aligned tables for people.

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printTable(headers: string[], rows: (string | number)[][]): void {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, c) => Math.max(...cells.map((r) => r[c].length)));
  for (const row of cells) process.stdout.write(`${row.map((v, c) => v.padEnd(widths[c])).join('  ').trimEnd()}\n`);
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
