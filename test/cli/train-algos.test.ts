// Every algorithm but MAPPO from the command line: QMIX and MADDPG train, resume and evaluate, the
// tabular IQL trains on the grid, and self-play reports both sides. Apart from train.test.ts so
// that the two run side by side.

import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';

t.test('every other algorithm trains, evaluates and resumes from the CLI; self-play reports both sides', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fm-cli-algos-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // (iql and vdn run the same code path as qmix, through the same commands)
  for (const algo of ['qmix', 'maddpg']) {
    const out = join(dir, algo);
    let r = runCli(['train', '--world', 'simple_spread', '--algo', algo, '--steps', '2048', '--out', out]);
    t.equal(r.code, 0, `${algo}: ${r.stderr}`);
    t.match(r.stdout, /trained 2,048 env steps/);
    r = runCli(['train', '--world', 'simple_spread', '--algo', algo, '--steps', '4096', '--out', out, '--resume']);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stderr, /resuming .* at 2,048 env steps/);
    r = runCli(['eval', '--run', out, '--episodes', '10', '--json']);
    t.equal(r.code, 0, r.stderr);
    t.match(JSON.parse(r.stdout).policy, new RegExp(`trained \\(${algo}, 4,096 steps\\)`));
  }
  const tabular = join(dir, 'tabular');
  let r = runCli(['train', '--world', 'grid_predator_prey', '--algo', 'iql-tabular', '--episodes', '50', '--out', tabular]);
  t.equal(r.code, 0, r.stderr);
  r = runCli(['eval', '--run', tabular, '--episodes', '10', '--json']);
  t.equal(r.code, 0, r.stderr);
  t.ok('captured' in JSON.parse(r.stdout).outcomes);
  r = runCli(['train', '--world', 'grid_predator_prey', '--algo', 'qmix', '--out', tabular, '--resume']);
  t.equal(r.code, 2);
  t.match(r.stderr, /--algo would change it: --algo was "iql-tabular"/);

  const tag = join(dir, 'tag');
  r = runCli(['train', '--world', 'simple_tag', '--self-play', '--steps', '8000', '--envs', '32', '--out', tag]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /self-play at [\d,]+ env steps/);
  for (const row of ['adversary vs latest return', 'adversary vs scripted catches', 'agent vs scripted return', 'scripted vs scripted catches']) t.match(r.stdout, row);
  t.end();
});
