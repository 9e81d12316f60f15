import t from 'tap';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FAULT_KINDS, parseFaultPlan, setPlanParam, windowOpen } from '@fleetmind/sim-harness/fleet';
import { REPO_ROOT } from '../helpers/paths.js';
import { runCli } from '../helpers/cli.js';

const EXAMPLES = join(REPO_ROOT, 'sim-harness', 'faults', 'examples');

t.test('a malformed plan is refused with the field and the reason', (t) => {
  const cases: [string, RegExp][] = [
    ['faults: [{kind: drop, p: 1.5}]', /plan\.yaml: faults\[0\]\.p: Too big: expected number to be <=1/],
    ['faults: [{kind: dorp, p: 0.1}]', /faults\[0\]\.kind: unknown fault kind; kinds: drop, burst_drop, delay/],
    ['faults: [{kind: crash, window: {ticks: [5, 2]}}]', /faults\[0\]\.window\.ticks: the end must come after the start/],
    ['faults: [{kind: drop, p: 0.1, probability: 0.2}]', /faults\[0\]: unknown key "probability"; a drop fault takes kind, p, links, window/],
    ['faults: [{kind: drop, prob: 0.1}]', /faults\[0\]: unknown key "prob"; a drop fault takes kind, p, links, window/],
    ['faults: [{kind: delay}]', /faults\[0\]\.ms: /],
    ['faults: [{kind: partition, groups: [[agent_0]]}]', /faults\[0\]\.groups: Too small/],
    ['faults: [{kind: crash, agents: {fraction: 0}}]', /faults\[0\]\.agents/],
    ['faults: {kind: drop}', /faults: /],
    ['faults: [', /is neither YAML nor JSON/],
    ['{"faults": [{"kind": "drop", "p": "a lot"}]}', /faults\[0\]\.p: .*number/],
  ];
  for (const [text, message] of cases) t.throws(() => parseFaultPlan(text, 'plan.yaml'), { message, code: 'FM_ERR_FAULT_PLAN' }, text);
  t.end();
});

t.test('the examples in the repo parse, and together they use every fault kind', (t) => {
  const used = new Set<string>();
  for (const file of readdirSync(EXAMPLES)) {
    const plan = parseFaultPlan(readFileSync(join(EXAMPLES, file), 'utf8'), file);
    plan.faults.forEach((f) => used.add(f.kind));
  }
  const documented = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  for (const kind of FAULT_KINDS) t.match(documented, new RegExp(`\`${kind}\``), `the README documents ${kind}`);
  t.ok(used.size >= 10, `the examples use ${used.size} kinds: ${[...used].join(', ')}`);
  t.end();
});

t.test('windows: episodes and ticks, half-open', (t) => {
  t.ok(windowOpen({}, 9, 99));
  t.ok(windowOpen({ ticks: [5, 10] }, 3, 5));
  t.notOk(windowOpen({ ticks: [5, 10] }, 3, 10));
  t.notOk(windowOpen({ episodes: [1, 2], ticks: [5, 10] }, 0, 6));
  t.end();
});

t.test('sweep parameters: a path into the plan, re-checked after the change', (t) => {
  const plan = parseFaultPlan('faults: [{kind: drop, p: 0.3}, {kind: delay, ms: 5}]');
  const changed = setPlanParam(plan, 'faults[1].ms', 20);
  t.match(changed.faults[1], { kind: 'delay', ms: 20 });
  t.match(plan.faults[1], { ms: 5 }, 'the original is untouched');
  t.throws(() => setPlanParam(plan, 'faults[0].p', 2), { message: /faults\[0\]\.p = 2: faults\[0\]\.p: Too big/ });
  t.throws(() => setPlanParam(plan, 'faults[7].p', 0.1), { message: /nothing at 7/ });
  t.throws(() => setPlanParam(plan, 'faults[0].kind', 1), { message: /not a number/ });
  t.end();
});

t.test('fleetmind sim refuses a bad plan and bad arguments in one line', (t) => {
  const bundle = join(REPO_ROOT, 'models', 'zoo', 'spread-commnet');
  const r1 = runCli(['sim', '--bundle', bundle, '--faults', join(REPO_ROOT, 'package.json')]);
  t.equal(r1.code, 2);
  t.match(r1.stderr, /package\.json: .*faults/);
  const r2 = runCli(['sim', '--bundle', bundle, '--agents', '7']);
  t.equal(r2.code, 2);
  t.match(r2.stderr, /--agents 7: the bundle has 3 agents and cannot serve another fleet size: .*k-nearest observations/);
  const r3 = runCli(['sim', '--bundle', bundle, '--world', 'simple_tag']);
  t.match(r3.stderr, /the bundle was trained on simple_spread_v3/);
  const dir = mkdtempSync(join(tmpdir(), 'fm-plan-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'slow.yaml'), 'faults: [{kind: slow_inference, ms: 40}]\n');
  // the nominal run would write its agents' recordings: none exist when the plan is refused first
  const recordings = join(dir, 'recordings');
  const slow = runCli(['sim', '--bundle', bundle, '--mode', 'procs', '--episodes', '50', '--faults', join(dir, 'slow.yaml'), '--record', recordings]);
  t.equal(slow.code, 2);
  t.match(slow.stderr, /slow_inference needs --mode inproc/);
  t.notOk(existsSync(recordings), 'refused before the nominal run, not after it');
  const r4 = runCli(['sim', '--bundle', '/nowhere']);
  t.match(r4.stderr, /is not a bundle folder/);
  t.notMatch(r1.stderr + r2.stderr + r3.stderr + r4.stderr, /\n\s+at /, 'no stack traces');
  t.end();
});
