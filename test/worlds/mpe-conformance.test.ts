import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CONFORMANCE_TOLERANCE, parseConformanceVectors, replayConformanceVectors,
  type ConformanceVectors,
} from '@fleetmind/worlds';
import { FIXTURES } from '../helpers/paths.js';

const load = (name: string, folder = 'mpe'): ConformanceVectors =>
  parseConformanceVectors(JSON.parse(readFileSync(join(FIXTURES, folder, name), 'utf8')));

const DISCRETE = ['simple_spread_v3.json', 'simple_tag_v3.json'].map((file) => ({ file, folder: 'mpe' }));
const CONTINUOUS = ['simple_spread_v3_continuous.json', 'simple_tag_v3_continuous.json', 'simple_spread_v3_continuous_out_of_range.json', 'simple_tag_v3_continuous_out_of_range.json']
  .map((file) => ({ file, folder: 'mpe-continuous' }));

for (const { file, folder } of [...DISCRETE, ...CONTINUOUS]) {
  t.test(`${folder}/${file} replays exactly: action forces, float32 observations and positions identical, the rest within 1e-9, discrete outcomes equal`, (t) => {
    const vectors = load(file, folder);
    const report = replayConformanceVectors(vectors);
    t.equal(report.pass, true, JSON.stringify(report.first_failure));
    t.equal(report.episodes, vectors.episodes.length);
    t.equal(report.steps, vectors.episodes.reduce((s, e) => s + e.steps.length, 0));
    for (const q of ['action_u', 'obs', 'pos'] as const) t.equal(report.max_abs_err[q], 0, `${q} bit-identical`);
    for (const q of ['obs_f64', 'vel', 'reward'] as const) t.ok(report.max_abs_err[q] <= CONFORMANCE_TOLERANCE[q], `${q} within tolerance`);
    t.same(report.discrete_mismatches, { collisions: 0, catches: 0, speed_clamps: 0, truncated: 0, terminated: 0 });
    t.end();
  });
}

t.test('a perturbed reference position is caught with its episode, step, agent and size', (t) => {
  const vectors = load('simple_spread_v3.json');
  vectors.episodes[2].steps[4].agent_pos[1][0] += 1e-6;
  const report = replayConformanceVectors(vectors);
  t.equal(report.pass, false);
  t.match(report.first_failure, { episode: 2, step: 5, agent: 'agent_1', quantity: 'pos', index: 0 });
  t.ok(Math.abs(report.first_failure!.abs_err - 1e-6) < 1e-12);
  t.end();
});

t.test('a changed action shows up as a mismatch in the following steps', (t) => {
  const vectors = load('simple_tag_v3.json');
  const step = vectors.episodes[5].steps[3];
  step.actions[0] = ((step.actions[0] as number) + 1) % 5;
  const report = replayConformanceVectors(vectors);
  t.equal(report.pass, false);
  t.equal(report.first_failure!.episode, 5);
  t.ok(report.first_failure!.step >= 4);
  t.end();
});

t.test('the tag vectors exercise catches and speed clamps, and a wrong clamp count is detected', (t) => {
  const vectors = load('simple_tag_v3.json');
  // make one recorded pre-clamp velocity obviously slower: the reference no longer clamps there
  const ep = vectors.episodes.find((e) => e.steps.some((s) => s.agent_vel.some(([x, y]) => Math.abs(Math.hypot(x, y) - 1.3) < 1e-12)))!;
  t.ok(ep, 'some prey reaches its max speed');
  const ti = ep.steps.findIndex((s) => Math.abs(Math.hypot(...s.agent_vel[3]) - 1.3) < 1e-12);
  ep.steps[ti].agent_force![3] = [0, 0];
  if (ti > 0) ep.steps[ti - 1].agent_vel[3] = [0, 0];
  const report = replayConformanceVectors(vectors);
  t.ok(report.discrete_mismatches.speed_clamps >= 1, 'clamp mismatch counted');
  t.end();
});

t.test('malformed vector files are rejected with the field that is wrong', (t) => {
  const good = JSON.parse(readFileSync(join(FIXTURES, 'mpe', 'simple_tag_v3.json'), 'utf8'));
  t.throws(() => parseConformanceVectors({ ...good, format: 'something-else/2' }), { message: /format/ });
  const broken = structuredClone(good);
  broken.episodes[3].steps[2].obs = 'nope';
  t.throws(() => parseConformanceVectors(broken), { code: 'FM_ERR_VECTORS' });
  t.throws(() => parseConformanceVectors(broken), { message: /episodes\[3\]\.steps\[2\]\.obs/ });
  const unknown = parseConformanceVectors({ ...good, env: 'simple_crypto_v3' });
  t.throws(() => replayConformanceVectors(unknown), { message: /unknown world "simple_crypto_v3"/ });
  const short = structuredClone(good);
  short.episodes[0].initial.obs[1] = short.episodes[0].initial.obs[1].slice(0, 5);
  t.throws(() => replayConformanceVectors(parseConformanceVectors(short)), { message: /episodes\[0\].*initial\.obs\[1\] has 5 values/ });
  t.end();
});

t.test('a continuous push off by one float32 step is caught at its action force', (t) => {
  const vectors = load('simple_spread_v3_continuous.json', 'mpe-continuous');
  const a = vectors.episodes[1].steps[6].actions[2] as number[];
  t.ok(a[2] > 0 && a[2] < 0.99, 'a push inside the box (a clipped one would not change)');
  a[2] = Math.fround(a[2] + 2 ** -20);
  const report = replayConformanceVectors(vectors);
  t.equal(report.pass, false);
  t.match(report.first_failure, { episode: 1, step: 7, agent: 'agent_2' });
  t.ok(Math.abs(report.max_abs_err.action_u - 5 * 2 ** -20) < 1e-12, `the force is off by 5 × 2⁻²⁰ (${report.max_abs_err.action_u})`);
  t.end();
});

t.test('a continuous file must give each agent a vector of the box\'s length', (t) => {
  const good = JSON.parse(readFileSync(join(FIXTURES, 'mpe-continuous', 'simple_tag_v3_continuous.json'), 'utf8'));
  const scalar = structuredClone(good);
  scalar.episodes[0].steps[3].actions = [2, 2, 2, 2];
  t.throws(() => replayConformanceVectors(parseConformanceVectors(scalar)), { message: /episodes\[0\].*steps\[3\]\.actions\[0\] is a number, the world .* takes continuous actions/ });
  const short = structuredClone(good);
  short.episodes[0].steps[3].actions[1] = [0.1, 0.2];
  t.throws(() => replayConformanceVectors(parseConformanceVectors(short)), { message: /steps\[3\]\.actions\[1\] has 2 components, the action box has 5/ });
  t.end();
});
