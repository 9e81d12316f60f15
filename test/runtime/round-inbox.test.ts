import t from 'tap';
import { RoundInbox } from '@fleetmind/runtime';

const msg = (agent: string, tick: number, round: number) => ({ fleet: 'f', agent, tick, round, payload: new Uint8Array(0), scale: 1, sentUs: 0 });

t.test('messages are filed by tick and round; stale, duplicate, early and unknown ones refused', (t) => {
  const inbox = new RoundInbox(new Set(['b', 'c']), 2);
  inbox.enter(5, 1);
  t.equal(inbox.put(msg('b', 5, 1)), null);
  t.equal(inbox.put(msg('b', 5, 1)), 'duplicate');
  t.equal(inbox.put(msg('c', 6, 1)), null, 'a peer a tick ahead is kept for later');
  t.equal(inbox.put(msg('c', 4, 2)), 'stale');
  t.equal(inbox.put(msg('c', 10, 1)), 'too_early');
  t.equal(inbox.put(msg('c', 5, 3)), 'bad_round');
  t.equal(inbox.put(msg('z', 5, 1)), 'unknown_sender');
  inbox.enter(5, 2);
  t.equal(inbox.put(msg('c', 5, 1)), 'stale', 'round 1 is over once round 2 began');
  inbox.enter(6, 1);
  t.same([...inbox.messages(6, 1).keys()], ['c'], 'the early message is there when its tick comes');
  t.same([...inbox.messages(5, 1).keys()], [], 'older rounds are forgotten');
  t.end();
});

t.test('waiting ends when every expected peer answered, or at the deadline', async (t) => {
  const inbox = new RoundInbox(new Set(['b', 'c']), 1);
  inbox.enter(1, 1);
  const t0 = performance.now();
  const done = inbox.waitFor(1, 1, (settled) => ['b', 'c'].every(settled), 1000);
  inbox.put(msg('b', 1, 1));
  inbox.put(msg('c', 1, 1));
  t.equal(await done, false, 'complete, not timed out');
  t.ok(performance.now() - t0 < 100);
  inbox.enter(2, 1);
  const t1 = performance.now();
  t.equal(await inbox.waitFor(2, 1, (settled) => ['b'].every(settled), 40), true, 'timed out');
  t.ok(performance.now() - t1 >= 39);
  inbox.enter(3, 1);
  let expected = ['b', 'c'];
  const pending = inbox.waitFor(3, 1, (settled) => expected.every(settled), 1000);
  inbox.put(msg('b', 3, 1));
  expected = ['b'];
  inbox.recheck();
  t.equal(await pending, false, 'a peer that went offline is no longer waited for');
});

t.test('wall-clock ticks wrap at 2^32: the inbox orders them across the wrap', async (t) => {
  const { tickDistance, wallClockTick } = await import('@fleetmind/wire');
  t.equal(tickDistance(0, 2 ** 32 - 1), 1, 'the tick after the last comes next');
  t.equal(tickDistance(2 ** 32 - 1, 0), -1);
  t.ok(wallClockTick(Date.now(), 50) < 2 ** 32, 'a 20 Hz wall-clock tick fits the wire');
  const inbox = new RoundInbox(new Set(['b']), 1);
  inbox.enter(2 ** 32 - 1, 1);
  const wrapped = (tick: number) => ({ fleet: 'f', agent: 'b', tick, round: 1, payload: new Uint8Array(0), scale: 1, sentUs: 0 });
  t.equal(inbox.put(wrapped(0)), null, 'a message for the tick after the wrap is kept (one tick ahead)');
  t.equal(inbox.put(wrapped(2 ** 32 - 2)), 'stale', 'the tick before is stale');
  inbox.enter(0, 1);
  t.equal(inbox.messages(0, 1).size, 1, 'and it is there when the agent gets to that tick');
});

t.test('a free-running clock names the boundary nearest it and times each period afresh, so agents whose timers run late by different amounts stay on the same ticks', async (t) => {
  const { msToNextTick, wallClockTick } = await import('@fleetmind/wire');
  t.equal(wallClockTick(999.5, 50), 20, 'a clock that fires just before a boundary names it');
  t.equal(wallClockTick(1000.4, 50), 20, 'and so does one just after');
  t.equal(msToNextTick(999.5, 50), 50.5, 'the next period is the boundary after the one it meant');
  t.equal(msToNextTick(1003, 50), 47);
  // two agents' timers, each late by its own 0–4 ms every period, for 2,000 periods
  const rng = (seed: number) => () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const fires = (late: () => number) => {
    const ticks: number[] = [];
    let now = 1000 + late();
    for (let k = 0; k < 2000; k++) {
      ticks.push(wallClockTick(now, 50));
      now += msToNextTick(now, 50) + late();
    }
    return ticks;
  };
  const lateA = rng(1);
  const lateB = rng(2);
  const a = fires(() => 4 * lateA());
  const b = fires(() => 4 * lateB());
  t.same(a, b, 'both named the same tick in every period');
  t.ok(a.every((tick, k) => tick === 20 + k), 'one tick a period, none skipped');
});

t.test('released (the agent left the episode): any tick ahead is taken, only the newest kept, until the agent enters one', async (t) => {
  const inbox = new RoundInbox(new Set(['b', 'c']), 1);
  inbox.enter(10, 1);
  t.equal(inbox.put(msg('b', 20, 1)), 'too_early', 'anchored at tick 10, tick 20 is too far ahead');
  inbox.release();
  t.equal(inbox.put(msg('b', 20, 1)), null, 'released: the tick it will come back at is unknown');
  t.equal(inbox.put(msg('c', 23, 1)), null);
  t.equal(inbox.messages(20, 1).size, 0, 'a newer tick makes the older messages useless: bounded memory');
  t.equal(inbox.put(msg('b', 21, 1)), 'sat_out', 'older than the newest: a tick it sits out');
  t.equal(inbox.markLost({ agent: 'b', tick: 23, round: 1 }), null);
  inbox.enter(23, 1);
  t.equal(await inbox.waitFor(23, 1, (settled) => ['b', 'c'].every(settled), 1_000), false, 'back in at tick 23: what came first is there');
  t.equal(inbox.put(msg('b', 40, 1)), 'too_early', 'anchored again');
  // the world hands it tick 23's observation while the broker still carries tick 22's messages
  t.equal(inbox.put(msg('c', 22, 1)), 'sat_out', 'a tick before the one it came back at: sat out, not stale');
  inbox.enter(24, 1);
  t.equal(inbox.put(msg('c', 23, 1)), 'stale', 'a tick it took part in, now past: stale');
  inbox.newEpisode(1);
  inbox.enter(5, 1);
  t.equal(inbox.put({ ...msg('c', 4, 1), episode: 1 }), 'stale', 'a new episode forgets where it came back');
});

t.test('a chosen silence (wire 1.6) settles every round of its tick, and is told apart from a loss', async (t) => {
  const inbox = new RoundInbox(new Set(['b', 'c']), 2);
  inbox.enter(7, 1);
  t.equal(inbox.markSilent({ agent: 'b', tick: 7, round: 1 }), null);
  t.equal(inbox.markSilent({ agent: 'b', tick: 7, round: 1 }), 'duplicate');
  t.equal(inbox.markLost({ agent: 'c', tick: 7, round: 1 }), null);
  t.equal(await inbox.waitFor(7, 1, (settled) => ['b', 'c'].every(settled), 1_000), false, 'round 1: both settled');
  t.ok(inbox.isSilent(7, 1, 'b'), 'b chose silence');
  t.notOk(inbox.isSilent(7, 1, 'c'), 'c was lost: not silent');
  inbox.enter(7, 2);
  t.ok(inbox.isSilent(7, 2, 'b'), 'and stays silent in round 2');
  t.equal(inbox.put(msg('c', 7, 2)), null);
  t.equal(await inbox.waitFor(7, 2, (settled) => ['b', 'c'].every(settled), 1_000), false, 'round 2 waits for nobody who chose silence');
  inbox.enter(8, 1);
  t.notOk(inbox.isSilent(8, 1, 'b'), 'the next tick starts without it');
  t.equal(inbox.markSilent({ agent: 'z', tick: 8, round: 1 }), 'unknown_sender');
  t.equal(inbox.markSilent({ agent: 'b', tick: 6, round: 1 }), 'stale');
  t.end();
});

t.test('on standby across episodes: the newest tick of the newest episode is kept, and episodes it sat out are not stale', async (t) => {
  const inbox = new RoundInbox(new Set(['b', 'c']), 1);
  const of = (agent: string, episode: number, tick: number) => ({ ...msg(agent, tick, 1), episode });
  inbox.newEpisode(1);
  inbox.enter(3, 1);
  inbox.release(); // left in episode 1; its peers play on into episodes 2 and 3, ticks counting on
  for (let tick = 4; tick <= 30; tick++) t.equal(inbox.put(of('b', 2, tick)), null, `episode 2, tick ${tick}: kept while newest`);
  t.equal(inbox.put(of('c', 2, 12)), 'sat_out', 'an older tick of the episode kept aside: one it sits out');
  t.equal(inbox.put(of('b', 3, 31)), null, 'a newer episode replaces the one kept');
  t.equal(inbox.put(of('c', 2, 30)), 'sat_out', 'a late message of episode 2: sat out, not stale');
  t.equal(inbox.put(of('c', 3, 31)), null);
  t.equal(inbox.put(of('b', 3, 32)), null, 'tick 32 of episode 3: tick 31 is useless now');
  t.equal(inbox.put(of('c', 3, 32)), null, 'never too early: only the newest tick is kept, however long it sits out');
  // it comes back in episode 3 at tick 32: both peers' messages are there
  inbox.newEpisode(3);
  inbox.enter(32, 1);
  t.equal(await inbox.waitFor(32, 1, (settled) => ['b', 'c'].every(settled), 1_000), false, 'back at tick 32 of episode 3: nothing to wait for');
  t.same([...inbox.messages(32, 1).keys()].sort(), ['b', 'c']);
  t.equal(inbox.put(of('c', 3, 31)), 'sat_out', 'a late message of tick 31 of this episode: before it came back, sat out');
  t.equal(inbox.put(of('b', 2, 30)), 'sat_out', 'episode 2, between its last (1) and this one: sat out');
  t.equal(inbox.put(of('b', 1, 3)), 'stale', 'episode 1, its own last: stale');
  t.equal(inbox.put(of('b', 1, 4)), 'sat_out', 'episode 1 after it left it (tick 3): sat out, not stale');
  t.end();
});

t.test('a peer\'s message of the last episode\'s last tick, arriving after the world started this agent on the next, is of a tick it sat out', (t) => {
  // seen in a lockstep fleet: robot_0 left episode 2 at tick 64 (standby); robot_3 acted at tick 80,
  // the episode's last, and its messages reached robot_0 after robot_0's first observation of
  // episode 3 (tick 81) — the world's and robot_3's publications reach it in either order
  const inbox = new RoundInbox(new Set(['b', 'c']), 2);
  inbox.newEpisode(2);
  inbox.enter(64, 2);
  inbox.release();
  inbox.newEpisode(3);
  inbox.enter(81, 1);
  t.equal(inbox.put({ ...msg('c', 80, 1), episode: 2 }), 'sat_out', 'tick 80 of episode 2, after it left at 64: sat out');
  t.equal(inbox.put({ ...msg('c', 80, 2), episode: 2 }), 'sat_out', 'its round 2 too');
  t.equal(inbox.markLost({ agent: 'b', tick: 80, round: 1, episode: 2 }), 'sat_out', 'and a notice of it');
  t.equal(inbox.put({ ...msg('c', 64, 2), episode: 2 }), 'stale', 'a late message of tick 64, which it took part in: stale');
  const stayed = new RoundInbox(new Set(['b', 'c']), 1);
  stayed.newEpisode(2);
  stayed.enter(80, 1);
  stayed.newEpisode(3);
  stayed.enter(81, 1);
  t.equal(stayed.put({ ...msg('c', 80, 1), episode: 2 }), 'stale', 'an agent that played episode 2 to its end: a late message of it is stale');
  t.end();
});

t.test('notices and silences of the next episode (wire 1.7) that arrive before the agent starts it are kept for it, not forgotten when it starts', async (t) => {
  // a lockstep simulation's peers can start episode 2 and have their losses announced before this
  // agent's own first observation of it arrives (a child process reads it from a pipe)
  const inbox = new RoundInbox(new Set(['b', 'c']), 2);
  inbox.newEpisode(1);
  inbox.enter(25, 2);
  t.equal(inbox.markLost({ agent: 'b', tick: 26, round: 1, episode: 2 }), null, 'a loss in episode 2, told early: kept aside');
  t.equal(inbox.markSilent({ agent: 'c', tick: 26, round: 1, episode: 2 }), null, 'a silence in episode 2: kept aside');
  t.equal(inbox.markLost({ agent: 'b', tick: 25, round: 2 }), null, 'a notice that names no episode is of the current one');
  t.equal(await inbox.waitFor(25, 2, (settled) => ['b'].every(settled), 1_000), false, 'and settles its round');
  inbox.newEpisode(2);
  inbox.enter(26, 1);
  t.equal(await inbox.waitFor(26, 1, (settled) => ['b', 'c'].every(settled), 1_000), false, 'episode 2, tick 26: both peers settled by what came early');
  t.ok(inbox.isSilent(26, 1, 'c'));
  t.notOk(inbox.isSilent(26, 1, 'b'));
  t.equal(inbox.markLost({ agent: 'b', tick: 30, round: 1, episode: 1 }), 'stale', 'a notice of the episode before: stale');
  t.end();
});
