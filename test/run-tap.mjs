// `npm test`'s runner: every compiled test file (.tsbuild/test/**/*.test.js, or the files named)
// runs in a plain `node` process of its own, two at a time; each file's TAP is printed whole when
// it ends, as a subtest of the run, so two files never interleave; then every failed assertion
// once more at the very end, with the subtests it sits in and its diagnostics. A CI log that keeps
// only its tail still says what failed, where and why.
//
// Why not tap's own runner: it loads a TypeScript loader, module mocks and its coverage hooks
// (@tapjs/processinfo, which hooks every module load) into each test process, and through
// NODE_OPTIONS into every node process a test spawns, coverage on or off. Our tests run compiled
// JavaScript and spawn hundreds of CLI, agent and broker processes: a CLI-heavy file spent 19 s
// of CPU under tap's runner and 8 s under plain node (test/cli/train-refusals, measured side by
// side). The files still use tap's assertions, and run alone as `node FILE` as they do here.
//
// A file whose assertions hold the wall clock to a tight bound (a fleet at 10 Hz whose every action
// must arrive within its 100-ms tick) says so with a line `// run-tap: alone`: such files run first,
// one at a time, with nothing beside them, so that the other job's CPU cannot make them late on a
// two-core machine.
//
// At the end: the CPU the test processes used (user + system, each file with what it spawned and
// waited for, read from /proc where there is one), and the files that used most.
//
//   node test/run-tap.mjs [--jobs N] [--timeout SECONDS] [FILE …]

import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const MAX_FAILURES = 30;
const MAX_DIAGNOSTIC_LINES = 40;
const USAGE = 'usage: node test/run-tap.mjs [--jobs N] [--timeout SECONDS] [FILE …]';

const { jobs, timeoutS, files } = parseArgs(process.argv.slice(2));

function parseArgs(argv) {
  const options = { jobs: 2, timeoutS: 300, files: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--jobs' || arg === '--timeout') {
      const value = Number(argv[++i]);
      if (!Number.isInteger(value) || value < 1) fail(`${arg} takes a whole number ≥ 1, not ${argv[i] ?? 'nothing'}`);
      if (arg === '--jobs') options.jobs = value;
      else options.timeoutS = value;
    } else if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else if (arg.startsWith('-')) {
      fail(`unknown option ${arg}`);
    } else {
      options.files.push(arg);
    }
  }
  if (options.files.length === 0) options.files = testFiles(join(REPO_ROOT, '.tsbuild', 'test')).map((f) => relative(REPO_ROOT, f));
  if (options.files.length === 0) fail('no test files under .tsbuild/test: run `npm run build` first (npm test does)');
  return options;
}

function fail(message) {
  process.stderr.write(`run-tap: ${message}\n${USAGE}\n`);
  process.exit(2);
}

/** every *.test.js under dir, in path order */
function testFiles(dir) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return testFiles(path);
    return e.name.endsWith('.test.js') ? [path] : [];
  });
}

/** One file in its own process group (so a timeout stops what it spawned too); resolves when it is over. */
function runFile(file) {
  const started = Date.now();
  // tap's own timeout for the file's root test, as its runner sets it; ours below is the backstop
  const env = { ...process.env, TAP_TIMEOUT: String(timeoutS) };
  const child = spawn(process.execPath, ['--enable-source-maps', file], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
  child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(child, 'SIGTERM');
    setTimeout(() => killGroup(child, 'SIGKILL'), 5000).unref();
  }, (timeoutS + Math.min(timeoutS, 10)) * 1000); // tap's own timeout first, with time to say which test hung
  let cpuS = null;
  return new Promise((resolve) => {
    child.on('error', (err) => { stderr += `${err.message}\n`; });
    child.on('exit', () => { cpuS = reapedCpuS(); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      // whatever the file left behind in its group (a broker it started and did not stop)
      killGroup(child, 'SIGKILL');
      resolve({ file, stdout, stderr, code, signal, timedOut, ms: Date.now() - started, cpuS });
    });
  });
}

/**
 * The CPU seconds of the children reaped since the last call: /proc/self/stat's cutime + cstime
 * (fields 16 and 17, in the kernel's USER_HZ, 100 a second), which grow when a child is reaped by
 * what it and the children it waited for used. Called as each file's process is reaped, it is that
 * file's share (two files reaped in one turn of the event loop would be counted together); null
 * without /proc.
 */
let reapedTicks = readReapedTicks();
function reapedCpuS() {
  const ticks = readReapedTicks();
  if (ticks === null || reapedTicks === null) return null;
  const delta = ticks - reapedTicks;
  reapedTicks = ticks;
  return delta / 100;
}
function readReapedTicks() {
  try {
    // the fields after the command name, which is in parentheses and may hold spaces
    const fields = readFileSync('/proc/self/stat', 'utf8').replace(/^.*\) /s, '').split(' ');
    return Number(fields[13]) + Number(fields[14]);
  } catch {
    return null;
  }
}

const running = new Set();
function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    for (const child of running) killGroup(child, 'SIGKILL');
    process.exit(130);
  });
}

// --- output, and the failures read back from it ---

/** the subtest names open at each indentation */
const open = new Map();
const failures = [];
/** the failure whose YAML diagnostics are being read, and their indentation */
let reading = null;
const assertions = { total: 0, pass: 0, fail: 0 };

function emit(line) {
  process.stdout.write(`${line}\n`);
  const indent = line.length - line.trimStart().length;
  const text = line.trim();
  // a failure's diagnostics: a YAML block two spaces in, from --- to ...
  if (reading) {
    const inBlock = text === '---' ? indent === reading.indent + 2 : text === '' || indent >= reading.indent + 2;
    if (inBlock) {
      if (text === '...') reading = null;
      else if (text !== '---') {
        const own = line.slice(reading.indent + 2);
        // a top-level key: the quoted source is long and the stack says where
        if (/^\S/.test(own)) reading.skipping = own.startsWith('source:');
        if (!reading.skipping && reading.failure.lines.length < MAX_DIAGNOSTIC_LINES) reading.failure.lines.push(own);
      }
      return;
    }
    reading = null;
  }
  const subtest = /^# Subtest: (.*)$/.exec(text);
  if (subtest) {
    open.set(indent, subtest[1]);
    for (const depth of open.keys()) if (depth > indent) open.delete(depth);
    return;
  }
  const notOk = /^not ok \d+ - (.*?)(?: # time=[\d.]+m?s)?$/.exec(text);
  if (notOk) {
    const within = [...open].filter(([depth]) => depth < indent).sort(([a], [b]) => a - b).map(([, name]) => name);
    const failure = { path: [...within, notOk[1]].join(' > '), lines: [] };
    if (failures.length < MAX_FAILURES) failures.push(failure);
    reading = { failure, indent, skipping: false };
  }
}

let reported = 0;
let filesFailed = 0;
const cpuByFile = [];
function report({ file, stdout, stderr, code, signal, timedOut, ms, cpuS }) {
  const n = ++reported;
  if (cpuS !== null) cpuByFile.push({ file, cpuS });
  emit(`# Subtest: ${file}`);
  for (const line of stdout.replace(/\n$/, '').split('\n')) {
    if (line === '' || line.startsWith('TAP version')) continue;
    emit(`    ${line}`);
    // the file's own count, as tap prints it at the end of a process's root test
    const counts = /^# (\{ total: .*\})$/.exec(line);
    if (counts) for (const key of Object.keys(assertions)) assertions[key] += Number(new RegExp(`${key}: (\\d+)`).exec(counts[1])?.[1] ?? 0);
  }
  const ok = code === 0 && !timedOut && /^1\.\.\d+$/m.test(stdout);
  if (ok) emit(`ok ${n} - ${file} # time=${ms}ms`);
  else {
    filesFailed++;
    emit(`not ok ${n} - ${file} # time=${ms}ms`);
    emit('  ---');
    if (timedOut) emit(`  timed out: still running after ${timeoutS} s, stopped`);
    emit(`  exit: ${signal ?? code}`);
    if (!/^1\.\.\d+$/m.test(stdout)) emit('  no plan: the file ended before its tests did');
    emit('  ...');
  }
  if (stderr) process.stderr.write(stderr.endsWith('\n') ? stderr : `${stderr}\n`);
}

// --- the run: the files that run alone, then `jobs` files at a time, reported in the order they end ---

process.stdout.write('TAP version 14\n');
const started = Date.now();
const runsAlone = (file) => /^\/\/ run-tap: alone\b/m.test(readFileSync(file, 'utf8'));
for (const file of files.filter(runsAlone)) report(await runFile(file));
const queue = files.filter((file) => !runsAlone(file));
await Promise.all(Array.from({ length: Math.min(jobs, queue.length) }, async () => {
  while (queue.length > 0) report(await runFile(queue.shift()));
}));
emit(`1..${files.length}`);
process.stdout.write(`# files: ${files.length - filesFailed} of ${files.length} passed; assertions: { total: ${assertions.total}, pass: ${assertions.pass}, fail: ${assertions.fail} }\n`);
if (cpuByFile.length > 0) {
  const total = cpuByFile.reduce((sum, { cpuS }) => sum + cpuS, 0);
  const most = [...cpuByFile].sort((a, b) => b.cpuS - a.cpuS).slice(0, 10).map(({ file, cpuS }) => `${relative(REPO_ROOT, file)} ${cpuS.toFixed(1)}`);
  process.stdout.write(`# cpu: ${total.toFixed(1)} s in the test processes (user + system); most: ${most.join(', ')}\n`);
}
process.stdout.write(`# time=${Date.now() - started}ms\n`);

// a subtest that failed because an assertion inside it did is said by that assertion
const leaves = failures.filter((f) => !failures.some((g) => g !== f && g.path.startsWith(`${f.path} > `)));
if (leaves.length > 0) {
  process.stdout.write(`\n# ${leaves.length === MAX_FAILURES ? `the first ${MAX_FAILURES}` : leaves.length} failed assertion${leaves.length === 1 ? '' : 's'}, again:\n`);
  for (const f of leaves) process.stdout.write(`# ✖ ${f.path}\n${f.lines.map((l) => `#   ${l}`).join('\n')}\n`);
}
process.exit(filesFailed > 0 ? 1 : 0);
