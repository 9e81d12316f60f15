// How long the simulator's own event loop was blocked, tick by tick, in a real-time run. In-process
// agents, the embedded broker and the world server share that loop: when the host stalls (a garbage
// collection, a busy neighbour on a shared core), every agent is late together, and a deadline
// missed then measured the host, not the policy. The report and the trace say so, not guess it.

import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/** how often the loop is sampled, ms: a stall shorter than this may go unseen */
export const LOOP_STALL_RESOLUTION_MS = 10;

export class LoopStallWatch {
  private readonly histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: LOOP_STALL_RESOLUTION_MS });
  /** the longest stall seen in the whole run, ms (to 0.1) */
  longestMs = 0;

  constructor() { this.histogram.enable(); }

  /** a tick begins: what follows is measured afresh */
  startTick(): void { this.histogram.reset(); }

  /** the longest the loop was blocked since startTick, ms (beyond the sampling interval itself) */
  tickStallMs(): number {
    const max = this.histogram.count > 0 ? this.histogram.max / 1e6 : 0;
    const stall = Number(Math.max(0, max - LOOP_STALL_RESOLUTION_MS).toFixed(1));
    this.longestMs = Math.max(this.longestMs, stall);
    return stall;
  }

  stop(): void { this.histogram.disable(); }
}
