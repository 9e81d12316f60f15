// Which peers are alive (runtime/agent/liveness.ts), on a clock the test moves.

import t from 'tap';
import { PeerLiveness } from '@fleetmind/runtime';

t.test('a peer is live from its last message until the timeout; offline and standby end it at once; everyLive asks about exactly the live ones', (t) => {
  let now = 0;
  const liveness = new PeerLiveness(['a', 'b', 'c', 'd'], 100, () => now);
  const asked: string[] = [];
  const everyAsked = (answer: boolean) => { asked.length = 0; return liveness.everyLive((p) => { asked.push(p); return answer; }); };
  t.same(liveness.live(), [], 'nobody heard yet');
  t.equal(everyAsked(false), true, 'no live peer: nothing to wait for');
  t.same(asked, []);
  liveness.heard('a');
  liveness.heard('b');
  liveness.heard('c');
  now = 60;
  liveness.heard('b');
  t.same(liveness.live(), ['a', 'b', 'c']);
  liveness.wentOffline('c');
  now = 130; // a was heard 130 ms ago, b 70 ms ago
  t.same(liveness.live(), ['b'], 'a timed out, c went offline');
  t.equal(everyAsked(true), true);
  t.same(asked, ['b'], 'only the live peer is asked about');
  t.equal(everyAsked(false), false, 'a live peer that is not settled');
  liveness.wentOnStandby('b');
  t.same(liveness.live(), []);
  t.ok(liveness.isOnStandby('b'));
  liveness.heard('b');
  t.notOk(liveness.isOnStandby('b'), 'speaking again brings it back');
  t.same(liveness.live(), ['b']);
  t.end();
});
