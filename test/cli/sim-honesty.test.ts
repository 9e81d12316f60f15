// Runs that mean nothing do not pass, interruptions leave a partial report and no processes,
// and an agent that cannot start says so with its exit status.

import t from 'tap';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI_MAIN, REPO_ROOT } from '../helpers/paths.js';
import { processesMarked, runCli } from '../helpers/cli.js';
import { until } from '../helpers/waiting.js';

const BUNDLE = join(REPO_ROOT, 'models', 'zoo', 'spread-commnet');
const DEMO_PLAN = join(REPO_ROOT, 'sim-harness', 'faults', 'examples', 'demo.yaml');
const AGENT_BIN = join(REPO_ROOT, 'runtime', 'dist', 'cli', 'bin.js');

const tempDir = (t: { teardown: (fn: () => void) => void }) => {
  const dir = mkdtempSync(join(tmpdir(), 'fm-honest-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
};

t.test('a real-time run faster than the agents answer warns, fails the criterion and exits 1', (t) => {
  const r = runCli(['sim', '--bundle', BUNDLE, '--episodes', '1', '--hz', '100000', '--json']);
  t.equal(r.code, 1, 'exit 1: the run measured nothing');
  t.match(r.stderr, /warning: 100\.0 % of the actions asked for in the nominal run came too late \(75 of 75\): --hz 100000 is faster than the agents can answer/);
  const out = JSON.parse(r.stdout);
  t.equal(out.late_actions, 75, 'every action of 3 agents × 25 ticks');
  t.match(out.checklist.find((c: { criterion: string }) => c.criterion.startsWith('Actions in time')), { passed: false, measured: /^0\.0 % nominal/ });
  t.end();
});

t.test('a plan that cannot strike is refused before anything runs, naming the fault', (t) => {
  const dir = tempDir(t);
  const cases: [string, RegExp][] = [
    ['faults: [{kind: crash, agents: [agent_1], window: {ticks: [100, 200]}}]', /faults\[0\] \(crash\): its window ticks \[100, 200\) never opens: an episode of simple_spread_v3 lasts at most 25 ticks/],
    ['faults: [{kind: drop, p: 0.1}, {kind: freeze, window: {episodes: [5, 6]}}]', /faults\[1\] \(freeze\): its window episodes \[5, 6\) never opens: the run plays 2 episodes \(0-1\); raise --episodes/],
    ['faults: [{kind: crash, agents: [agent_9]}]', /the fault plan names agents not in the fleet: agent_9 \(the fleet: agent_0, agent_1, agent_2\)/],
    ['faults: [{kind: drop, prob: 0.3}]', /faults\[0\]: unknown key "prob"; a drop fault takes kind, p, links, window/],
  ];
  for (const [text, message] of cases) {
    const plan = join(dir, 'plan.yaml');
    writeFileSync(plan, text);
    const r = runCli(['sim', '--bundle', BUNDLE, '--episodes', '2', '--faults', plan]);
    t.equal(r.code, 2, `bad input exits 2: ${text}`);
    t.match(r.stderr, message);
    t.notMatch(r.stdout, /team return/, 'nothing ran');
  }
  t.end();
});

t.test('--fail-under and --require-criteria gate a pipeline on the measured figures', (t) => {
  const base = ['sim', '--bundle', BUNDLE, '--episodes', '3', '--faults', DEMO_PLAN];
  const measured = JSON.parse(runCli([...base, '--json']).stdout);
  t.ok(measured.retained_interval[0] <= measured.retained && measured.retained <= measured.retained_interval[1], `the interval ${measured.retained_interval} holds the estimate ${measured.retained}`);
  const above = runCli([...base, '--fail-under', String(Math.max(0, measured.retained - 0.05))]);
  t.equal(above.code, 0, `retained ${measured.retained} above the bar passes: ${above.stderr}`);
  const below = runCli([...base, '--fail-under', String(Math.min(1, measured.retained + 0.05))]);
  t.equal(below.code, 1, 'below the bar exits 1');
  t.match(below.stderr, /fleetmind: sim: retained performance \d+\.\d % is under --fail-under \d+\.\d %/);
  const failing = measured.checklist.filter((c: { passed: boolean | null }) => c.passed === false);
  const gated = runCli([...base, '--require-criteria']);
  t.equal(gated.code, failing.length > 0 ? 1 : 0, `--require-criteria exits by the checklist (${failing.length} failing)`);
  for (const c of failing) t.match(gated.stderr, `criterion not met: ${c.criterion}`);
  t.equal(runCli(['sim', '--bundle', BUNDLE, '--fail-under', '0.9']).code, 2, '--fail-under without a plan is a usage error');
  t.end();
});

t.test('Ctrl-C during a procs-mode sim: a partial report, exit 130, no agent left running', async (t) => {
  const dir = tempDir(t);
  const marker = `sigint-${process.pid}-${Date.now()}`;
  const child = spawn(process.execPath, [CLI_MAIN, 'sim', '--bundle', BUNDLE, '--episodes', '200', '--faults', DEMO_PLAN, '--mode', 'procs', '--report', dir], {
    cwd: REPO_ROOT, env: { ...process.env, FLEETMIND_TEST_MARK: marker }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // in a pipe, the progress line is printed every 5 s: it says when episodes are being played
  await until(() => /nominal: episode \d+\/200/.test(stderr), 'the fleet playing episodes', 60_000);
  t.ok(processesMarked(marker).length >= 4, 'the simulator and its three agent processes run');
  child.kill('SIGINT');
  t.equal(await exited, 130, 'exit 130, as interrupted commands do');
  t.match(stderr, /interrupted: finishing the episode in progress/);
  t.match(stderr, /partial run: interrupted after \d+\/200 nominal and 0\/200 faulted episodes/);
  t.match(stdout, /wrote .*report\.json/);
  const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
  t.equal(report.partial, true, 'the report says it is partial');
  t.ok(report.nominal.episodes >= 1 && report.nominal.episodes < 200, `${report.nominal.episodes} whole episodes reported`);
  t.equal(report.nominal.episode_team_returns.length, report.nominal.episodes);
  await until(() => processesMarked(marker).length === 0, 'every agent process gone', 10_000);
  t.pass('no process of the run is left');
});

t.test('an agent that cannot start (its metrics port taken) exits non-zero at once', async (t) => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  t.teardown(() => blocker.close());
  const port = (blocker.address() as { port: number }).port;
  const child = spawn(process.execPath, [AGENT_BIN, '--bundle', join(REPO_ROOT, 'models', 'zoo', 'spread-mlp'), '--agent', 'agent_0', '--broker', 'mqtt://127.0.0.1:1', '--metrics-port', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  t.not(code, 0, `exit status ${code}`);
  t.match(stderr, /EADDRINUSE|in use/, 'the error is said');
});

t.test('a private key is refused where a public one is expected', (t) => {
  const dir = tempDir(t);
  const keygen = runCli(['bundle', 'keygen', '--out', join(dir, 'op')]);
  t.equal(keygen.code, 0);
  t.match(keygen.stderr, /op\.key never goes to a robot/, 'keygen warns where the private key must not go');
  const signed = join(dir, 'bundle');
  cpSync(BUNDLE, signed, { recursive: true });
  t.equal(runCli(['bundle', 'sign', signed, '--key', join(dir, 'op.key')]).code, 0);
  t.equal(runCli(['bundle', 'verify', signed, '--trust-key', join(dir, 'op.pub')]).code, 0, 'the public key verifies');
  const r = runCli(['bundle', 'verify', signed, '--trust-key', join(dir, 'op.key')]);
  t.equal(r.code, 2, 'exit 2');
  t.match(r.stderr, /op\.key is a private key: verifiers and robots take the public key/);
  t.end();
});

t.test('counts in scientific notation are accepted', (t) => {
  const r = runCli(['eval', '--bundle', join(REPO_ROOT, 'models', 'zoo', 'spread-mlp'), '--episodes', '1e1', '--json']);
  t.equal(r.code, 0, r.stderr);
  t.equal(JSON.parse(r.stdout).episodes, 10);
  t.equal(runCli(['eval', '--bundle', join(REPO_ROOT, 'models', 'zoo', 'spread-mlp'), '--episodes', '1.5']).code, 2, 'but not fractions');
  t.end();
});
