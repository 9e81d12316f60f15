// Short seeded fuzz runs, both ends (the long ones are `fleetmind bench fuzz` by hand): the
// broker never exits and its memory stays bounded while healthy clients keep their deadlines;
// a live fleet keeps deciding through mutated payloads on every topic, counting each refusal.

import t from 'tap';
import { join } from 'node:path';
import { fuzzBroker, fuzzFleet } from '@fleetmind/bench';
import { REPO_ROOT } from '../helpers/paths.js';

// CI shares two cores between this and another test file: the healthy agents' deadline is 100 ms
// here; the long run by hand (`fleetmind bench fuzz`) holds them to 50 ms on an idle machine.
t.test('the broker takes 20,000 malformed and mutated frames without exiting, its memory bounded, healthy agents within 100 ms', async (t) => {
  const r = await fuzzBroker({ packets: 20_000, seed: 7, deadlineMs: 100 });
  t.equal(r.packets, 20_000);
  t.equal(r.crashes, 0, 'the broker never exited');
  for (const m of ['valid', 'flipped', 'length_lie', 'absurd_length', 'truncated', 'unknown_type', 'subscribe_flood', 'garbage'] as const) t.ok((r.by_mutation[m] ?? 0) > 1000, `${m}: ${r.by_mutation[m]}`);
  t.ok(r.closed_by_broker > 0, `the broker closed ${r.closed_by_broker} of ${r.connections} fuzz connections`);
  t.ok(r.broker_rss_mib.peak < 512, `broker RSS: ${r.broker_rss_mib.start} → peak ${r.broker_rss_mib.peak} MiB`);
  t.equal(r.healthy.disconnects, 0, 'the healthy agents were never disconnected');
  t.ok(r.healthy.round_trips > 500, `${r.healthy.round_trips} healthy round trips`);
  t.ok(r.healthy.within_deadline_ratio >= 0.99, `${(r.healthy.within_deadline_ratio * 100).toFixed(2)} % within ${r.healthy.deadline_ms} ms (p99 ${r.healthy.p99_ms} ms)`);
});

t.test('a live 10-agent fleet keeps deciding through 5,000 mutated payloads on msg, hb, obs, ctl and tick, and counts every refusal by reason', async (t) => {
  // 10 Hz: the whole fleet, its broker, world and attacker share this one process, and CI shares
  // the cores with another test file; a 50 ms period is the hand-run bench's (`--hz 20`)
  const r = await fuzzFleet({ bundle: join(REPO_ROOT, 'bench', 'bundles', 'spread10-commnet'), payloads: 5_000, seed: 7, hz: 10 });
  t.equal(r.payloads, 5_000);
  for (const channel of ['msg', 'hb', 'obs', 'ctl', 'tick']) t.ok((r.by_topic[channel] ?? 0) > 500, `${channel}: ${r.by_topic[channel]}`);
  t.ok(r.decisions.min_agent_ratio >= 0.9, `every agent decided in ${(r.decisions.min_agent_ratio * 100).toFixed(1)} % or more of its periods`);
  for (const reason of ['malformed', 'oversized', 'invalid', 'wrong_fleet', 'misaddressed', 'bad_round']) t.ok((r.refusals[reason] ?? 0) > 0, `refused as ${reason}: ${r.refusals[reason]}`);
  t.ok(r.observations_refused > 0, `${r.observations_refused} observations refused`);
  t.ok(r.tiers.full > 0, 'and the fleet still communicated');
});

t.test('the control run draws the same payloads and sends none: nothing to refuse', async (t) => {
  const r = await fuzzFleet({ bundle: join(REPO_ROOT, 'bench', 'bundles', 'spread10-commnet'), payloads: 1_000, seed: 7, hz: 10, hostile: false });
  t.equal(r.control, true);
  t.equal(Object.values(r.by_topic).reduce((a, b) => a + b, 0), 1_000, 'the payloads were drawn');
  t.same(r.refusals, {}, 'no refusal of any kind');
  t.equal(r.observations_refused, 0);
  t.ok(r.decisions.made > 0);
});
