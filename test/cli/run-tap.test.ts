// npm test's runner (test/run-tap.mjs): each file's TAP goes through whole, a failing file fails
// the run, and every failed assertion is said once more at the very end, with the subtests it sits
// in and its diff — the part of a CI log that survives when only its tail is kept. A file that
// crashes or hangs is a failure that says so, and a hung file's processes are stopped.

import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/paths.js';

const RUNNER = join(REPO_ROOT, 'test', 'run-tap.mjs');

/** A folder for a test's sample files, removed after it: inside the repository (tap runs what is under its working directory), in an ignored folder. */
function scratchDir(t: Test, name: string): string {
  const dir = join(REPO_ROOT, '.tsbuild', `${name}-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('a failing file: exit 1, each failed assertion again at the end with its path and diff, passing ones not', (t) => {
  const dir = scratchDir(t, 'run-tap');
  writeFileSync(join(dir, 'sample.test.mjs'), [
    "import t from 'tap';",
    "t.test('outer', async (t) => { t.equal(1, 2, 'one is two'); t.ok(true, 'fine'); t.test('inner', async (t) => { t.same({ a: 1 }, { a: 2 }, 'objects differ'); }); });",
    "t.test('passing', async (t) => { t.ok(true, 'also fine'); });",
  ].join('\n'));
  writeFileSync(join(dir, 'good.test.mjs'), "import t from 'tap';\nt.test('good', async (t) => { t.ok(true, 'good'); });\n");
  const failing = spawnSync(process.execPath, [RUNNER, join(dir, 'sample.test.mjs')], { cwd: REPO_ROOT, encoding: 'utf8' });
  t.equal(failing.status, 1, 'a failing file fails the run');
  const tail = failing.stdout.slice(failing.stdout.lastIndexOf('# 2 failed assertions, again:'));
  t.match(tail, /^# 2 failed assertions, again:/, 'the summary comes last');
  t.match(tail, /# ✖ \S*sample\.test\.mjs > outer > one is two\n/);
  t.match(tail, /# ✖ \S*sample\.test\.mjs > outer > inner > objects differ\n/);
  t.match(tail, /#     -  "a": 2,\n#     \+  "a": 1,/, 'the diff');
  t.notMatch(tail, /fine|passing/, 'only what failed');
  t.notMatch(tail, /> outer #|> outer\n/, 'a subtest that failed because of an assertion inside it is said by that assertion');
  const passing = spawnSync(process.execPath, [RUNNER, join(dir, 'good.test.mjs')], { cwd: REPO_ROOT, encoding: 'utf8' });
  t.equal(passing.status, 0);
  t.notMatch(passing.stdout, /again:/);
  t.match(passing.stdout, /ok 1 - good/, 'tap\'s own output went through');
  t.end();
});

t.test('a file that crashes or hangs fails the run and says which; a hung file and what it spawned are stopped; the others still run', (t) => {
  const dir = scratchDir(t, 'run-tap-hang');
  writeFileSync(join(dir, 'a-crash.test.mjs'), "import t from 'tap';\nt.ok(true, 'before');\nthrow new Error('boom at the top');\n");
  // the hung file starts a grandchild that would outlive it, and records its pid
  const pidFile = join(dir, 'grandchild.pid');
  writeFileSync(join(dir, 'b-hang.test.mjs'), [
    "import t from 'tap';",
    "import { spawn } from 'node:child_process';",
    "import { writeFileSync } from 'node:fs';",
    `const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });`,
    `writeFileSync(${JSON.stringify(pidFile)}, String(child.pid));`,
    "t.test('never ends', () => new Promise(() => { setInterval(() => {}, 1000); }));",
  ].join('\n'));
  writeFileSync(join(dir, 'c-good.test.mjs'), "import t from 'tap';\nt.test('good', async (t) => { t.ok(true, 'one'); t.ok(true, 'two'); });\n");
  const started = Date.now();
  const r = spawnSync(process.execPath, [RUNNER, '--timeout', '2', ...['a-crash', 'b-hang', 'c-good'].map((f) => join(dir, `${f}.test.mjs`))], { cwd: REPO_ROOT, encoding: 'utf8' });
  t.equal(r.status, 1);
  t.ok(Date.now() - started < 60_000, 'the hang was cut short');
  t.match(r.stdout, /not ok \d+ - \S*a-crash\.test\.mjs/);
  t.match(r.stdout + r.stderr, /boom at the top/, 'the crash is printed');
  t.match(r.stdout, /not ok \d+ - \S*b-hang\.test\.mjs/);
  t.match(r.stdout, /ok \d+ - \S*c-good\.test\.mjs/);
  t.match(r.stdout, /# files: 1 of 3 passed/);
  t.match(r.stdout, /# \d+ failed assertions?, again:[\s\S]*b-hang\.test\.mjs/, 'the hang is among the failures at the end');
  const grandchild = Number(readFileSync(pidFile, 'utf8'));
  // killed is gone, or a zombie until whoever inherited it reaps it
  const running = (): boolean => {
    try {
      return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${grandchild}/stat`, 'utf8'));
    } catch {
      return false;
    }
  };
  t.notOk(running(), `the hung file's own child (pid ${grandchild}) was stopped with it`);
  t.end();
});

t.test('files run two at a time, a file marked to run alone with nothing beside it, and the assertions of every file are counted', (t) => {
  const dir = scratchDir(t, 'run-tap-jobs');
  // each file waits for the other to have started: only two at a time can both pass
  const files = ['x', 'y'].map((name, k) => {
    const path = join(dir, `${name}.test.mjs`);
    writeFileSync(path, [
      "import t from 'tap';",
      "import { existsSync, writeFileSync } from 'node:fs';",
      `writeFileSync(${JSON.stringify(join(dir, `${name}.started`))}, '');`,
      `const other = ${JSON.stringify(join(dir, `${k === 0 ? 'y' : 'x'}.started`))};`,
      "t.test('sees the other running', async (t) => { while (!existsSync(other)) await new Promise((r) => setTimeout(r, 20)); t.ok(true); t.ok(true); });",
    ].join('\n'));
    return path;
  });
  // a file marked to run alone: nothing else runs while it does (it looks for the others for 300 ms)
  const alone = join(dir, 'z.test.mjs');
  writeFileSync(alone, [
    '// run-tap: alone (a wall-clock test)',
    "import t from 'tap';",
    "import { existsSync } from 'node:fs';",
    `const others = ${JSON.stringify(['x', 'y'].map((name) => join(dir, `${name}.started`)))};`,
    "t.test('runs with nothing beside it', async (t) => { for (let k = 0; k < 15; k++) { t.notOk(others.some((f) => existsSync(f)), 'no other file running'); await new Promise((r) => setTimeout(r, 20)); } });",
  ].join('\n'));
  const r = spawnSync(process.execPath, [RUNNER, '--timeout', '20', ...files, alone], { cwd: REPO_ROOT, encoding: 'utf8' });
  t.equal(r.status, 0, r.stdout);
  t.match(r.stdout, /# files: 3 of 3 passed; assertions: \{ total: 19, pass: 19, fail: 0 \}/);
  t.equal(spawnSync(process.execPath, [RUNNER, '--jobs', '0'], { cwd: REPO_ROOT, encoding: 'utf8' }).status, 2, 'a bad option is refused');
  t.end();
});

t.test('at the end, the CPU the files used, and the ones that used most first', (t) => {
  const dir = scratchDir(t, 'run-tap-cpu');
  // one file keeps a core busy for 0.6 s in a process it spawns and waits for (counted with it); the other sleeps as long
  writeFileSync(join(dir, 'busy.test.mjs'), [
    "import t from 'tap';",
    "import { spawnSync } from 'node:child_process';",
    "spawnSync(process.execPath, ['-e', 'const end = Date.now() + 600; while (Date.now() < end);']);",
    "t.ok(true);",
  ].join('\n'));
  writeFileSync(join(dir, 'idle.test.mjs'), "import t from 'tap';\nawait new Promise((r) => setTimeout(r, 600));\nt.ok(true);\n");
  const r = spawnSync(process.execPath, [RUNNER, join(dir, 'busy.test.mjs'), join(dir, 'idle.test.mjs')], { cwd: REPO_ROOT, encoding: 'utf8' });
  t.equal(r.status, 0, r.stdout);
  const cpu = /^# cpu: ([\d.]+) s in the test processes \(user \+ system\); most: (\S+) ([\d.]+), (\S+) ([\d.]+)$/m.exec(r.stdout);
  t.ok(cpu, r.stdout);
  const [, total, first, firstS, second, secondS] = cpu!;
  t.match(first, /busy\.test\.mjs$/, 'the busy file first');
  t.match(second, /idle\.test\.mjs$/);
  // both load tap (about half a second each here); the busy one's child adds its 0.6 s
  t.ok(Number(firstS) - Number(secondS) >= 0.45, `the busy file with its child ${firstS} s, the sleeping one ${secondS} s`);
  t.ok(Math.abs(Number(total) - Number(firstS) - Number(secondS)) < 0.15, 'the total is theirs (each rounded to 0.1 s)');
  t.end();
});
