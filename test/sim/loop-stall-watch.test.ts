// The real-time simulator's measure of its own stalls: a loop blocked for a known time is seen.

import t from 'tap';
import { LoopStallWatch } from '@fleetmind/sim-harness/fleet';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

t.test('a blocked event loop is measured as a stall of at least the time it was blocked, less one sampling interval', async (t) => {
  const watch = new LoopStallWatch();
  try {
    await pause(30);
    watch.startTick();
    await pause(15);
    const blockedFrom = performance.now();
    while (performance.now() - blockedFrom < 120) { /* the host is busy */ }
    await pause(25);
    const stall = watch.tickStallMs();
    t.ok(stall >= 100, `a 120-ms block measured as ${stall} ms`);
    t.equal(watch.longestMs, stall, 'and kept as the longest of the run');
    watch.startTick();
    t.equal(watch.tickStallMs(), 0, 'a tick not yet sampled has no stall');
  } finally {
    watch.stop();
  }
});
