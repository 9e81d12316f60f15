// Free-running agents (--hz) and the Prometheus endpoint.

import t from 'tap';
import { pino } from 'pino';
import { createAgent, InProcessAdapter, serveMetrics, type ActionOut } from '@fleetmind/runtime';
import { COMMNET_BUNDLE } from '../helpers/agents.js';
import { until } from '../helpers/waiting.js';

const OBS = () => Float32Array.from({ length: 18 }, (_, k) => Math.sin(k) / 3);

type SafeReasons = Record<string, number | undefined>;
/** the reasons a stalled machine gives for a safe action: a frame grown stale, a decision past its period */
const STALL_REASONS = ['observation_stale', 'overrun'];
/** how many more safe actions each reason has had since `before` (reasons with none left out) */
function safeReasonsSince(before: SafeReasons, now: SafeReasons): Record<string, number> {
  return Object.fromEntries(Object.keys(now).map((r) => [r, (now[r] ?? 0) - (before[r] ?? 0)] as const).filter(([, n]) => n > 0));
}

t.test('free-running at --hz: acts on the latest observation each period; none yet or too old gets the safe action', async (t) => {
  const actions: ActionOut[] = [];
  const adapter = new InProcessAdapter((a) => actions.push(a));
  const agent = await createAgent({ bundle: COMMNET_BUNDLE, agentId: 'agent_0', broker: null, adapter, logger: pino({ level: 'silent' }), hz: 50, maxObservationAgeMs: 150 });
  t.teardown(() => agent.stop());
  await until(() => actions.length >= 3, 'three periods pass');
  t.ok(actions.length >= 3, `${actions.length} decisions at 50 Hz`);
  t.ok(actions.every((a) => a.tier === 'safe'), 'no observation yet: the safe action');
  // a camera at 100 Hz: each period acts on a frame at most ~10 ms old
  let frame = 0;
  const before = actions.length;
  const reasonsBefore = { ...agent.snapshot().safeReasons };
  adapter.observe({ tick: ++frame, values: OBS() });
  const camera = setInterval(() => adapter.observe({ tick: ++frame, values: OBS() }), 10);
  await until(() => actions.slice(before).filter((a) => a.tier === 'none').length >= 3, 'the policy acts in three periods');
  clearInterval(camera);
  const fresh = actions.slice(before);
  // a safe action among these is right only for a stall of the machine: a frame older than 150 ms
  // (observation_stale) or a decision past its 20 ms period (overrun, seen on a loaded 2-core CI
  // host); a period that ignored a fresh frame would give another reason (observation_missing)
  const since = safeReasonsSince(reasonsBefore, agent.snapshot().safeReasons);
  const safeCount = fresh.filter((a) => a.tier === 'safe').length;
  const stallCount = STALL_REASONS.reduce((n, r) => n + (since[r] ?? 0), 0);
  t.ok(fresh.every((a) => a.tier === 'none' || a.tier === 'safe'), `fresh observations: the policy acts (alone, without peers): ${fresh.map((a) => a.tier).join(', ')}`);
  t.ok(safeCount <= stallCount, `each safe action among them (${safeCount}) is a stall's (${stallCount}: ${JSON.stringify(since)})`);
  t.same(Object.keys(since).filter((r) => !STALL_REASONS.includes(r)), [], 'no safe action for another reason since the first frame');
  t.ok(new Set(fresh.map((a) => a.tick)).size === fresh.length, 'each period has its own tick number');
  await until(() => actions[actions.length - 1].tier === 'safe', 'the observation grows older than 150 ms');
  t.equal(actions[actions.length - 1].tier, 'safe', 'the observation grew older than 150 ms: the safe action again');
  t.ok((agent.snapshot().safeReasons.observation_stale ?? 0) > 0 && (agent.snapshot().safeReasons.observation_missing ?? 0) > 0);
});

t.test('free-running: a frame it cannot act on (wrong size, NaN, out of bounds) is refused and counted, and the last usable one stays until it is stale', async (t) => {
  const actions: ActionOut[] = [];
  const adapter = new InProcessAdapter((a) => actions.push(a));
  const agent = await createAgent({ bundle: COMMNET_BUNDLE, agentId: 'agent_0', broker: null, adapter, logger: pino({ level: 'silent' }), hz: 50, maxObservationAgeMs: 300 });
  t.teardown(() => agent.stop());
  adapter.observe({ tick: 1, values: OBS() });
  await until(() => actions.some((a) => a.tier === 'none'), 'the policy acts on the first frame');
  const nan = OBS();
  nan[2] = Number.NaN;
  const reasonsBefore = { ...agent.snapshot().safeReasons };
  adapter.observe({ tick: 2, values: new Float32Array(5) });
  adapter.observe({ tick: 3, values: nan });
  const before = actions.length;
  await until(() => actions.length >= before + 3, 'three more periods pass');
  // the frame is young for these periods unless the machine stalled: a stall past 300 ms makes it
  // stale, and one past a 20 ms period makes a decision overrun (both seen on a loaded 2-core CI
  // host), and either safe action is right; a bad frame that displaced the good one would give
  // another reason (the policy cannot act on 5 values or a NaN)
  const next = actions.slice(before, before + 3);
  const reasons = agent.snapshot().safeReasons;
  const newReasons = Object.keys(safeReasonsSince(reasonsBefore, reasons));
  t.ok(next.every((a) => a.tier === 'none' || (a.tier === 'safe' && newReasons.length > 0)), `the policy still acts, on the last usable frame (${next.map((a) => a.tier).join(', ')})`);
  t.same(newReasons.filter((r) => !STALL_REASONS.includes(r)), [], `no safe action since the bad frames but for a stall (${JSON.stringify(reasons)})`);
  t.same(agent.snapshot().observationsRefused, { unusable: 2 }, 'both bad frames refused as unusable');
  const staleBefore = agent.snapshot().safeReasons.observation_stale ?? 0;
  await until(() => (agent.snapshot().safeReasons.observation_stale ?? 0) > staleBefore, 'the last usable frame grows older than 300 ms');
  t.equal(actions[actions.length - 1].tier, 'safe', 'then the safe action, as stale');
});

t.test('Prometheus metrics at /metrics', async (t) => {
  const adapter = new InProcessAdapter(() => {});
  let ticks = 0;
  const agent = await createAgent({ bundle: COMMNET_BUNDLE, agentId: 'agent_1', broker: null, adapter, logger: pino({ level: 'silent' }), fleet: 'm1', onTick: () => { ticks++; } });
  t.teardown(() => agent.stop());
  const { server, port } = await serveMetrics(agent.metrics.registry, 0);
  t.teardown(() => server.close());
  adapter.observe({ tick: 1, values: OBS() });
  adapter.observe({ tick: 2, values: new Float32Array(3) });
  await until(() => ticks === 2, 'both observations are acted on');
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  t.match(text, /fleetmind_agent_ticks_total\{tier="none",fleet="m1",agent="agent_1"\} 1/);
  t.match(text, /fleetmind_agent_safe_actions_total\{reason="observation_size",fleet="m1",agent="agent_1"\} 1/);
  t.match(text, /fleetmind_agent_inference_seconds_bucket/);
  t.match(text, /fleetmind_agent_tick_seconds_count\{fleet="m1",agent="agent_1"\} 2/);
  t.match(text, /fleetmind_agent_messages_received_total\{fleet="m1",agent="agent_1"\} 0\n/, 'a counter nothing counted yet reads 0');
  t.notMatch(text, /fleetmind_agent_ticks_total\{tier="full"/, 'a tier no tick took has no series');
  // the counters are read from the agent's own counts when scraped: a second scrape says the same, and more ticks count
  const again = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  t.match(again, /fleetmind_agent_ticks_total\{tier="none",fleet="m1",agent="agent_1"\} 1\n/);
  adapter.observe({ tick: 3, values: OBS() });
  await until(() => ticks === 3, 'a third observation is acted on');
  const after = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  t.match(after, /fleetmind_agent_ticks_total\{tier="none",fleet="m1",agent="agent_1"\} 2\n/);
  t.match(after, /fleetmind_agent_safe_actions_total\{reason="observation_size",fleet="m1",agent="agent_1"\} 1\n/);
  t.equal((await fetch(`http://127.0.0.1:${port}/other`)).status, 404);
});
