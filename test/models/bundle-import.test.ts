// `fleetmind bundle import`: an actor exported by PyTorch (test/fixtures/torch/make_actor.py)
// becomes a bundle that verifies, matches PyTorch's own outputs, evaluates and runs as a fleet;
// actors that do not fit the world are refused with what does not fit, in the graph's own names.

import t, { type Test } from 'tap';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';

const torch = (file: string) => join('test', 'fixtures', 'torch', file);

/** The imported bundle verifies, `eval --bundle` reproduces its import-time evaluation, and the fleet plays eval's episodes to the last bit. */
function playsLikeItsEvaluation(t: Test, out: string, manifest: { evaluation: { nominal: { agent_return_mean: number } } }, episodes: number): void {
  t.equal(runCli(['bundle', 'verify', out]).code, 0);
  const evaluated = JSON.parse(runCli(['eval', '--bundle', out, '--episodes', String(episodes), '--json']).stdout);
  t.equal(evaluated.agent_return_mean, manifest.evaluation.nominal.agent_return_mean, 'eval --bundle reproduces the import-time evaluation');
  const sim = runCli(['sim', '--bundle', out, '--episodes', String(episodes), '--json']);
  t.equal(sim.code, 0, sim.stderr);
  t.same(JSON.parse(sim.stdout).episode_team_returns, evaluated.episode_team_returns, 'the fleet plays the same episodes as eval');
}

t.test('a PyTorch actor imported with its samples matches PyTorch, verifies, evaluates and runs as a fleet', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fm-import-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'bundle');
  const r = runCli(['bundle', 'import', '--actor', torch('spread_actor.onnx'), '--world', 'simple_spread', '--samples', torch('spread_samples.json'), '--out', out, '--episodes', '50', '--json']);
  t.equal(r.code, 0, r.stderr);
  const manifest = JSON.parse(r.stdout);
  t.match(manifest, { provenance: { algorithm: 'imported' }, communication: null, parity: { samples: 64, action_mismatches: 0 } });
  t.ok(manifest.parity.max_abs_error <= 1e-5, `ONNX Runtime matches PyTorch's outputs to ${manifest.parity.max_abs_error}`);
  t.match(manifest.provenance.train_command, /^fleetmind bundle import --actor /);
  playsLikeItsEvaluation(t, out, manifest, 50);

  // without samples: parity against the graph as it came, on observations of random play
  const plain = runCli(['bundle', 'import', '--actor', torch('spread_actor.onnx'), '--world', 'simple_spread', '--out', join(dir, 'plain'), '--episodes', '10', '--json']);
  t.equal(plain.code, 0, plain.stderr);
  t.match(JSON.parse(plain.stdout).parity, { max_abs_error: 0, action_mismatches: 0 });
  t.end();
});

t.test('a continuous PyTorch actor (the action vector itself) imports, matches PyTorch, and the fleet plays eval\'s episodes exactly', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fm-import-continuous-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'bundle');
  const r = runCli(['bundle', 'import', '--actor', torch('spread_continuous_actor.onnx'), '--world', 'simple_spread', '--continuous',
    '--samples', torch('spread_continuous_samples.json'), '--out', out, '--episodes', '20', '--json']);
  t.equal(r.code, 0, r.stderr);
  const manifest = JSON.parse(r.stdout);
  t.match(manifest.roles[0], { action: { kind: 'continuous', size: 5, low: [0, 0, 0, 0, 0], high: [1, 1, 1, 1, 1] }, safe_action: [0, 0, 0, 0, 0] });
  t.ok(manifest.parity.max_abs_error <= 1e-5 && manifest.parity.samples === 64, `ONNX Runtime's action vectors match PyTorch's to ${manifest.parity.max_abs_error}`);
  playsLikeItsEvaluation(t, out, manifest, 20);
  // the discrete world wants logits: a sigmoid vector fits in shape, so the kind is what tells
  const discrete = runCli(['bundle', 'import', '--actor', torch('spread_continuous_actor.onnx'), '--world', 'simple_spread', '--samples', torch('spread_continuous_samples.json'), '--out', join(dir, 'd')]);
  t.equal(discrete.code, 0, 'a 5-output graph fits the discrete world too (as logits): the user says which with --continuous');
  t.end();
});

t.test('samples the graph does not reproduce fail the import, and leave no bundle behind', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fm-import-parity-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const samples = JSON.parse(readFileSync(torch('spread_samples.json'), 'utf8'));
  samples.outputs[9][2] += 1e-3; // what another network would have said
  writeFileSync(join(dir, 'samples.json'), JSON.stringify(samples));
  const out = join(dir, 'bundle');
  const r = runCli(['bundle', 'import', '--actor', torch('spread_actor.onnx'), '--world', 'simple_spread', '--samples', join(dir, 'samples.json'), '--out', out]);
  t.equal(r.code, 2);
  t.match(r.stderr, /import parity failed: ONNX Runtime's outputs differ from the samples' \(the exporter's own\) by up to 1\.00e-3/);
  t.notOk(existsSync(out), 'no half-made bundle');
  t.end();
});

t.test('actors that do not fit are refused with what does not fit', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fm-import-bad-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cases: [string[], RegExp][] = [
    [['--actor', torch('two_inputs.onnx'), '--world', 'simple_spread'], /two_inputs\.onnx does not fit: it takes 2 inputs \("observation", "extra_0"\); an actor takes one, the observation/],
    [['--actor', torch('wrong_outputs.onnx'), '--world', 'simple_spread'], /its output "q" has 7 values per row; expected 5 \(a logit or Q-value per action\)/],
    [['--actor', torch('fixed_batch.onnx'), '--world', 'simple_spread'], /its input "observation" has a fixed batch of 1; export it with a dynamic first dimension/],
    [['--actor', 'README.md', '--world', 'simple_spread'], /README\.md is not an ONNX model/],
    [['--actor', 'adversary=' + torch('spread_actor.onnx'), '--actor', 'agent=' + torch('spread_actor.onnx'), '--world', 'simple_tag'], /its input "observation" has 18 values per row; expected 16 \(the observation\)/],
    [['--actor', torch('spread_actor.onnx'), '--world', 'simple_tag'], /the world has roles adversary, agent; say which, as ROLE=FILE/],
    [['--actor', torch('spread_actor.onnx'), '--world', 'simple_spread', '--samples', torch('make_actor.py')], /--samples .*make_actor\.py: /],
    [['--actor', torch('spread_actor.onnx'), '--world', 'simple_spread', '--samples', torch('spread_actor.onnx')], /--samples .*spread_actor\.onnx: /],
    [['--actor', join(dir, 'missing.onnx'), '--world', 'simple_spread'], /cannot read the agent actor .*missing\.onnx: ENOENT/],
  ];
  cases.forEach(([args, message], k) => {
    const r = runCli(['bundle', 'import', ...args, '--out', join(dir, `b${k}`)]);
    t.equal(r.code, 2, args.join(' '));
    t.match(r.stderr, message);
  });
  t.end();
});
