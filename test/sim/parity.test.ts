// With no faults, greedy policies and the same seed, the simulated fleet — real runtime agents
// over a real broker — returns exactly the per-episode team returns of the in-process evaluator
// (`fleetmind eval --bundle`). Anything else means the runtime is not running the trained policy.

import t from 'tap';
import { join } from 'node:path';
import { loadBundle } from '@fleetmind/models';
import { evaluateControllerAsync, makeWorld } from '@fleetmind/worlds';
import { bundleController } from '@fleetmind/trainer/bundle-controller';
import { simulate } from '@fleetmind/sim-harness/fleet';
import { REPO_ROOT } from '../helpers/paths.js';
import { runCli } from '../helpers/cli.js';
import { serviceAvailable } from '../helpers/services.js';

const zoo = (name: string) => join(REPO_ROOT, 'models', 'zoo', name);

async function reference(dir: string, episodes: number, seed: number): Promise<number[]> {
  const bundle = await loadBundle(dir);
  const world = makeWorld(bundle.manifest.world.id, { numEnvs: episodes, autoReset: false });
  const report = await evaluateControllerAsync(world, bundleController(world, bundle, { seed }), seed);
  await bundle.close();
  return report.episode_team_returns;
}

for (const [name, mode, episodes] of [['spread-commnet', 'inproc', 12], ['tag-mlp', 'inproc', 8], ['spread-commnet', 'procs', 3], ['spread-commnet', 'threads', 3]] as const) {
  t.test(`${name}, ${mode}: the fleet replays eval --bundle episode by episode`, async (t) => {
    const expected = await reference(zoo(name), episodes, 3);
    const sim = await simulate({ bundle: zoo(name), episodes, seed: 3, mode });
    t.same(sim.episode_team_returns, expected, 'identical per-episode team returns');
    t.equal(sim.missing_actions, 0, 'every agent answered every tick');
    if (name === 'spread-commnet') t.equal(sim.tiers.full, episodes * 25 * 3, 'every decision used full communication');
    t.same(sim.faults_applied, {});
  });
}

t.test('over the machine\'s Mosquitto too', async (t) => {
  if (!(await serviceAvailable(t, 'Mosquitto', 1883))) return;
  const expected = await reference(zoo('spread-commnet'), 3, 5);
  // Mosquitto's default Nagle delays answers ~40 ms: a generous round deadline keeps every message in
  const sim = await simulate({ bundle: zoo('spread-commnet'), episodes: 3, seed: 5, broker: 'mqtt://127.0.0.1:1883', agent: { roundDeadlineMs: 400 } });
  t.same(sim.episode_team_returns, expected);
});

t.test('fleetmind sim --json and fleetmind eval --bundle --json agree on every episode', (t) => {
  const sim = runCli(['sim', '--bundle', zoo('spread-commnet'), '--episodes', '5', '--seed', '11', '--json']);
  t.equal(sim.code, 0, sim.stderr);
  const ev = runCli(['eval', '--bundle', zoo('spread-commnet'), '--episodes', '5', '--seed', '11', '--json']);
  t.equal(ev.code, 0, ev.stderr);
  const s = JSON.parse(sim.stdout);
  const e = JSON.parse(ev.stdout);
  t.same(s.episode_team_returns, e.episode_team_returns);
  t.equal(s.team_return_mean, e.team_return_mean);
  t.equal(s.agent_return_mean, e.agent_return_mean);
  t.same(Object.keys(s).filter((k) => ['episodes', 'seed', 'agent_return_mean', 'team_return_mean', 'episode_team_returns', 'outcomes', 'tick_ms', 'tiers', 'messages', 'faults_applied'].includes(k)).length, 10, 'every field the issue names');
  t.end();
});

t.test('with auth on: a user and password per agent, made for the run; the same episodes', async (t) => {
  const expected = await reference(zoo('spread-commnet'), 3, 8);
  for (const mode of ['inproc', 'procs'] as const) {
    const sim = await simulate({ bundle: zoo('spread-commnet'), episodes: 3, seed: 8, mode, auth: true });
    t.same(sim.episode_team_returns, expected, `${mode}: identical returns through an authenticating broker`);
    t.equal(sim.tiers.full, 3 * 25 * 3, `${mode}: every agent heard its teammates (the ACLs let each subscribe in its fleet)`);
  }
  await t.rejects(simulate({ bundle: zoo('spread-commnet'), episodes: 1, seed: 0, auth: true, broker: 'mqtt://127.0.0.1:1883' }), /external broker has its own/);
});
