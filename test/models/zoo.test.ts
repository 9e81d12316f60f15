import t from 'tap';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadBundle } from '@fleetmind/models';
import { evaluateControllerAsync, makeWorld } from '@fleetmind/worlds';
import { bundleController } from '@fleetmind/trainer/bundle-controller';
import { REPO_ROOT } from '../helpers/paths.js';
import { runCli } from '../helpers/cli.js';

const ZOO = join(REPO_ROOT, 'models', 'zoo');
const bundles = readdirSync(ZOO, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);

t.test('the zoo holds the bundles the demo and the tests rely on', (t) => {
  t.same(bundles.sort(), ['grid-qmix', 'junction-easy-commnet', 'junction-easy-tarmac', 'junction-easy-tarmac-gated', 'junction-medium-commnet', 'junction-medium-commnet-gated', 'pong-mlp', 'spread-commnet', 'spread-continuous-mlp', 'spread-gru', 'spread-mlp', 'tag-mlp']);
  // a user picks a bundle from the zoo's table: each one is there, with how it was made
  const table = readFileSync(join(ZOO, 'README.md'), 'utf8');
  for (const name of bundles) t.match(table, new RegExp(`^\\| \`${name}\` \\|.*fleetmind train`, 'm'), `${name} has a row in models/zoo/README.md`);
  t.end();
});

const folderBytes = (dir: string): number => readdirSync(dir, { withFileTypes: true })
  .reduce((sum, d) => sum + (d.isDirectory() ? folderBytes(join(dir, d.name)) : statSync(join(dir, d.name)).size), 0);

for (const name of bundles) {
  t.test(`zoo bundle ${name} verifies, is small, says how it was made, and plays to its recorded figures`, async (t) => {
    const dir = join(ZOO, name);
    const bundle = await loadBundle(dir);
    const { manifest } = bundle;
    t.ok(folderBytes(dir) < 1024 * 1024, `${folderBytes(dir)} bytes`);
    t.match(manifest.provenance.train_command, /^fleetmind train --world \S+ /, 'records the exact train command');
    t.ok(manifest.parity.max_abs_error <= 1e-5 && manifest.parity.action_mismatches === 0, 'exported with parity');
    const { episodes, seed } = manifest.evaluation.nominal;
    const world = makeWorld(manifest.world.id, { numEnvs: episodes, autoReset: false, config: manifest.world.config });
    const report = await evaluateControllerAsync(world, bundleController(world, bundle, { quantization: 'f32', seed }), seed);
    t.equal(report.agent_return_mean, manifest.evaluation.nominal.agent_return_mean, 'reproduces the nominal return exactly');
    await bundle.close();
  });
}

t.test('junction-easy-tarmac crosses traffic junction easy safely in more than 99 % of 1,000 episodes with no shield', (t) => {
  const r = runCli(['eval', '--bundle', join(ZOO, 'junction-easy-tarmac'), '--episodes', '1000', '--json']);
  t.equal(r.code, 0, r.stderr);
  const { outcomes } = JSON.parse(r.stdout);
  t.ok(outcomes.success_final > 0.99, `success ${outcomes.success_final}`);
  t.ok(outcomes.collisions_final < 0.01, `collisions in the last step ${outcomes.collisions_final}`);
  t.end();
});

for (const [name, difficulty] of [['junction-easy-tarmac-gated', 'easy'], ['junction-medium-commnet-gated', 'medium']]) {
  t.test(`${name} crosses ${difficulty} safely in more than 99 % of 1,000 episodes, and its fleet sends under half the messages of an ungated one`, (t) => {
    const r = runCli(['eval', '--bundle', join(ZOO, name), '--episodes', '1000', '--json']);
    t.equal(r.code, 0, r.stderr);
    t.ok(JSON.parse(r.stdout).outcomes.success_final > 0.99, `success ${JSON.parse(r.stdout).outcomes.success_final}`);
    const sim = runCli(['sim', '--bundle', join(ZOO, name), '--episodes', '20', '--json']);
    t.equal(sim.code, 0, sim.stderr);
    const { messages, tiers } = JSON.parse(sim.stdout);
    // an ungated policy of 2 rounds sends exactly 2 messages per agent per tick
    t.ok(messages.per_agent_tick < 1, `${messages.per_agent_tick} messages per agent per tick (2 ungated)`);
    t.equal(tiers.partial + tiers.none, 0, 'silent peers are not missing ones');
    t.end();
  });
}

t.test('junction-medium-commnet crosses medium safely in more than 99 % of 1,000 episodes, and with the brake never collides', (t) => {
  const outcomes = (extra: string[]) => {
    const r = runCli(['eval', '--bundle', join(ZOO, 'junction-medium-commnet'), '--episodes', '1000', '--json', ...extra]);
    t.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout).outcomes;
  };
  const off = outcomes([]);
  t.ok(off.success_final > 0.99, `no shield: success ${off.success_final}`);
  const braked = outcomes(['--shield', 'emergency-brake']);
  t.equal(braked.collisions, 0, 'the emergency brake: no collision in 1,000 episodes');
  t.equal(braked.success_final, 1);
  t.end();
});

t.test('each side of tag-mlp beats the scripted side in its place, against the same scripted opponent', (t) => {
  const catches = (args: string[]) => {
    const r = runCli(['eval', '--episodes', '1000', '--json', ...args]);
    t.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout).outcomes.catches as number;
  };
  const scripted = catches(['--world', 'simple_tag', '--policy', 'scripted']);
  const adversaries = catches(['--bundle', 'models/zoo/tag-mlp', '--scripted-roles', 'agent']);
  const prey = catches(['--bundle', 'models/zoo/tag-mlp', '--scripted-roles', 'adversary']);
  t.ok(adversaries > scripted, `its adversaries catch the scripted prey ${adversaries} times an episode, the scripted adversaries ${scripted}`);
  t.ok(prey < scripted, `its prey is caught by the scripted adversaries ${prey} times an episode, the scripted prey ${scripted}`);
  t.end();
});

t.test('pong-mlp plays either side against the scripted paddle and wins far more than it loses; --opponent sets it against another bundle', async (t) => {
  // trained with --shared-actor: one network plays both sides
  const { manifest } = await loadBundle(join(ZOO, 'pong-mlp'));
  t.equal(manifest.files['left/actor.onnx'].sha256, manifest.files['right/actor.onnx'].sha256, 'the left and the right graph are the same network');
  const games = (args: string[]) => {
    const r = runCli(['eval', '--bundle', join(ZOO, 'pong-mlp'), '--episodes', '200', '--json', ...args]);
    t.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as { policy: string; outcomes: Record<string, number> };
  };
  const asLeft = games(['--scripted-roles', 'right']);
  t.ok(asLeft.outcomes.left_wins_final > 3 * asLeft.outcomes.right_wins_final, `as left: wins ${asLeft.outcomes.left_wins_final}, losses ${asLeft.outcomes.right_wins_final}`);
  const asRight = games(['--scripted-roles', 'left']);
  t.ok(asRight.outcomes.right_wins_final > 3 * asRight.outcomes.left_wins_final, `as right: wins ${asRight.outcomes.right_wins_final}, losses ${asRight.outcomes.left_wins_final}`);
  const mirror = games(['--scripted-roles', 'right', '--opponent', join(ZOO, 'pong-mlp')]);
  t.match(mirror.policy, /against pong-mlp 2\.0\.0 .* right/);
  t.notSame(mirror.outcomes, asLeft.outcomes, 'the other bundle, not the scripted paddle, played the right side');
  // bundles of several seeds are summarised as runs are: here one bundle twice, so both runs equal the single evaluation
  const r = runCli(['eval', '--bundle', join(ZOO, 'pong-mlp'), '--bundle', join(ZOO, 'pong-mlp'), '--scripted-roles', 'right', '--episodes', '200', '--json']);
  t.equal(r.code, 0, r.stderr);
  const wins = (JSON.parse(r.stdout) as { summaries: { metric: string; runs: number; run_means: number[]; iqm: number }[] }).summaries.find((m) => m.metric === 'left_wins')!;
  t.same(wins.run_means, [asLeft.outcomes.left_wins_final, asLeft.outcomes.left_wins_final], 'each bundle is evaluated on the same games');
  t.equal(wins.runs, 2);
});
