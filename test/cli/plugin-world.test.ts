// A plugin world from the command line, end to end: checked, trained on with continuous actions
// and robots that come and go, evaluated, exported, and run as a fleet of runtime agents that
// plays exactly the evaluator's episodes — asking only the robots in the episode.

import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';

const docking = join('examples', 'worlds', 'docking.js');

t.test('worlds check passes the example and fails a broken plugin with the reason', (t) => {
  const ok = runCli(['worlds', 'check', docking]);
  t.equal(ok.code, 0, ok.stderr);
  t.match(ok.stdout, /OK examples\/worlds\/docking\.js: docking_v0 keeps the world contract/);
  const dir = mkdtempSync(join(tmpdir(), 'fm-plugin-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'broken.mjs'), readFileSync(docking, 'utf8').replace('makeCore: (numEnvs, options)', 'makeCorps: (numEnvs, options)'));
  const bad = runCli(['worlds', 'check', join(dir, 'broken.mjs'), '--json']);
  t.equal(bad.code, 1);
  t.match(JSON.parse(bad.stdout), { pass: false, error: /broken\.mjs: makeCore must be a function/ });
  const train = runCli(['train', '--world', join(dir, 'broken.mjs'), '--steps', '1000']);
  t.equal(train.code, 2, 'train refuses it too, before any work');
  t.match(train.stderr, /world plugin .*broken\.mjs: makeCore must be a function/);
  // learners that would learn from absent agents' zeros, or cannot take a box, are refused up front
  const maddpg = runCli(['train', '--world', docking, '--algo', 'maddpg', '--steps', '1000']);
  t.equal(maddpg.code, 2);
  t.match(maddpg.stderr, /--algo: maddpg does not mask agents that are not in the episode, and docking_v0's agents come and go: use mappo or ippo/);
  const qmix = runCli(['train', '--world', 'simple_spread', '--continuous', '--algo', 'qmix', '--steps', '1000']);
  t.equal(qmix.code, 2);
  t.match(qmix.stderr, /--algo: qmix needs discrete actions; simple_spread_v3 here has continuous ones \(Box of 5\): use mappo, ippo or maddpg/);
  t.end();
});

t.test('train a CommNet on the plugin world, eval, export, and a fleet: it replays eval --bundle and never waits for absent robots', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fm-plugin-run-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const run = join(dir, 'run');
  const trained = runCli(['train', '--world', docking, '--actor', 'commnet', '--steps', '50000', '--seed', '2', '--out', run]);
  t.equal(trained.code, 0, trained.stderr);
  t.match(JSON.parse(readFileSync(join(run, 'config.json'), 'utf8')).config, { world: 'docking_v0', worldModule: /examples\/worlds\/docking\.js$/ });

  // eval --run finds the plugin through the run's config
  const greedy = JSON.parse(runCli(['eval', '--run', run, '--episodes', '100', '--json']).stdout).agent_return_mean;
  const random = JSON.parse(runCli(['eval', '--world', docking, '--policy', 'random', '--episodes', '100', '--json']).stdout).agent_return_mean;
  t.ok(greedy > random + 15, `trained ${greedy.toFixed(2)} vs random ${random.toFixed(2)} per robot (100 episodes, same seeds)`);

  const bundle = join(dir, 'bundle');
  const exported = runCli(['export', '--run', run, '--out', bundle, '--episodes', '20']);
  t.equal(exported.code, 0, exported.stderr);
  const manifest = JSON.parse(readFileSync(join(bundle, 'manifest.json'), 'utf8'));
  t.match(manifest, { world: { id: 'docking_v0', module: /docking\.js$/ }, roles: [{ action: { kind: 'continuous', size: 2, low: [-1, -1], high: [1, 1] }, safe_action: [0, 0] }] });

  const evaluated = JSON.parse(runCli(['eval', '--bundle', bundle, '--episodes', '8', '--json']).stdout);
  const sim = runCli(['sim', '--bundle', bundle, '--episodes', '8', '--json']);
  t.equal(sim.code, 0, sim.stderr);
  const fleet = JSON.parse(sim.stdout);
  t.same(fleet.episode_team_returns, evaluated.episode_team_returns, 'the fleet plays eval\'s episodes exactly');
  t.equal(fleet.missing_actions, 0, 'no robot in the episode was missed');
  const agentTicks = fleet.tiers.full + fleet.tiers.partial + fleet.tiers.none + fleet.tiers.safe;
  t.equal(fleet.asked_actions, agentTicks, 'every robot asked answered');
  t.equal(fleet.agent_counters.deadlineMisses, 0, 'no round waited for a robot not in the episode');
  t.same(fleet.agent_counters.messages.dropped, {}, 'a robot back from standby takes its peers\' messages for the tick it rejoins at');
  t.ok(fleet.asked_actions < 8 * 40 * 4, `robots are asked only while in the episode: ${fleet.asked_actions} of ${8 * 40 * 4} robot-steps`);
  // bundles given once per seed load their plugin world as one bundle does
  const seeds = runCli(['sim', '--bundle', bundle, '--bundle', bundle, '--episodes', '2', '--json']);
  t.equal(seeds.code, 0, seeds.stderr);
  t.same(JSON.parse(seeds.stdout).runs.map((r: { episode_team_returns: number[] }) => r.episode_team_returns), [0, 1].map(() => evaluated.episode_team_returns.slice(0, 2)));
  t.end();
});
