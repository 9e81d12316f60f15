// What an outside implementer hit, writing a simulator from the README and the .proto alone
// (issue: any simulator in the loop): each is fixed here and kept fixed.
//   - sent_us = time.time() * 1e6 has a fractional part: rounded, never a silent drop;
//   - a simulator that restarts its ticks each episode raises Observation.episode (wire 1.2);
//     peers that start the episode first are not refused as stale;
//   - the observation age limit is an option and two-sided (a clock an hour ahead is refused);
//   - observations that get no tick are counted by an honest reason;
//   - back-to-back observations: 'latest' replaces (counted), 'fifo' answers every one (bounded);
//   - values outside the manifest's bounds → the safe action (observation_out_of_range).

import t, { type Test } from 'tap';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startBroker } from '@fleetmind/broker';
import { loadBundle } from '@fleetmind/models';
import { createAgent, InProcessAdapter, MqttAdapter, OBSERVATION_QUEUE_LIMIT, type ActionOut, type AgentSettingsInput } from '@fleetmind/runtime';
import { agentTopic, decodeAction, encodeObservation } from '@fleetmind/wire';
import { makeWorld } from '@fleetmind/worlds';
import { REPO_ROOT } from '../helpers/paths.js';
import { COMMNET_BUNDLE } from '../helpers/agents.js';
import { connect } from '../helpers/mqtt.js';
import { until } from '../helpers/waiting.js';

const MLP_BUNDLE = join(REPO_ROOT, 'models', 'zoo', 'spread-mlp');
const silent = pino({ level: 'silent' });
const observation = (() => {
  const world = makeWorld('simple_spread_v3');
  return world.reset(3).observations[0];
})();

/** One MLP agent without a broker, fed through an in-process adapter. */
async function loneAgent(t: Test, settings: AgentSettingsInput = {}, bundleDir = MLP_BUNDLE) {
  const actions: ActionOut[] = [];
  const adapter = new InProcessAdapter((a) => actions.push(a));
  const agent = await createAgent({ bundle: bundleDir, agentId: 'agent_0', broker: null, adapter, logger: silent, ...settings });
  t.teardown(() => agent.stop());
  return { agent, adapter, actions };
}

t.test('an observation whose sent_us has a fractional part is answered (200 of 200, over MQTT)', async (t) => {
  const broker = await startBroker({ port: 0, allowAnonymous: true });
  t.teardown(() => broker.close());
  const fleet = `vendor-frac-${process.pid}`;
  const agent = await createAgent({ bundle: MLP_BUNDLE, agentId: 'agent_0', broker: broker.url, fleet, adapter: new MqttAdapter(), logger: silent });
  t.teardown(() => agent.stop());
  const world = await connect(broker.url);
  t.teardown(() => world.end(true));
  const actions: number[] = [];
  world.on('message', (_topic, payload) => actions.push(decodeAction(payload).tick));
  await world.subscribeAsync(agentTopic(fleet, 'agent_0', 'act'));
  await until(() => agent.connected(), 'the agent is connected');
  for (let tick = 1; tick <= 200; tick++) {
    // as Python writes it: time.time() * 1e6
    await world.publishAsync(agentTopic(fleet, 'agent_0', 'obs'), Buffer.from(encodeObservation({ tick, values: observation, sentUs: Date.now() * 1000 + 0.37 })));
    await until(() => actions.length === tick, `tick ${tick} is answered`);
  }
  t.same(actions, Array.from({ length: 200 }, (_, k) => k + 1), 'every observation got exactly one action, in order');
  t.equal(agent.snapshot().observationsDropped, 0);
  t.same(agent.snapshot().safeReasons, {}, 'none of them fell back to the safe action');
});

t.test('episodes restart the ticks: a new one is acted on from tick 1, an old one is refused, and the refusals are counted by reason', async (t) => {
  const { agent, adapter, actions } = await loneAgent(t, { observationQueue: 'fifo' });
  for (let tick = 1; tick <= 5; tick++) adapter.observe({ tick: 100 + tick, values: observation });
  await until(() => actions.length === 5, 'episode 0 is played');
  adapter.observe({ tick: 1, values: observation });
  adapter.observe({ tick: 1, values: observation, episode: 1 });
  await until(() => actions.length === 6, 'episode 1 starts at tick 1');
  t.same(actions.at(-1)!.tick, 1);
  adapter.observe({ tick: 2, values: observation, episode: 1 });
  adapter.observe({ tick: 50, values: observation, episode: 0 });
  await until(() => actions.length === 7, 'tick 2 of episode 1');
  const s = agent.snapshot();
  t.same(s.observationsRefused, { old_tick: 1, old_episode: 1 }, 'tick 1 without a new episode, and episode 0 after episode 1');
  const text = await agent.metrics.registry.metrics();
  t.match(text, /fleetmind_agent_observations_refused_total\{reason="old_tick",fleet="default",agent="agent_0"\} 1/);
  t.match(text, /fleetmind_agent_observations_refused_total\{reason="old_episode",fleet="default",agent="agent_0"\} 1/);
  t.notMatch(text, /observations_dropped_total/, 'the old, misnamed counter is gone');
});

t.test('peers that start a new episode first: their messages wait for this agent, so its first tick hears everyone', async (t) => {
  const broker = await startBroker({ port: 0, allowAnonymous: true });
  t.teardown(() => broker.close());
  const fleet = `vendor-episode-${process.pid}`;
  const bundle = await loadBundle(COMMNET_BUNDLE);
  t.teardown(() => bundle.close());
  const ids = ['agent_0', 'agent_1', 'agent_2'];
  const got: ActionOut[][] = ids.map(() => []);
  const adapters = ids.map((_, i) => new InProcessAdapter((a) => got[i].push(a)));
  const agents = await Promise.all(ids.map((id, i) => createAgent({ bundle, agentId: id, broker: broker.url, fleet, adapter: adapters[i], logger: silent, heartbeatMs: 50, peerTimeoutMs: 5_000, roundDeadlineMs: 5_000 })));
  t.teardown(() => Promise.all(agents.map((a) => a.stop())));
  await until(() => agents.every((a) => a.livePeers().length === 2), 'everyone hears everyone');
  for (const tick of [500, 501]) {
    adapters.forEach((a) => a.observe({ tick, values: observation }));
    await until(() => got.every((g) => g.at(-1)?.tick === tick), `tick ${tick} of episode 0`);
  }
  // episode 1 from tick 1: agents 0 and 1 see it first and send their round-1 messages
  const received = agents[2].snapshot().messages.received;
  adapters[0].observe({ tick: 1, values: observation, episode: 1 });
  adapters[1].observe({ tick: 1, values: observation, episode: 1 });
  await until(() => agents[2].snapshot().messages.received === received + 2, 'agent_2 holds both early messages of episode 1');
  t.same(agents[2].snapshot().messages.dropped, {}, 'and refused neither as stale');
  adapters[2].observe({ tick: 1, values: observation, episode: 1 });
  await until(() => got.every((g) => g.at(-1)?.tick === 1), 'tick 1 of episode 1 is answered by all');
  t.same(got.map((g) => g.at(-1)!.tier), ['full', 'full', 'full'], 'every agent heard both teammates on the first tick of the new episode');
});

t.test('the observation age limit is an option and two-sided: a clock an hour ahead is refused, not taken as fresh', async (t) => {
  const { agent, adapter, actions } = await loneAgent(t, { observationQueue: 'fifo' });
  const now = () => Date.now() * 1000;
  adapter.observe({ tick: 1, values: observation, sentUs: now() + 3_600e6 });
  adapter.observe({ tick: 2, values: observation, sentUs: now() - 2e6 });
  adapter.observe({ tick: 3, values: observation, sentUs: now() - 100e3 });
  await until(() => actions.length === 3, 'three answers');
  t.same(actions.map((a) => a.tier === 'safe'), [true, true, false]);
  t.same(agent.snapshot().safeReasons, { observation_from_future: 1, observation_stale: 1 });
  const lenient = await loneAgent(t, { maxObservationAgeMs: 5_000, observationQueue: 'fifo' });
  lenient.adapter.observe({ tick: 1, values: observation, sentUs: now() - 2e6 });
  lenient.adapter.observe({ tick: 2, values: observation, sentUs: now() + 2e6 });
  await until(() => lenient.actions.length === 2, 'two answers');
  t.same(lenient.agent.snapshot().safeReasons, {}, 'within 5 s either way: acted on');
});

t.test("back-to-back observations: 'latest' acts on the freshest and counts the replaced ones, 'fifo' answers each in turn up to its bound", async (t) => {
  const latest = await loneAgent(t);
  for (let tick = 1; tick <= 100; tick++) latest.adapter.observe({ tick, values: observation });
  await until(() => latest.actions.at(-1)?.tick === 100, 'the last observation is answered');
  const replaced = latest.agent.snapshot().observationsRefused.replaced ?? 0;
  t.ok(replaced > 0, `${replaced} replaced while a tick ran`);
  t.equal(latest.actions.length + replaced, 100, 'each observation was answered or counted as replaced');

  const fifo = await loneAgent(t, { observationQueue: 'fifo' });
  for (let tick = 1; tick <= 60; tick++) fifo.adapter.observe({ tick, values: observation });
  await until(() => fifo.actions.length === 60, 'every observation is answered');
  t.same(fifo.actions.map((a) => a.tick), Array.from({ length: 60 }, (_, k) => k + 1), 'fifo: one action per observation, in order');
  for (let tick = 61; tick <= 61 + OBSERVATION_QUEUE_LIMIT + 10; tick++) fifo.adapter.observe({ tick, values: observation });
  await until(() => fifo.actions.length === 60 + 1 + OBSERVATION_QUEUE_LIMIT, 'the queue is worked off');
  t.same(fifo.agent.snapshot().observationsRefused, { queue_full: 10 }, `beyond ${OBSERVATION_QUEUE_LIMIT} waiting: refused as queue_full, not held without bound`);
});

t.test('values outside the manifest\'s observation bounds get the safe action (observation_out_of_range)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fm-bounds-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(MLP_BUNDLE, dir, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  manifest.roles[0].observation.low = Array(18).fill(-10);
  manifest.roles[0].observation.high = Array(18).fill(10);
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  const { agent, adapter, actions } = await loneAgent(t, { observationQueue: 'fifo' }, dir);
  const huge = observation.slice();
  huge[4] = 1e30;
  adapter.observe({ tick: 1, values: huge });
  adapter.observe({ tick: 2, values: observation });
  await until(() => actions.length === 2, 'two answers');
  t.same(actions.map((a) => a.tier === 'safe'), [true, false]);
  t.same(agent.snapshot().safeReasons, { observation_out_of_range: 1 });
  manifest.roles[0].observation.high = Array(17).fill(10);
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  await t.rejects(loadBundle(dir), /observation\.low and \.high need one bound per element/, 'bounds that do not fit are refused at load');
});
