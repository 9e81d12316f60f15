// Every fault kind: the fault happened (the engine's count, and its mark on the agents — their
// tiers, refusal counters or actions) and the fleet kept acting through it. These run in lockstep
// (simulated time); the faults that only real time shows are in faults-realtime.test.ts, alone.

import t from 'tap';
import { FaultEngine, parseFaultPlan, simulate, type SimReport } from '@fleetmind/sim-harness/fleet';
import { encodePeerMessage } from '@fleetmind/wire';
import { dropped, EPISODES, FAULT_BUNDLE as BUNDLE, keptActing, runFaulted as run, TICKS } from '../helpers/fault-runs.js';

let nominal: SimReport;
t.before(async () => { nominal = await simulate({ bundle: BUNDLE, episodes: EPISODES, seed: 4 }); });

t.test('with nothing needing them, the agents have no link proxies, and the broker counts the very messages the links count', async (t) => {
  t.equal(nominal.agent_links, 'direct', 'no faults, every agent always in the episode, the embedded broker: no proxies');
  const proxied = await run('faults: [{kind: drop, p: 0}]');
  t.equal(proxied.agent_links, 'proxies', 'a fault plan puts every agent behind its link');
  t.equal(proxied.faults_applied.drop ?? 0, 0, 'a loss of probability 0 loses nothing');
  t.same(proxied.messages, nominal.messages, `sent, delivered and bytes: ${JSON.stringify(nominal.messages)}`);
  t.same(proxied.episode_team_returns, nominal.episode_team_returns, 'and the episodes are the same');
  t.same(proxied.tiers, nominal.tiers);
  t.ok(nominal.messages.sent > 0 && nominal.messages.delivered! >= nominal.messages.sent, 'messages were counted');
});

t.test('drop: lost messages become partial decisions', async (t) => {
  const r = await run('faults: [{kind: drop, p: 0.3}]');
  t.ok(r.faults_applied.drop! > 0.2 * r.messages.sent, `${r.faults_applied.drop} of ${r.messages.sent * 2} deliveries dropped`);
  t.ok(r.messages.delivered! < nominal.messages.delivered!, 'fewer messages delivered than nominal');
  t.ok(r.tiers.partial > 0, 'agents decided on partial inboxes');
  t.equal(r.agent_counters!.deadlineMisses, 0, 'lockstep: every lost message was announced, no round waited out its deadline');
  keptActing(t, r);
});

/** The engine's verdict on `count` peer messages on the link agent_0 → agent_1: true = lost. */
function lossSequence(yaml: string, count: number): boolean[] {
  const engine = new FaultEngine(parseFaultPlan(yaml), ['agent_0', 'agent_1'], 4, { message: null });
  const filter = engine.downFilter('agent_1');
  const packet = { cmd: 'publish', topic: 'fm/f/a/agent_0/msg', payload: Buffer.alloc(8), qos: 0, dup: false, retain: false } as const;
  return Array.from({ length: count }, () => {
    let delivered = false;
    filter(packet, () => { delivered = true; });
    return !delivered;
  });
}

/** mean length of the runs of consecutive losses */
function meanLossRun(losses: boolean[]): number {
  const runs: number[] = [];
  let current = 0;
  for (const lost of [...losses, false]) {
    if (lost) current++;
    else if (current > 0) { runs.push(current); current = 0; }
  }
  return runs.reduce((a, b) => a + b, 0) / runs.length;
}

t.test('burst_drop: Gilbert–Elliott losses come in runs, longer than independent losses at the same rate', async (t) => {
  const r = await run('faults: [{kind: burst_drop, p_good_to_bad: 0.2, p_bad_to_good: 0.2}]');
  t.ok(r.faults_applied.burst_drop! > 0);
  t.ok(r.tiers.partial + r.tiers.none > 0);
  keptActing(t, r);
  // on one link, 20,000 messages: the chain spends half its time bad (p_gb = p_bg), where it
  // loses everything, and stays bad for 1 / p_bg = 5 messages on average
  const bursty = lossSequence('faults: [{kind: burst_drop, p_good_to_bad: 0.2, p_bad_to_good: 0.2}]', 20_000);
  const rate = bursty.filter(Boolean).length / bursty.length;
  t.ok(Math.abs(rate - 0.5) < 0.03, `loss rate ${rate.toFixed(3)} ≈ 0.5`);
  const independent = lossSequence(`faults: [{kind: drop, p: ${rate}}]`, 20_000);
  const burstRun = meanLossRun(bursty);
  const independentRun = meanLossRun(independent);
  // independent losses at rate q: runs of mean 1 / (1 − q) = 2
  t.ok(Math.abs(independentRun - 1 / (1 - rate)) < 0.15, `independent losses: mean run ${independentRun.toFixed(2)} ≈ ${(1 / (1 - rate)).toFixed(2)}`);
  t.ok(Math.abs(burstRun - 5) < 0.5, `bursty losses: mean run ${burstRun.toFixed(2)} ≈ 5`);
  t.ok(burstRun > 2 * independentRun, 'losses come in runs');
});

t.test('lockstep: what a message meets on its link does not depend on garbage that reached the receiver before it', async (t) => {
  // a hostile peer's garbage follows its messages; when the receiver is killed (a crash fault),
  // whether the garbage in flight got through first is a race, so it must draw nothing
  const plan = 'faults: [{kind: drop, p: 0.3}, {kind: duplicate, p: 0.2}, {kind: corrupt, p: 0.2}]';
  const fates = (garbageBefore: (k: number) => number) => {
    const engine = new FaultEngine(parseFaultPlan(plan), ['agent_0', 'agent_1'], 4, { message: { size: 4, quantization: 'f32' }, logical: { roundDeadlineMs: 1000 } });
    const filter = engine.downFilter('agent_1');
    const packet = (payload: Uint8Array) => ({ cmd: 'publish', topic: 'fm/f/a/agent_0/msg', payload: Buffer.from(payload), qos: 0, dup: false, retain: false } as const);
    const out: string[] = [];
    let garbageThrough = 0;
    for (let k = 0; k < 200; k++) {
      for (let g = 0; g < garbageBefore(k); g++) filter(packet(Uint8Array.from([0xff, 0x01, g])), () => { garbageThrough++; });
      const seen: string[] = [];
      filter(packet(encodePeerMessage({ fleet: 'f', agent: 'agent_0', tick: k, round: 1, payload: new Uint8Array(16), scale: 0, sentUs: 1 })), (p) => seen.push(Buffer.from(p.payload as Buffer).toString('hex')));
      out.push(seen.join('|'));
    }
    return { out, garbageThrough, applied: engine.applied };
  };
  const clean = fates(() => 0);
  const noisy = fates((k) => k % 3);
  t.ok(new Set(clean.out).size > 3, 'the faults struck: messages were dropped (a notice), copied and damaged');
  t.same(noisy.out, clean.out, 'every message met the same fate with garbage before it');
  t.same(noisy.applied, clean.applied, 'and the faults counted are the same');
  t.equal(noisy.garbageThrough, Array.from({ length: 200 }, (_, k) => k % 3).reduce((a, b) => a + b, 0), 'the garbage went through, untouched');
});

t.test('delay beyond the round deadline: lost for its round in lockstep', async (t) => {
  const plan = 'faults: [{kind: delay, ms: 80, links: {from: [agent_0], to: "*"}}]';
  const lockstep = await run(plan, { agent: { roundDeadlineMs: 30 } });
  t.ok(lockstep.faults_applied.delay! > 0);
  t.ok(lockstep.trace!.every((x) => x.tiers[1] === 'partial' && x.tiers[2] === 'partial'), 'agent_0 was missing from its teammates\' inboxes at every tick');
  t.equal(lockstep.tiers.full, TICKS, 'agent_0 itself heard everyone');
  const shorter = await run('faults: [{kind: delay, ms: 20, links: {from: [agent_0], to: "*"}}]', { agent: { roundDeadlineMs: 30 } });
  t.equal(shorter.tiers.full, TICKS * 3, 'a delay within the round deadline (simulated time) is heard in time');
  keptActing(t, lockstep);
});

t.test('duplicate: copies are refused as duplicates', async (t) => {
  const r = await run('faults: [{kind: duplicate, p: 0.5}]');
  t.ok(r.faults_applied.duplicate! > 0);
  t.equal(dropped(r).duplicate, r.faults_applied.duplicate, 'every injected copy was refused, none acted on twice');
  t.equal(r.tiers.full, TICKS * 3, 'the originals still made full communication');
  t.same(r.episode_team_returns, nominal.episode_team_returns, 'and the returns are the nominal ones');
  keptActing(t, r);
});

t.test('reorder: a held-back message arrives after its round and is stale', async (t) => {
  const r = await run('faults: [{kind: reorder, p: 0.3}]');
  t.ok(r.faults_applied.reorder! > 0);
  t.ok((dropped(r).stale ?? 0) > 0 || r.tiers.partial > 0, 'late messages were refused or missed');
  keptActing(t, r);
});

t.test('corrupt: damaged records are refused where they no longer decode', async (t) => {
  const r = await run('faults: [{kind: corrupt, p: 1}]');
  t.ok(r.faults_applied.corrupt! > 0);
  const refused = Object.values(dropped(r)).reduce((a, b) => a + (b ?? 0), 0);
  t.ok(refused > 0, `agents refused ${refused} corrupted messages (${JSON.stringify(dropped(r))})`);
  // in lockstep a message the receiver will refuse is announced lost, so no round waits out the
  // tick budget: one whose flipped byte changed only its episode once left rounds waiting 2 s
  t.equal(r.tiers.safe, 0, `no decision ran out of time: ${JSON.stringify(r.tiers)}`);
  keptActing(t, r);
});

t.test('partition: an isolated agent hears nobody and acts without communication', async (t) => {
  const r = await run('faults: [{kind: partition, groups: [[agent_0], [agent_1, agent_2]]}]');
  t.ok(r.faults_applied.partition! > 0);
  const agent0 = r.trace!.slice(5).map((tick) => tick.tiers[0]);
  t.ok(agent0.every((tier) => tier === 'none'), 'agent_0: no communication once its peers timed out');
  t.ok(r.trace!.slice(5).every((tick) => tick.tiers[1] === 'partial'), 'agent_1 still hears agent_2');
  keptActing(t, r);
});

t.test('crash with restart: the agent is killed, its action held, and it comes back', async (t) => {
  const r = await run('faults: [{kind: crash, agents: [agent_2], window: {ticks: [5, 25]}, restart_after_ticks: 5}]');
  t.ok(r.faults_applied.crash! >= 2, 'killed and restarted');
  t.equal(r.missing_actions, EPISODES * 5, 'its action was held for the five ticks it was down');
  const ep0 = r.trace!.filter((x) => x.episode === 0);
  t.equal(ep0[6].tiers[2], null, 'no decision while dead');
  t.ok(ep0.slice(6, 10).every((x) => x.tiers[0] !== 'full'), 'its teammates lost it');
  t.ok(ep0.slice(12).some((x) => x.tiers[2] !== null), 'it acts again after the restart');
  keptActing(t, r, TICKS * 3 - EPISODES * 5);
});

t.test('freeze: alive but silent — no actions, and peers stop waiting after its heartbeats stop', async (t) => {
  const r = await run('faults: [{kind: freeze, agents: [agent_1], window: {ticks: [3, 25]}}]');
  t.ok(r.faults_applied.freeze! > 0);
  t.equal(r.missing_actions, EPISODES * 22);
  const late = r.trace!.filter((x) => x.episode === 1 && x.tick > 20);
  t.ok(late.every((x) => x.tiers[0] === 'partial' && x.tiers[2] === 'partial'), 'the others act on each other');
  keptActing(t, r, TICKS * 3 - EPISODES * 22);
});

t.test('sensor noise, stuck sensor, NaN sensor', async (t) => {
  const noise = await run('faults: [{kind: sensor_noise, sigma: 0.3, agents: [agent_0]}]');
  t.equal(noise.faults_applied.sensor_noise, TICKS);
  t.notSame(noise.episode_team_returns, nominal.episode_team_returns, 'noise changed what the agent did');
  keptActing(t, noise);
  const stuck = await run('faults: [{kind: sensor_stuck, agents: [agent_1], window: {ticks: [2, 25]}}]');
  t.equal(stuck.faults_applied.sensor_stuck, EPISODES * 23);
  t.notSame(stuck.episode_team_returns, nominal.episode_team_returns);
  keptActing(t, stuck);
  const nan = await run('faults: [{kind: sensor_nan, p: 1, agents: [agent_2]}]');
  t.equal(nan.faults_applied.sensor_nan, TICKS);
  t.equal(nan.agent_counters!.safeReasons.observation_nonfinite, TICKS, 'every NaN observation got the safe action');
  t.equal(nan.tiers.safe, TICKS);
  keptActing(t, nan);
});

t.test('hostile sender: garbage refused, plausible lies accepted and survived', async (t) => {
  const r = await run('faults: [{kind: hostile, agents: [agent_0], garbage_per_tick: 2}]');
  t.ok(r.faults_applied.hostile! > 0);
  const refused = (dropped(r).malformed ?? 0) + (dropped(r).invalid ?? 0) + (dropped(r).duplicate ?? 0) + (dropped(r).oversized ?? 0);
  t.ok(refused >= TICKS * 2, `its garbage was refused (${JSON.stringify(dropped(r))})`);
  t.notSame(r.episode_team_returns, nominal.episode_team_returns, 'its plausible lies changed the others\' decisions');
  keptActing(t, r);
});

t.test('hostile sender under peer checks: its lies are left out and it is quarantined; honest peers are never suspected', async (t) => {
  const plan = 'faults: [{kind: hostile, agents: [agent_0], garbage_per_tick: 2}]';
  const checked = await run(plan, { agent: { peerChecks: 'quarantine' } });
  const trusting = await run(plan);
  const calm = await simulate({ bundle: BUNDLE, episodes: EPISODES, seed: 4, agent: { peerChecks: 'quarantine' } });
  t.same(calm.agent_counters!.peerChecks, { checked: TICKS * 6, inconsistent: 0, quarantined: 0, released: 0, unavailable: 0 }, 'nominal: every round-2 message of every peer checked, none suspected');
  t.same(calm.episode_team_returns, nominal.episode_team_returns, 'and the episodes are exactly the unchecked fleet\'s');
  const c = checked.agent_counters!.peerChecks;
  t.ok(c.quarantined >= 2, `agent_1 and agent_2 both quarantined the liar (${JSON.stringify(c)})`);
  // the liar's two round-2 messages a tick are caught every tick by both honest agents
  t.ok(c.inconsistent >= TICKS * 2, `every lie left out: ${c.inconsistent} of ${c.checked}`);
  const late = checked.trace!.slice(-10);
  t.ok(late.every((tick) => tick.heard![1].every((p) => p !== 'agent_0') && tick.heard![2].every((p) => p !== 'agent_0')), 'once quarantined, the liar is not heard by the honest agents');
  t.ok(late.every((tick) => tick.heard![1].includes('agent_2') && tick.heard![2].includes('agent_1')), 'while they go on hearing each other');
  t.notSame(checked.episode_team_returns, trusting.episode_team_returns, 'leaving the lies out changed the honest agents\' decisions');
  keptActing(t, checked);
});
