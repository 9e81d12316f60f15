// The README's commands cannot rot: every block marked `sh readme-test` runs here as written
// (`npx fleetmind` → the built CLI), from the repository root; blocks marked
// `sh readme-test background` are long-running services, started and checked to come up.
// Nor can its outputs drift: a `text readme-output` block right after a command block (or
// `text readme-output demo`, for `npm run demo`) must be what the commands print, line by line and
// figure by figure — exactly, since lockstep runs and training are deterministic — except the
// wall-clock figures (ms, seconds, steps/s) and the export's parity (last-digit rounding of two
// runtimes), whose lines must still be printed.

import t from 'tap';
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CLI_MAIN, REPO_ROOT } from '../helpers/paths.js';
import { runCli } from '../helpers/cli.js';

const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
const fenced = [...readme.matchAll(/```([^\n]*)\n([\s\S]*?)```/g)].map((m) => ({ info: m[1].trim(), body: m[2] }));
const blocks = fenced.flatMap((b, i) => {
  const m = /^sh readme-test( background)?$/.exec(b.info);
  if (!m) return [];
  const next = fenced[i + 1];
  return [{ background: Boolean(m[1]), lines: b.body.trim().split('\n'), output: next?.info === 'text readme-output' ? next.body : null }];
});
const demoOutput = fenced.find((b) => b.info === 'text readme-output demo')?.body ?? null;

const NUMBER = /-?\d[\d,]*(\.\d+)?(e[-+]?\d+)?/g;
const shape = (line: string) => line.replace(NUMBER, '#').replace(/\s+/g, ' ').trim();
const UNREPRODUCIBLE = /\bms\b|\(\d+(\.\d+)? s\)|steps\/s|tick p\d\d|parity max/;

/** What of the README's output block the actual output does not print, as it says it. */
export function outputDrift(expected: string, actual: string): string[] {
  const lines = actual.split('\n').filter((l) => l.trim());
  const used = new Set<number>();
  const drift: string[] = [];
  for (const line of expected.split('\n').filter((l) => l.trim() && !l.startsWith('$ '))) {
    const k = lines.findIndex((l, i) => !used.has(i) && shape(l) === shape(line));
    if (k < 0) { drift.push(`not printed: ${line.trim()}`); continue; }
    used.add(k);
    if (UNREPRODUCIBLE.test(line)) continue;
    const want = line.match(NUMBER) ?? [];
    const got = lines[k].match(NUMBER) ?? [];
    if (want.join(' ') !== got.join(' ')) drift.push(`README: ${line.trim()}\n  now:  ${lines[k].trim()}`);
  }
  return drift;
}

/** "npx fleetmind a --b 'c d'" → ['a', '--b', 'c d'] */
function args(line: string): string[] {
  if (!line.startsWith('npx fleetmind ')) throw new Error(`README test lines must start with "npx fleetmind": ${line}`);
  return [...line.slice('npx fleetmind '.length).matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]);
}

const clean = () => rmSync(join(REPO_ROOT, 'runs', 'readme'), { recursive: true, force: true });
clean(); // the walk-through starts from nothing, as a new user does
t.teardown(clean);

t.test('the README has walk-through commands to run', (t) => {
  t.ok(blocks.filter((b) => !b.background).length >= 2);
  t.ok(blocks.some((b) => b.background));
  t.end();
});

for (const block of blocks.filter((b) => !b.background)) {
  let printed = '';
  for (const line of block.lines) {
    t.test(`README: ${line}`, (t) => {
      const r = runCli(args(line));
      t.equal(r.code, 0, r.stderr);
      printed += r.stdout;
      t.end();
    });
  }
  if (block.output !== null) {
    t.test(`README: the output of ${block.lines[0]}${block.lines.length > 1 ? ' …' : ''} is what it prints`, (t) => {
      t.same(outputDrift(block.output!, printed), [], 'no drift');
      t.end();
    });
  }
}

t.test('README: the demo prints what the quickstart shows', (t) => {
  t.ok(demoOutput, 'the quickstart shows the demo\'s output');
  const r = runCli(['demo']);
  t.equal(r.code, 0, r.stderr);
  t.same(outputDrift(demoOutput!, r.stdout), [], 'no drift');
  t.end();
});

t.test('the drift check notices a changed figure, a missing line, and not the clock', (t) => {
  const readmeSays = 'team return (mean)   -45.888   -47.221\ntick p50 / p99 ms   1.397 / 7.519\nwrote runs/x.json';
  t.same(outputDrift(readmeSays, 'team return (mean)   -45.888   -47.221\ntick p50 / p99 ms   9.1 / 30.2\nwrote runs/x.json'), []);
  t.match(outputDrift(readmeSays, 'team return (mean)   -45.888   -47.5\ntick p50 / p99 ms   1 / 2\nwrote runs/x.json'), [/README: team return .*\n  now: .*-47\.5/]);
  t.match(outputDrift(readmeSays, 'team return (mean)   -45.888   -47.221\ntick p50 / p99 ms   1 / 2'), [/not printed: wrote runs\/x\.json/]);
  t.end();
});

t.test('README: the broker and the agent come up as written, and stop cleanly on SIGTERM', async (t) => {
  const services = blocks.filter((b) => b.background).flatMap((b) => b.lines);
  const children = [];
  for (const line of services) {
    const child = spawn(process.execPath, [CLI_MAIN, ...args(line)], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (d) => { log += d; });
    child.stderr.on('data', (d) => { log += d; });
    const up = await new Promise<boolean>((resolve) => {
      const timer = setInterval(() => { if (/listening|agent started/.test(log)) { clearInterval(timer); resolve(true); } }, 50);
      child.once('exit', () => { clearInterval(timer); resolve(false); });
      setTimeout(() => { clearInterval(timer); resolve(false); }, 20_000);
    });
    t.ok(up, `${line}: up (${log.split('\n').slice(0, 2).join(' | ')})`);
    children.push({ child, line });
  }
  for (const { child, line } of children.reverse()) {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    t.equal(await exited, 0, `${line}: exits 0 on SIGTERM`);
  }
});
