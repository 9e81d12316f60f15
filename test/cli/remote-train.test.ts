// Training against a simulator in another language: MAPPO learns rendezvous_v0 served by the
// Python reference server (examples/remote/rendezvous.py, standard library only) over a socket
// and beats random play clearly on the same episodes; a simulator that dies mid-run leaves a
// checkpoint and a message saying how to resume, and the run resumes once it is back.

import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI_MAIN, REPO_ROOT } from '../helpers/paths.js';
import { runCli } from '../helpers/cli.js';
import { servePythonRendezvous } from '../helpers/simulators.js';
import { until } from '../helpers/waiting.js';

const dir = mkdtempSync(join(tmpdir(), 'fm-remote-train-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

function agentReturn(args: string[]): number {
  const r = runCli(['eval', ...args, '--episodes', '200', '--seed', '3', '--json']);
  if (r.code !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout).agent_return_mean;
}

t.test('MAPPO trains over the socket on the Python server and beats random play clearly', async (t) => {
  const server = await servePythonRendezvous();
  t.teardown(() => server.kill());
  const world = `remote:${server.url}`;
  const check = runCli(['env', 'check', '--world', world]);
  t.equal(check.code, 0, check.stderr);
  t.match(check.stdout, `PASS ${world}: keeps the world contract`, 'a vendor checks its server against the contract from the CLI');
  const listed = runCli(['worlds', '--world', world, '--json']);
  t.equal(listed.code, 0, listed.stderr);
  const [described] = JSON.parse(listed.stdout);
  t.same([described.id, described.remote, described.agents.length, described.agents[0].action_space], ['rendezvous_v0', world, 3, { kind: 'discrete', n: 5 }], 'fleetmind worlds describes what the simulator serves');
  const out = join(dir, 'run');
  const train = runCli(['train', '--world', world, '--envs', '64', '--steps', '100000', '--seed', '1', '--out', out]);
  t.equal(train.code, 0, train.stderr);
  t.match(train.stdout, /trained 1\d\d,\d\d\d env steps/);
  t.equal(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).config.world, world, 'the run records the address: eval and --resume find the simulator there');
  const trained = agentReturn(['--run', out]);
  const random = agentReturn(['--world', world, '--policy', 'random']);
  t.ok(trained > random / 2, `trained ${trained.toFixed(2)} vs random ${random.toFixed(2)} per robot over the same 200 episodes: less than half random's distance`);
});

t.test('a simulator that dies mid-run: the checkpoint is saved, the message says how to resume, and --resume continues once it is back', async (t) => {
  let server = await servePythonRendezvous();
  const world = `remote:${server.url}`;
  const out = join(dir, 'interrupted');
  const child = spawn(process.execPath, [CLI_MAIN, 'train', '--world', world, '--envs', '32', '--steps', '50000000', '--out', out], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  // it has trained a while once metrics are written
  await until(() => existsSync(join(out, 'metrics.jsonl')) && readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').length >= 2, 'the run has logged two updates', 60_000);
  await server.kill();
  t.equal(await exited, 1, 'the run exits with a failure');
  t.match(stderr, new RegExp(`the simulator at ${server.url.replace(/[.]/g, '\\.')} is gone: the simulator closed the connection \\(during STEP\\); the run's checkpoint \\([\\d,]+ env steps\\) is saved in ${out.replace(/[.]/g, '\\.')}: start the simulator again and continue with \`fleetmind train --out ${out.replace(/[.]/g, '\\.')} --resume\``));
  const saved = JSON.parse(readFileSync(join(out, 'checkpoint.json'), 'utf8')).envSteps as number;
  const lastUpdate = JSON.parse(readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').at(-1)!)['global/env_steps'];
  t.ok(saved > 0, `the checkpoint holds ${saved} env steps`);
  t.equal(saved, lastUpdate, 'those of the last update (the rollout the simulator interrupted is dropped)');

  // the simulator comes back on the same port; the run continues from its checkpoint
  const port = server.url.split(':').pop();
  server = await servePythonRendezvous(`tcp://127.0.0.1:${port}`);
  t.teardown(() => server.kill());
  const resumed = runCli(['train', '--out', out, '--resume', '--steps', String(saved + 32 * 100)]);
  t.equal(resumed.code, 0, resumed.stderr);
  t.match(resumed.stderr, `resuming ${out} at ${saved.toLocaleString('en-US')} env steps`);
});
