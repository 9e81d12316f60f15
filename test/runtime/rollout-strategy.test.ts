// Rollouts stage by stage behind health gates (runtime/rollout/rollout-controller.ts), on a real
// broker with a team of real agents acting at about 10 Hz: a good bundle goes through its canary
// and then to everyone; a bad one (bounds no observation fits, so its agent can only take the
// safe action) fails its canary's gate and the fleet is assigned back its bundle, which the run
// times; a plan published elsewhere (`rollout abort`) ends a running rollout.

import t from 'tap';
import { startBroker } from '@fleetmind/broker';
import { packBundle, rolloutStrategySchema, runRollout, stagesOf, RolloutOperator, type RolloutPlan, type RolloutResult } from '@fleetmind/runtime';
import { newVersion, startRolloutFleet, type RolloutFleet, type Teardown } from '../helpers/rollout-fleet.js';

const fleetOf = ['agent_0', 'agent_1', 'agent_2', 'agent_3', 'agent_4', 'agent_5', 'agent_6', 'agent_7', 'agent_8', 'agent_9'];
const strategy = (raw: unknown) => rolloutStrategySchema.parse(raw);

t.test('stages: canaries, Greengrass-style rates and pinned agents', (t) => {
  t.same(stagesOf(strategy({ kind: 'all' }), fleetOf.slice(0, 3)), [['agent_0', 'agent_1', 'agent_2']]);
  t.same(stagesOf(strategy({ kind: 'canary', canary: { agents: ['agent_2'] } }), fleetOf.slice(0, 3)), [['agent_2'], ['agent_0', 'agent_1', 'agent_2']]);
  t.same(stagesOf(strategy({ kind: 'canary', canary: { fraction: 0.1 } }), fleetOf).map((s) => s.length), [1, 10]);
  t.same(stagesOf(strategy({ kind: 'staged', staged: { base: 0.1, factor: 2 } }), fleetOf).map((s) => s.length), [1, 2, 4, 8, 10], '10 %, 20 %, 40 %, 80 %, all');
  t.same(stagesOf(strategy({ kind: 'staged', staged: { base: 0.25, factor: 3 }, pinned: ['agent_0', 'agent_1'] }), fleetOf).map((s) => s.length), [2, 6, 8], 'pinned agents never move');
  t.notOk(stagesOf(strategy({ kind: 'staged', staged: { base: 0.25, factor: 3 }, pinned: ['agent_0', 'agent_1'] }), fleetOf).flat().includes('agent_0'));
  t.throws(() => stagesOf(strategy({ kind: 'canary', canary: { agents: ['agent_7'] } }), fleetOf.slice(0, 3)), /the canary names agents that are not in the fleet or are pinned: agent_7/);
  t.throws(() => strategy({ kind: 'canary' }), /a canary strategy needs canary/);
  t.throws(() => strategy({ kind: 'canary', canary: { agents: ['a'], fraction: 0.5 } }), /either agents or a fraction/);
  t.throws(() => strategy({ kind: 'staged', staged: { base: 0.1, factor: 1 } }), /factor/);
  t.throws(() => strategy({ kind: 'all', gates: { max_safe_rate: 2 } }), /max_safe_rate/);
  t.end();
});

/** Steps the team every 100 ms (10 Hz) until stopped. */
function actAt10Hz(fleet: RolloutFleet): { stop: () => Promise<void>; ticks: () => number; tiers: string[] } {
  let running = true;
  let ticks = 0;
  const tiers: string[] = [];
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      tiers.push(...(await fleet.step()).map((a) => a.tier));
      ticks++;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 100 - (performance.now() - started))));
    }
  })();
  return { stop: async () => { running = false; await loop; }, ticks: () => ticks, tiers };
}

async function roll(t: Teardown, bundleDir: string, name: string, raw: unknown): Promise<{ result: RolloutResult; fleet: RolloutFleet; tiers: string[]; plan: RolloutPlan | null }> {
  const broker = await startBroker({ port: 0, allowAnonymous: true });
  t.teardown(() => broker.close());
  const fleetName = `${name}-${process.pid}`;
  const fleet = await startRolloutFleet(t, broker.url, fleetName, { settings: { statusMs: 100 } });
  t.teardown(() => fleet.close());
  const operator = await RolloutOperator.connect({ brokerUrl: broker.url, fleet: fleetName });
  t.teardown(() => operator.close());
  await operator.until(() => operator.now().reports.length === 3, 'the three agents report', 10_000);
  const acting = actAt10Hz(fleet);
  const offered = await operator.offer({ bundleDir });
  const result = await runRollout({ operator, offer: offered.offer, strategy: strategy(raw), rollout: name, agents: fleetOf.slice(0, 3) });
  await acting.stop();
  return { result, fleet, tiers: acting.tiers, plan: operator.now().plan };
}

const CANARY = { kind: 'canary', canary: { agents: ['agent_1'] }, soak_s: 1, min_decisions: 10, stage_timeout_s: 20, gates: { max_safe_rate: 0.05, min_full_rate: 0.9 } };

t.test('a good bundle passes its canary, then goes to everyone, with every decision hearing the whole team', async (t) => {
  const { result, fleet, tiers, plan } = await roll(t, newVersion(t, '1.1.0'), 'good', CANARY);
  t.equal(result.outcome, 'completed', JSON.stringify(result.abort));
  t.same([plan?.rollout, plan?.stage], ['good-s2', { number: 2, of: 2 }], 'the fleet\'s plan says which stage it opened');
  t.same(result.stages.map((s) => s.agents), [['agent_1'], ['agent_0', 'agent_1', 'agent_2']]);
  t.ok(result.stages.every((s) => s.failures.length === 0 && s.health.every((h) => h.decisions >= 10 && h.safe_rate === 0 && h.full_rate >= 0.9)), 'every stage passed on its agents\' own counters');
  t.same((await fleet.reports()).map((r) => r.running.version), ['1.1.0', '1.1.0', '1.1.0']);
  // (a failure names the decisions that were not: tick k of the loop, agent_j, its tier)
  const notFull = tiers.flatMap((tier, i) => (tier === 'full' ? [] : [`tick ${Math.floor(i / 3)} agent_${i % 3} ${tier}`]));
  t.ok(tiers.length > 0 && notFull.length === 0, `all ${tiers.length} decisions during the rollout heard the whole team${notFull.length ? ` (not: ${notFull.join('; ')})` : ''}`);
});

t.test('a bad bundle fails its canary\'s gate, and the fleet is back on its bundle', async (t) => {
  const bad = newVersion(t, '6.6.6', undefined, (m) => {
    const obs = m.roles[0].observation as { size: number; low?: number[]; high?: number[] };
    obs.low = Array(obs.size).fill(100);
    obs.high = Array(obs.size).fill(101);
  });
  t.equal(packBundle(bad).offer.version, '6.6.6');
  const { result, fleet } = await roll(t, bad, 'bad', CANARY);
  t.equal(result.outcome, 'aborted');
  t.equal(result.stages.length, 1, 'stopped at the canary');
  t.match(result.abort!.reason, /stage 1 failed its health gates: agent_1: safe actions 100\.0 % > 5\.0 %/);
  t.ok(result.abort!.rolled_back_ms !== null, `the fleet was back on its bundle ${Math.round(result.abort!.rolled_back_ms ?? NaN)} ms after the gate failed`);
  const reports = await fleet.reports();
  t.same(reports.map((r) => r.running.version), ['1.0.0', '1.0.0', '1.0.0']);
  t.same(reports.map((r) => r.previous?.version ?? null), [null, '6.6.6', null], 'only the canary ever ran the bad bundle');
});

t.test('a plan published elsewhere (rollout abort) ends a running rollout', async (t) => {
  const broker = await startBroker({ port: 0, allowAnonymous: true });
  t.teardown(() => broker.close());
  const fleetName = `handover-${process.pid}`;
  const fleet = await startRolloutFleet(t, broker.url, fleetName, { settings: { statusMs: 100 } });
  t.teardown(() => fleet.close());
  const operator = await RolloutOperator.connect({ brokerUrl: broker.url, fleet: fleetName });
  t.teardown(() => operator.close());
  const other = await RolloutOperator.connect({ brokerUrl: broker.url, fleet: fleetName });
  t.teardown(() => other.close());
  await operator.until(() => operator.now().reports.length === 3, 'the three agents report', 10_000);
  const acting = actAt10Hz(fleet);
  const offered = await operator.offer({ bundleDir: newVersion(t, '1.2.0') });
  // a long soak: the abort comes while the canary soaks
  const running = runRollout({ operator, offer: offered.offer, strategy: strategy({ ...CANARY, soak_s: 60, stage_timeout_s: 120 }), rollout: 'long', agents: fleetOf.slice(0, 3) });
  await operator.until(() => operator.now().reports.find((r) => r.agent === 'agent_1')?.running.version === '1.2.0', 'the canary switched', 20_000);
  await other.rollback('by-hand', 300);
  const result = await running;
  t.equal(result.outcome, 'aborted');
  t.match(result.abort!.reason, /plan by-hand, published elsewhere, replaced this rollout's/);
  await operator.until(() => operator.now().reports.every((r) => r.running.version === '1.0.0'), 'the canary is back on 1.0.0', 10_000);
  await acting.stop();
});
