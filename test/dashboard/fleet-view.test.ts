// The dashboard's model of a fleet, fed by hand: liveness (announced goodbye or last will,
// silence past the peer timeout), the dominant tier between statuses, message rates over a
// sliding window, who heard whom, and unreadable input counted, never thrown.

import t from 'tap';
import { FleetView, MAX_AGENTS } from '@fleetmind/dashboard';
import { encodeAgentStatus, encodeHeartbeat, encodeWorldStepRecord, type AgentStatus } from '@fleetmind/wire';

const status = (agent: string, tiers: AgentStatus['tiers'], heard: string[] = []): Uint8Array => encodeAgentStatus({
  agent, bundle: 'b', bundleVersion: '1.2.3', role: 'agent', tick: 10, tiers, deadlineMisses: 1, messagesSent: 5, messagesReceived: 9,
  messagesDropped: 2, tickP50Ms: 1.5, tickP99Ms: 4, inferenceP50Ms: 0.02, heard, livePeers: heard.length, sentUs: 1,
});

t.test('liveness: online on a heartbeat or status, offline on a goodbye at once or after the peer timeout', (t) => {
  const view = new FleetView(1_000);
  view.receive('fm/f/a/a0/hb', encodeHeartbeat({ agent: 'a0', online: true, tick: 1, sentUs: 1 }), 0);
  view.receive('fm/f/a/a1/status', status('a1', { full: 5, partial: 0, none: 0, safe: 0 }), 0);
  t.same(view.snapshot(500).agents.map((a) => [a.agent, a.state]), [['a0', 'online'], ['a1', 'online']]);
  view.receive('fm/f/a/a0/hb', encodeHeartbeat({ agent: 'a0', online: false, tick: 2, sentUs: 2 }), 600);
  let s = view.snapshot(700);
  t.same([s.agents[0].state, s.agents[0].offlineReason, s.agents[0].offlineSinceMs], ['offline', 'announced', 600], 'the last will: offline at once');
  t.equal(s.agents[1].state, 'online', 'within the timeout');
  s = view.snapshot(1_001);
  t.same([s.agents[1].state, s.agents[1].offlineReason, s.agents[1].offlineSinceMs], ['offline', 'silent', 1_000], 'silent past the timeout: offline since it went quiet');
  view.receive('fm/f/a/a1/hb', encodeHeartbeat({ agent: 'a1', online: true, tick: 3, sentUs: 3 }), 1_500);
  t.equal(view.snapshot(1_600).agents[1].state, 'online', 'back when heard again');
  t.end();
});

t.test('tiers, rates and edges', (t) => {
  const view = new FleetView(1_000);
  view.receive('fm/f/a/a0/status', status('a0', { full: 10, partial: 0, none: 0, safe: 0 }, ['a1']), 0);
  view.receive('fm/f/a/a0/status', status('a0', { full: 12, partial: 7, none: 1, safe: 0 }, ['a1', 'a2']), 900);
  for (let k = 0; k < 30; k++) view.receive('fm/f/a/a0/msg', new Uint8Array(1), k * 50);
  const s = view.snapshot(2_200);
  t.equal(s.agents[0].tier, 'partial', 'the tier of most ticks since the last status');
  t.same(s.tiers, { full: 12, partial: 7, none: 1, safe: 0 });
  t.equal(s.agents[0].messagesPerSecond, 13, '26 of the 30 messages in the last 2 s');
  t.same(s.edges, [['a1', 'a0'], ['a2', 'a0']], 'who a0 heard');
  t.same([s.deadlineMisses, s.messagesDropped], [1, 2]);
  t.end();
});

t.test('unreadable input is counted by reason, never thrown', (t) => {
  const view = new FleetView(1_000);
  view.receive('fm/f/a/a0/status', Uint8Array.from([0xff, 0xff, 0xff]), 0);
  view.receive('fm/f/a/a0/status', status('a9', { full: 1, partial: 0, none: 0, safe: 0 }), 0);
  view.receive('fm/f/a/a0/hb', new Uint8Array(10_000), 0);
  view.receive('not/a/fleetmind/topic', new Uint8Array(1), 0);
  view.receive('fm/f/world', Uint8Array.from([0x0a, 0xff]), 0);
  view.receive('fm/f/world', encodeWorldStepRecord({ episode: 1, tick: 4, agents: ['a0'], positions: Float32Array.from([0.5, -0.25]), rewards: [-1], faults: ['crash a0'] }), 0);
  const s = view.snapshot(10);
  t.same(s.refused, { malformed: 2, misaddressed: 1, oversized: 1, unknown_topic: 1 });
  t.same(s.world && [s.world.tick, s.world.positions, s.world.faults, s.world.active], [4, [0.5, -0.25], ['crash a0'], []], 'a good world step after a bad one (no active list: every agent)');
  view.receive('fm/f/world', encodeWorldStepRecord({ episode: 1, tick: 5, agents: ['c0', 'c1', 'c2'], positions: Float32Array.from([0, 0, 1, 1, 2, 2]), rewards: [0, 0, 0], faults: [], active: [true, false, true] }), 0);
  t.same(view.snapshot(11).world?.active, [true, false, true], 'which agents are in the episode (wire 1.8)');
  t.end();
});

t.test('a client inventing agent ids cannot grow the view without bound', (t) => {
  const view = new FleetView(1_000);
  for (let k = 0; k < MAX_AGENTS + 50; k++) view.receive(`fm/f/a/x${k}/msg`, new Uint8Array(1), 0);
  const s = view.snapshot(1);
  t.equal(s.agents.length, MAX_AGENTS);
  t.same(s.refused, { too_many_agents: 50 });
  t.end();
});
