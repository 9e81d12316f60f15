// The README's "Rolling out a new policy" block, run as written: the lines ending in `&` are
// services (a broker and three agents with --bundle-store), the others commands that must exit 0.
// Then the fleet must do what the README says: every agent stages the zoo's bundle, and after the
// rollback every agent holds only the bundle it runs.

import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CLI_MAIN, REPO_ROOT } from '../helpers/paths.js';
import { runCli } from '../helpers/cli.js';
import { until } from '../helpers/waiting.js';

const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
const block = /```sh readme-rollout\n([\s\S]*?)```/.exec(readme);
const words = (line: string) => [...line.slice('npx fleetmind '.length).matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]);
// its own folder: the walk-through's test (readme.test.ts) cleans runs/readme while this one runs
const clean = () => rmSync(join(REPO_ROOT, 'runs', 'rollout'), { recursive: true, force: true });

t.test('the README rolls a bundle out to a fleet and back, as written', async (t) => {
  t.ok(block, 'the README has a readme-rollout block');
  const lines = block![1].trim().split('\n');
  clean();
  t.teardown(clean);
  const services: { child: ChildProcess; line: string }[] = [];
  t.teardown(() => services.forEach(({ child }) => child.kill('SIGKILL')));
  const broker = lines.find((l) => l.includes(' broker '))!;
  const url = /--port (\d+)/.exec(broker)![1];
  const status = () => {
    const r = runCli(['rollout', 'status', '--broker', `mqtt://127.0.0.1:${url}`, '--fleet', 'lab', '--json', '--wait-ms', '300']);
    return JSON.parse(r.stdout) as { agents: { agent: string; state: string; running: { name: string }; staged: { name: string } | null }[] };
  };
  for (const line of lines) {
    if (line.endsWith(' &')) {
      const child = spawn(process.execPath, [CLI_MAIN, ...words(line.slice(0, -2))], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let log = '';
      child.stdout!.on('data', (d) => { log += d; });
      child.stderr!.on('data', (d) => { log += d; });
      services.push({ child, line });
      let exited: number | null = null;
      child.once('exit', (code) => { exited = code ?? -1; });
      await until(() => /listening|agent started/.test(log) || exited !== null, `${line} comes up`, 30_000);
      t.ok(/listening|agent started/.test(log), `${line}: up (${exited === null ? 'running' : `exited ${exited}`}: ${log.slice(0, 300)})`);
      continue;
    }
    // the operator learns what the fleet runs from the agents' reports: wait until all three have reported
    if (line.includes('rollout start')) await until(() => status().agents.length === 3, 'the three agents report what they run', 30_000);
    const r = runCli(words(line));
    t.equal(r.code, 0, `${line}: ${r.stderr}`);
    if (line.includes('rollout start')) {
      t.match(r.stdout, /published spread-commnet 1\.0\.0 \([0-9a-f]{12}\): \d+ bytes in \d+ chunks/);
      await until(() => status().agents.every((a) => a.state === 'staged' && a.staged?.name === 'spread-commnet'), 'every agent staged the zoo bundle', 30_000);
    }
    if (line.includes('rollout status')) t.match(r.stdout, /plan to-zoo: offers spread-commnet 1\.0\.0/);
  }
  await until(() => status().agents.every((a) => a.state === 'idle' && a.staged === null && a.running.name === 'simple-spread-mappo-commnet'), 'after the rollback every agent runs its bundle with nothing staged', 30_000);
  for (const { child, line } of services.reverse()) {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    t.equal(await exited, 0, `${line}: exits 0 on SIGTERM`);
  }
  services.length = 0;
});
