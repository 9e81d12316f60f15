// Traffic-junction fleets: cars are runtime agents that join the fleet's rounds when their car
// enters and leave when it exits. With no faults the fleet replays `fleetmind eval --bundle`
// episode by episode, with the emergency brake and keep-clear too, and a car on the road never waits for a slot
// that has no car.

import t from 'tap';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBundle } from '@fleetmind/models';
import { evaluateControllerAsync, makeWorld, type JunctionShield } from '@fleetmind/worlds';
import { bundleController } from '@fleetmind/trainer/bundle-controller';
import { simulate } from '@fleetmind/sim-harness/fleet';
import { REPO_ROOT } from '../helpers/paths.js';

const BUNDLE = join(REPO_ROOT, 'models', 'zoo', 'junction-easy-commnet');

async function reference(episodes: number, seed: number, shield?: JunctionShield, dir = BUNDLE) {
  const bundle = await loadBundle(dir);
  const config = { ...bundle.manifest.world.config, ...(shield ? { shield } : {}) };
  const world = makeWorld(bundle.manifest.world.id, { numEnvs: episodes, autoReset: false, config });
  const report = await evaluateControllerAsync(world, bundleController(world, bundle, { seed }), seed);
  await bundle.close();
  return report;
}

for (const shield of [undefined, 'emergency-brake', 'keep-clear'] as const) {
  t.test(`cars come and go as agents; the fleet replays eval --bundle${shield ? ` under the ${shield} shield` : ''}`, async (t) => {
    const episodes = 12;
    const expected = await reference(episodes, 4, shield);
    // generous deadlines and budget: this is about what the fleet decides, not how fast a loaded machine lets it
    const sim = await simulate({ bundle: BUNDLE, episodes, seed: 4, shield, agent: { roundDeadlineMs: 2_000, peerTimeoutMs: 5_000, tickBudgetMs: 5_000 } });
    t.same(sim.episode_team_returns, expected.episode_team_returns, 'identical per-episode team returns');
    t.equal(sim.agent_links, 'proxies', 'cars come and go: their peers are told so on their links');
    t.same(sim.outcomes, expected.outcomes, 'the same successes, collisions, arrivals, completions and brake overrides');
    t.ok(sim.outcomes.arrivals > 5 && sim.outcomes.completions > 3, `cars entered and left (${sim.outcomes.arrivals} arrivals, ${sim.outcomes.completions} completions per episode)`);
    t.equal(sim.missing_actions, 0, 'every car on the road answered every tick');
    t.equal(sim.tiers.partial + sim.tiers.none + sim.tiers.safe, 0, `no round was charged for a slot without a car: every decision heard every car on the road (${JSON.stringify(sim.tiers)}, ${JSON.stringify(sim.agent_counters?.safeReasons)})`);
    t.equal(sim.asked_actions, sim.tiers.full, 'only cars on the road were asked');
    const ticks = episodes * 20 * 5;
    t.ok(sim.asked_actions > 0 && sim.asked_actions < ticks * 0.7, `a slot without a car is not asked (${sim.asked_actions} of ${ticks} slot-ticks)`);
    if (shield) t.ok(typeof sim.outcomes.shield_overrides === 'number');
  });
}

t.test('radio range: a bundle trained hearing only teammates within a radius hears only them in the fleet too, and replays eval --bundle', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fleetmind-radius-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(BUNDLE, dir, { recursive: true });
  const manifestPath = join(dir, 'manifest.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  manifest.communication.trained.comm_radius = 2;
  writeFileSync(manifestPath, JSON.stringify(manifest));
  const episodes = 12;
  const everyone = await reference(episodes, 4);
  const inRange = await reference(episodes, 4, undefined, dir);
  t.notSame(inRange.episode_team_returns, everyone.episode_team_returns, 'the radius changes what the cars decide (else this test proves nothing)');
  const sim = await simulate({ bundle: dir, episodes, seed: 4, agent: { roundDeadlineMs: 2_000, peerTimeoutMs: 5_000, tickBudgetMs: 5_000 } });
  t.same(sim.episode_team_returns, inRange.episode_team_returns, 'identical per-episode team returns');
  t.same(sim.outcomes, inRange.outcomes, 'the same successes, collisions, arrivals and completions');
  t.ok(sim.messages.out_of_range > 0, `messages beyond the radius were lost (${sim.messages.out_of_range})`);
  t.equal(sim.messages.dropped, 0, 'and not counted as faults');
  t.equal(sim.missing_actions, 0, 'no car waited out a deadline for a peer out of range');
  await t.rejects(simulate({ bundle: dir, episodes: 1, seed: 4, shards: 1 }), /--shards: the bundle hears only teammates within 2 .*radio range/);
});
