// An agent that is not in the episode (not arrived yet, or left) says so with a STANDBY heartbeat
// (wire 1.1): its peers stop waiting for its messages at once — no round runs into its deadline —
// and its next observation brings it back into their rounds.

import t from 'tap';
import { startBroker } from '@fleetmind/broker';
import { decodeHeartbeat, encodeHeartbeat } from '@fleetmind/wire';
import { startTestFleet, untilAllLive } from '../helpers/agents.js';
import { until } from '../helpers/waiting.js';

t.test('the STANDBY state round-trips, and a 1.0 reader\'s states still decode', (t) => {
  const hb = { agent: 'robot_1', online: true, standby: true, tick: 4, sentUs: 1_800_000_000_000_000 };
  t.same(decodeHeartbeat(encodeHeartbeat(hb)), hb);
  t.same(decodeHeartbeat(encodeHeartbeat({ agent: 'a', online: false, tick: 1, sentUs: 0 })), { agent: 'a', online: false, tick: 1, sentUs: 0 });
  t.end();
});

t.test('a peer on standby is not waited for, and rejoins with its next observation', async (t) => {
  const broker = await startBroker({ port: 0, allowAnonymous: true });
  t.teardown(() => broker.close());
  // a long round deadline: waiting for an absent peer would show as a deadline miss
  const fleet = await startTestFleet(broker.url, `standby-${process.pid}`, { roundDeadlineMs: 2_000 });
  t.teardown(() => fleet.close());
  await untilAllLive(fleet);
  let actions = await fleet.step();
  t.same(actions.map((a) => a.tier), ['full', 'full', 'full']);

  fleet.adapters[1].standby();
  await until(() => !fleet.agents[0].livePeers().includes('agent_1') && !fleet.agents[2].livePeers().includes('agent_1'), 'the peers see agent_1 on standby');
  const misses = fleet.agents[0].snapshot().deadlineMisses;
  const started = performance.now();
  actions = await fleet.stepSome(new Set([1]));
  t.ok(performance.now() - started < 1_000, 'the round did not wait for the absent peer');
  t.equal(fleet.agents[0].snapshot().deadlineMisses, misses, 'no deadline miss charged');
  t.same(actions.map((a) => a.tier), ['full', 'full'], 'each heard every peer in the episode: one on standby is not missed');

  // its next observation brings it back: ONLINE again, heard in the rounds
  actions = await fleet.step();
  await untilAllLive(fleet);
  actions = await fleet.step();
  t.same(actions.map((a) => a.tier), ['full', 'full', 'full']);
});
