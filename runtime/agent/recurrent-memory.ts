// A recurrent policy's memory on the robot: the state its graph returned last tick, fed back the
// next, and zeroed where training zeroed it or where it can no longer be trusted:
//   start    nothing decided yet (the agent started or restarted)
//   episode  a new episode (Observation.episode changed)
//   gap      this tick does not follow the last one decided: ticks were skipped (the agent was
//            not in the world's steps, an observation was lost or refused, or a decision ended in
//            the safe action), so the state describes a world that has moved on
//   age      more than maxAgeMs of wall time since the last decision (a stalled robot)
//   bundle   a rollout switched the policy: the old policy's state means nothing to the new one
// Training zeroes the state at an episode's start and after a step the agent was not in
// (trainer algos/mappo.ts); start, episode and gap are those rules as a robot sees them, so
// a fleet in lockstep plays exactly the evaluator's episodes.

import { tickDistance } from '@fleetmind/wire';

export type MemoryReset = 'start' | 'episode' | 'gap' | 'age' | 'bundle';

export const MEMORY_RESETS: readonly MemoryReset[] = ['start', 'episode', 'gap', 'age', 'bundle'];

export class RecurrentMemory {
  /** the state the next decision starts from */
  readonly state: Float32Array;
  private last: { tick: number; episode: number; atMs: number } | null = null;
  private policyChanged = false;

  constructor(readonly size: number, private readonly maxAgeMs: number) {
    this.state = new Float32Array(size);
  }

  /** Before a decision: zeroes the state where it must go, and says why (null: it is kept). */
  prepare(tick: number, episode: number, nowMs: number): MemoryReset | null {
    const reason = this.resetReason(tick, episode, nowMs);
    if (reason) this.state.fill(0);
    this.policyChanged = false;
    return reason;
  }

  /** After a decision whose action was used: the state the next one starts from (a decision not kept leaves a gap). */
  keep(next: Float32Array, tick: number, episode: number, nowMs: number): void {
    if (next.length !== this.size) throw new Error(`the policy returned a state of ${next.length} numbers, not ${this.size}`);
    this.state.set(next);
    this.last = { tick, episode, atMs: nowMs };
  }

  /** A rollout installed another policy: its first decision starts from nothing. */
  policySwitched(): void {
    this.policyChanged = true;
  }

  private resetReason(tick: number, episode: number, nowMs: number): MemoryReset | null {
    if (this.policyChanged) return 'bundle';
    if (!this.last) return 'start';
    if (episode !== this.last.episode) return 'episode';
    if (tickDistance(tick, this.last.tick) !== 1) return 'gap';
    if (nowMs - this.last.atMs > this.maxAgeMs) return 'age';
    return null;
  }
}
