// The README's commands cannot rot: every block marked `sh readme-test` runs here as written
// (`npx fleetmind` → the built CLI), from the repository root; blocks marked
// `sh readme-test background` are long-running services, started and checked to come up.

import t from 'tap';
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CLI_MAIN, REPO_ROOT } from '../helpers/paths.js';
import { runCli } from '../helpers/cli.js';

const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/```sh readme-test( background)?\n([\s\S]*?)```/g)].map((m) => ({ background: Boolean(m[1]), lines: m[2].trim().split('\n') }));

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
  for (const line of block.lines) {
    t.test(`README: ${line}`, (t) => {
      const r = runCli(args(line));
      t.equal(r.code, 0, r.stderr);
      t.end();
    });
  }
}

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
