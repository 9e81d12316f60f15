// TarMAC end to end: `train --actor tarmac` trains a CommNet whose rounds attend over the messages
// heard, the export's stage graphs carry the attention (parity with TensorFlow.js is checked by
// the export itself), and a fleet of runtime agents plays exactly the episodes `eval` plays.

import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'fm-tarmac-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('train, export and run a TarMAC actor; the fleet plays eval\'s episodes', (t) => {
  const run = join(dir, 'run');
  const bundle = join(dir, 'bundle');
  const train = runCli(['train', '--world', 'simple_spread', '--actor', 'tarmac', '--envs', '16', '--steps', '8000', '--seed', '4', '--out', run]);
  t.equal(train.code, 0, train.stderr);
  const config = JSON.parse(readFileSync(join(run, 'config.json'), 'utf8'));
  t.equal(config.config.actor, 'tarmac');
  const checkpoint = JSON.parse(readFileSync(join(run, 'checkpoint.json'), 'utf8'));
  t.same(checkpoint.roles[0].actor.spec.attention, { keySize: 16 }, 'a quarter of the 64-wide hidden layer');
  const exported = runCli(['export', '--run', run, '--out', bundle, '--episodes', '10']);
  t.equal(exported.code, 0, exported.stderr);
  t.match(exported.stdout, /parity max \|Δlogit\| [0-9.e-]+ over \d+ samples, 0 action mismatches/);
  const manifest = JSON.parse(readFileSync(join(bundle, 'manifest.json'), 'utf8'));
  t.equal(manifest.provenance.actor, 'tarmac');
  t.equal(manifest.roles[0].graphs.kind, 'commnet', 'the same stage contract as a CommNet: the runtime needs nothing new');
  const sim = runCli(['sim', '--bundle', bundle, '--episodes', '4', '--seed', '3', '--json']);
  t.equal(sim.code, 0, sim.stderr);
  const ev = runCli(['eval', '--bundle', bundle, '--episodes', '4', '--seed', '3', '--json']);
  t.equal(ev.code, 0, ev.stderr);
  t.same(JSON.parse(sim.stdout).episode_team_returns, JSON.parse(ev.stdout).episode_team_returns, 'sim and eval: the same episodes');
  t.same(JSON.parse(sim.stdout).tiers.partial, 0);
  t.end();
});
