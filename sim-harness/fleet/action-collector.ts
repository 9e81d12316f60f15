// Collecting a tick's actions: the world server hands every live agent its observation and
// waits until each has answered (lockstep) or the period is over (real time). What arrives late,
// twice or for another tick is ignored; the time from observation to action is recorded.

import type { ActionOut } from '@fleetmind/runtime';

export class ActionCollector {
  /** observation → action, ms, of every action that arrived in time */
  readonly latencies: number[] = [];
  private pending: { tick: number; want: ReadonlySet<string>; got: Map<string, ActionOut>; resolve: () => void } | null = null;
  private readonly sentAt = new Map<string, number>();

  /** the member's callback: an agent's action arrived */
  onAction(agent: string, action: ActionOut): void {
    const p = this.pending;
    if (!p || action.tick !== p.tick || !p.want.has(agent) || p.got.has(agent)) return;
    p.got.set(agent, action);
    const sent = this.sentAt.get(agent);
    if (sent !== undefined) this.latencies.push(performance.now() - sent);
    if (p.got.size === p.want.size) p.resolve();
  }

  /**
   * Opens tick `tick` for the agents in `want`, calls send(id) for each (which hands it its
   * observation), and resolves with the actions that arrived: when all have (lockstep) or after
   * timeoutMs; in real time always after the whole period.
   */
  async collect(tick: number, want: ReadonlySet<string>, send: (id: string) => void, timeoutMs: number, realTime: boolean): Promise<Map<string, ActionOut>> {
    const got = new Map<string, ActionOut>();
    let timer: NodeJS.Timeout | undefined;
    const allIn = new Promise<void>((resolve) => { this.pending = { tick, want, got, resolve }; });
    const period = new Promise<void>((resolve) => { timer = setTimeout(resolve, timeoutMs); });
    for (const id of want) {
      this.sentAt.set(id, performance.now());
      send(id);
    }
    // real time: the tick lasts its whole period; lockstep: until every action is in, at most the timeout
    if (realTime) await period;
    else if (want.size > 0) await Promise.race([allIn, period]);
    clearTimeout(timer);
    this.pending = null;
    return got;
  }
}
