import t from 'tap';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { REPO_ROOT } from '../helpers/paths.js';
import { runCli } from '../helpers/cli.js';

const BUNDLE = join(REPO_ROOT, 'models', 'zoo', 'spread-commnet');
const EXAMPLES = join(REPO_ROOT, 'sim-harness', 'faults', 'examples');

t.test('fleetmind sim --faults --report: nominal vs faulted, retained, and a self-contained report', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fm-sim-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const r = runCli(['sim', '--bundle', BUNDLE, '--episodes', '3', '--faults', join(EXAMPLES, 'demo.yaml'), '--report', dir, '--json']);
  t.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  t.match(out, { episodes: 3, seed: 0, tiers: { full: Number, partial: Number }, messages: { sent: Number, delivered: Number, dropped: Number }, faults_applied: { drop: Number, crash: Number } });
  t.ok(out.faults_applied.drop > 0 && out.faults_applied.crash >= 2, 'the demo plan dropped messages and crashed (and restarted) an agent');
  t.equal(out.missing_actions, 3 * 10, 'the crashed agent\'s action was held for its ten dead ticks');
  t.ok(out.retained > 0 && out.retained < 1.2, `retained ${out.retained}`);
  const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
  t.equal(report.nominal.episode_team_returns.length, 3);
  t.ok(report.checklist.length >= 3, 'the seed\'s criteria as a checklist');
  const html = readFileSync(join(dir, 'report.html'), 'utf8');
  t.notMatch(html, /(src|href)="https?:/, 'nothing to fetch from the network');
  for (const s of [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)]) new Script(s[1]); // the replay script parses
  const trace = JSON.parse(/<script type="application\/json" id="trace-data">([\s\S]*?)<\/script>/.exec(html)![1]);
  t.equal(trace.trace.length, 3 * 25, 'every tick of the faulted run is in the replay');
  t.ok(trace.trace.some((x: { faults: unknown[] }) => x.faults.length > 0), 'with the faults as they struck');
  t.match(html, /<svg/, 'plots are inline SVG');
  t.end();
});

t.test('fleetmind sim sweep: the robustness curve', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fm-sweep-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const r = runCli(['sim', 'sweep', '--bundle', BUNDLE, '--episodes', '2', '--faults', join(EXAMPLES, 'msg-loss-30.yaml'), '--param', 'faults[0].p', '--values', '0,1', '--report', dir, '--json']);
  t.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  t.same(out.points.map((p: { value: number }) => p.value), [0, 1]);
  t.equal(out.points[0].retained, 1, 'no loss: all of nominal retained (the same episodes exactly)');
  t.equal(out.points[1].tiers.full, 0, 'all lost: no decision with full communication');
  t.ok(existsSync(join(dir, 'sweep.html')));
  const bad = runCli(['sim', 'sweep', '--bundle', BUNDLE, '--faults', join(EXAMPLES, 'msg-loss-30.yaml'), '--param', 'faults[0].p', '--values', '0,x']);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /--values: "x" is not a number/);
  t.end();
});

t.test('fleetmind sim --peer-checks quarantine: the liar is quarantined, and the report says so for each run', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fm-sim-checks-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const r = runCli(['sim', '--bundle', BUNDLE, '--episodes', '2', '--faults', join(EXAMPLES, 'hostile-peer.yaml'), '--peer-checks', 'quarantine', '--report', dir]);
  t.equal(r.code, 0, r.stderr);
  t.match(readFileSync(join(dir, 'report.html'), 'utf8'), /peers quarantined<\/td><td>0<\/td><td>[2-9]/, 'the report\'s communication table says who was quarantined');
  t.match(r.stdout, /peer checks \(nominal\): 0 of 300 peer messages inconsistent and left out; 0 quarantined/);
  const faulted = /peer checks \(faulted\): (\d+) of 300 peer messages inconsistent and left out; (\d+) quarantined/.exec(r.stdout);
  t.ok(faulted && Number(faulted[1]) >= 100 && Number(faulted[2]) >= 2, r.stdout);
  const bad = runCli(['sim', '--bundle', BUNDLE, '--episodes', '1', '--peer-checks', 'maybe']);
  t.not(bad.code, 0);
  t.match(bad.stderr, /maybe/);
  t.match(bad.stderr, /--peer-checks/);
  t.end();
});

t.test('fleetmind sim --bundle A --bundle B: bundles of several seeds play the same episodes, each figure summarised over them', (t) => {
  const mlp = join(REPO_ROOT, 'models', 'zoo', 'spread-mlp');
  const dir = mkdtempSync(join(tmpdir(), 'fm-sim-seeds-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const marlEval = join(dir, 'results.json');
  const args = ['--episodes', '2', '--seed', '3', '--faults', join(EXAMPLES, 'hostile-peer.yaml'), '--peer-checks', 'quarantine', '--json'];
  const r = runCli(['sim', '--bundle', BUNDLE, '--bundle', mlp, ...args, '--marl-eval', marlEval]);
  t.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  t.same(out.bundles, [BUNDLE, mlp]);
  t.match(out, { world: 'simple_spread_v3', task: 'default', algorithm: 'spread-commnet@hostile-peer+peer-checks' });
  const metric = (name: string) => out.summaries.find((s: { metric: string }) => s.metric === name);
  t.same(out.summaries.map((s: { metric: string }) => s.metric), ['return', 'success', 'messages_per_agent_tick', 'return_faulted', 'success_faulted', 'retained', 'peer_messages_left_out']);
  // each bundle's figures are what it gives alone
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  for (const [k, bundle] of [BUNDLE, mlp].entries()) {
    const alone = JSON.parse(runCli(['sim', '--bundle', bundle, ...args]).stdout);
    t.same(out.runs[k].episode_team_returns, alone.episode_team_returns, `${bundle}: the same faulted episodes as alone`);
    t.equal(metric('retained').run_means[k], alone.retained);
    t.equal(metric('return').run_means[k], mean(alone.nominal.episode_team_returns));
    t.equal(metric('return_faulted').run_means[k], mean(alone.episode_team_returns));
  }
  // the raw data, in marl-eval's layout: each bundle a run, its episodes' returns, its training steps
  const raw = JSON.parse(readFileSync(marlEval, 'utf8'));
  const runs = raw.simple_spread_v3.default['spread-commnet@hostile-peer+peer-checks'];
  t.same(Object.keys(runs), ['run_1', 'run_2']);
  t.same(runs.run_1.absolute_metrics.return_faulted, out.runs[0].episode_team_returns);
  t.equal(runs.run_1.step_1.step_count, JSON.parse(readFileSync(join(BUNDLE, 'manifest.json'), 'utf8')).provenance.env_steps);
  const again = runCli(['sim', '--bundle', BUNDLE, '--bundle', mlp, ...args, '--marl-eval', marlEval]);
  t.equal(again.code, 2, 'the same algorithm twice in one file is refused');
  t.match(again.stderr, /--marl-eval .*results\.json: simple_spread_v3 \/ default \/ spread-commnet@hostile-peer\+peer-checks is already in the file/);
  // refused before any bundle plays: with no broker at that address, playing would have failed on connecting first
  const early = runCli(['sim', '--bundle', BUNDLE, '--bundle', mlp, ...args, '--broker', 'mqtt://127.0.0.1:9', '--marl-eval', marlEval]);
  t.equal(early.code, 2);
  t.match(early.stderr, /is already in the file/);
  const one = runCli(['sim', '--bundle', BUNDLE, '--episodes', '1', '--marl-eval', marlEval]);
  t.equal(one.code, 2);
  t.match(one.stderr, /--marl-eval: with --bundle repeated \(one bundle per training seed\)/);
  t.same(metric('messages_per_agent_tick').run_means, [2, 0], 'the CommNet speaks twice a tick, the MLP never');
  t.ok(metric('peer_messages_left_out').run_means[0] > 0, 'the liar\'s messages were left out of the CommNet\'s rounds');
  const retained = metric('retained');
  t.equal(retained.runs, 2);
  t.equal(retained.iqm, mean(retained.run_means), 'of two, the IQM is the mean');
  t.ok(retained.ci95[0] <= retained.iqm && retained.iqm <= retained.ci95[1]);

  const tag = join(REPO_ROOT, 'models', 'zoo', 'tag-mlp');
  for (const [extra, message] of [
    [['--bundle', tag], /--bundle: bundles summarised together play one world with one fleet; .*spread-commnet plays simple_spread_v3 .* and .*tag-mlp simple_tag_v3/],
    [['--bundle', mlp, '--report', join(tmpdir(), 'never')], /--bundle is given 2 times: --report takes one bundle/],
  ] as const) {
    const bad = runCli(['sim', '--bundle', BUNDLE, ...extra, '--episodes', '1']);
    t.equal(bad.code, 2, bad.stderr);
    t.match(bad.stderr, message);
  }
  const sweep = runCli(['sim', 'sweep', '--bundle', BUNDLE, '--bundle', mlp, '--faults', join(EXAMPLES, 'msg-loss-30.yaml'), '--param', 'faults[0].p', '--values', '0,1']);
  t.equal(sweep.code, 2);
  t.match(sweep.stderr, /--bundle is given 2 times: a sweep takes one bundle/);
  t.end();
});
