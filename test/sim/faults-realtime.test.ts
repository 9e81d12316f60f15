// The faults that only real time shows, at 10 and 20 Hz: every action must arrive within its tick.
// run-tap: alone (a second job's CPU beside these would make the fleet late on a two-core machine)

import t from 'tap';
import { dropped, EPISODES, keptActing, runFaulted as run } from '../helpers/fault-runs.js';

t.test('delay beyond the round deadline in real time: the message is stale on arrival', async (t) => {
  const plan = 'faults: [{kind: delay, ms: 80, links: {from: [agent_0], to: "*"}}]';
  const realTime = await run(plan, { episodes: 1, hz: 20, agent: { roundDeadlineMs: 30 } });
  t.ok((dropped(realTime).stale ?? 0) > 0, `real time: agents refused ${dropped(realTime).stale} stale messages`);
});

t.test('broker outage and restart in the middle of an episode: fallback meanwhile, full communication after', async (t) => {
  // real time at 10 Hz, so the outage lasts half a second and the reconnection happens inside the episode
  const roundDeadlineMs = 30;
  const r = await run('faults: [{kind: broker_outage, window: {episodes: [0, 1], ticks: [5, 10]}}]', { episodes: 1, hz: 10, agent: { reconnectBaseMs: 30, reconnectMaxMs: 60, heartbeatMs: 50, peerTimeoutMs: 300, roundDeadlineMs } });
  t.equal(r.faults_applied.broker_outage, 2, 'down, then back');
  t.type(r.host_stall_ms_max, 'number', 'real time: the host\'s own stalls are measured');
  const ep0 = r.trace!.filter((x) => x.episode === 0);
  // (what each tick's agents did, with the faults logged, said when an assertion fails: a timing problem shows where)
  const ticks = ep0.map((x) => `${x.tick}: ${x.tiers.map((tier, i) => `${tier ?? 'missing'}${x.lateRounds?.[i] ? ' late' : ''}`).join('/')}${x.stallMs ? ` stalled ${x.stallMs} ms` : ''}${x.faults.length ? ` (${x.faults.map((f) => `${f.kind} ${f.target}`).join(', ')})` : ''}`).join('; ');
  // The agents share this process's event loop with the simulator and the broker: when the host
  // itself stalls longer than a decision's slack in the 100-ms period (two rounds may each wait out
  // their deadline), every agent misses that tick together. Such a miss measured the host, and only
  // such a miss is excused: every other one fails the test.
  const slackMs = 100 - 2 * roundDeadlineMs;
  const hostStalled = (x: (typeof ep0)[number]) => x.stallMs! >= slackMs;
  const stalledMisses = ep0.filter(hostStalled).reduce((sum, x) => sum + x.tiers.filter((tier) => tier === null).length, 0);
  t.ok(ep0.slice(5, 10).every((x) => x.tiers.every((tier) => tier === 'none' || (tier === null && hostStalled(x)))), `no broker: every agent on its no-communication graph (${ticks})`);
  // after the reconnection every agent acts on everyone's messages again; on a loaded host a message
  // may still come after its 30-ms round deadline, and such a tick is partial by design: it is told
  // apart by the round the agent closed at its deadline, and a tick that is not full without one fails
  const after = ep0.slice(15);
  t.ok(after.some((x) => x.tiers.every((tier) => tier === 'full')), `reconnected within the episode: full communication again (${ticks})`);
  const unexplained = after.flatMap((x) => x.tiers.map((tier, i) => ({ tick: x.tick, agent: i, tier, late: x.lateRounds![i], stalled: hostStalled(x) })))
    .filter((d) => d.tier !== 'full' && d.late === 0 && !(d.tier === null && d.stalled));
  t.same(unexplained, [], `after the reconnection, nothing short of full communication but a round past its deadline or a host stall (${ticks}; counters ${JSON.stringify(r.agent_counters)})`);
  t.equal(r.missing_actions, stalledMisses, `no agent ever stopped acting but on a tick the host stalled (${ticks})`);
  t.equal(r.agent_counters!.reconnects, 3, 'every agent reconnected, once');
  keptActing(t, r, 25 * 3 - stalledMisses);
});

t.test('slow inference: decisions past the tick budget become the safe action', async (t) => {
  // two calls a decision (stage 0; the last round with the final graph): 2 × 60 ms > the 100 ms budget
  const r = await run('faults: [{kind: slow_inference, ms: 60, agents: [agent_0], window: {ticks: [0, 3]}}]', { agent: { tickBudgetMs: 100 } });
  t.ok(r.faults_applied.slow_inference! > 0);
  t.ok((r.agent_counters!.safeReasons.overrun ?? 0) >= EPISODES * 3, 'overruns counted');
  t.ok(r.tiers.safe >= EPISODES * 3);
  keptActing(t, r);
  await t.rejects(run('faults: [{kind: slow_inference, ms: 40}]', { mode: 'procs' }), /slow_inference needs --mode inproc/, 'refused before anything runs in other modes');
});

