// npm test's runner (test/run-tap.mjs): what tap prints goes through, tap's exit status is kept,
// and every failed assertion is said once more at the very end, with the subtests it sits in and
// its diff — the part of a CI log that survives when only its tail is kept.

import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/paths.js';

const RUNNER = join(REPO_ROOT, 'test', 'run-tap.mjs');

t.test('a failing file: exit 1, each failed assertion again at the end with its path and diff, passing ones not', (t) => {
  // inside the repository (tap runs what is under its working directory), in an ignored folder
  const dir = join(REPO_ROOT, '.tsbuild', `run-tap-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'sample.test.mjs'), [
    "import t from 'tap';",
    "t.test('outer', async (t) => { t.equal(1, 2, 'one is two'); t.ok(true, 'fine'); t.test('inner', async (t) => { t.same({ a: 1 }, { a: 2 }, 'objects differ'); }); });",
    "t.test('passing', async (t) => { t.ok(true, 'also fine'); });",
  ].join('\n'));
  writeFileSync(join(dir, 'good.test.mjs'), "import t from 'tap';\nt.test('good', async (t) => { t.ok(true, 'good'); });\n");
  const failing = spawnSync(process.execPath, [RUNNER, '--disable-coverage', join(dir, 'sample.test.mjs')], { cwd: REPO_ROOT, encoding: 'utf8' });
  t.equal(failing.status, 1, 'tap\'s exit status');
  const tail = failing.stdout.slice(failing.stdout.lastIndexOf('# 2 failed assertions, again:'));
  t.match(tail, /^# 2 failed assertions, again:/, 'the summary comes last');
  t.match(tail, /# ✖ \S*sample\.test\.mjs > outer > one is two\n/);
  t.match(tail, /# ✖ \S*sample\.test\.mjs > outer > inner > objects differ\n/);
  t.match(tail, /#     -  "a": 2,\n#     \+  "a": 1,/, 'the diff');
  t.notMatch(tail, /fine|passing/, 'only what failed');
  t.notMatch(tail, /> outer #|> outer\n/, 'a subtest that failed because of an assertion inside it is said by that assertion');
  const passing = spawnSync(process.execPath, [RUNNER, '--disable-coverage', join(dir, 'good.test.mjs')], { cwd: REPO_ROOT, encoding: 'utf8' });
  t.equal(passing.status, 0);
  t.notMatch(passing.stdout, /again:/);
  t.match(passing.stdout, /ok 1 - good/, 'tap\'s own output went through');
  t.end();
});
