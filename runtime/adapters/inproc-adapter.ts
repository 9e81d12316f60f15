// The in-process adapter: the host program calls observe() and gets actions in a callback.
// What the simulator's in-process fleets and tests use.

import type { ActionOut, Adapter, AdapterContext, ObservationIn } from './adapter.js';

export class InProcessAdapter implements Adapter {
  readonly name = 'inproc';
  private context: AdapterContext | null = null;

  constructor(private readonly onAction: (action: ActionOut) => void) {}

  start(context: AdapterContext): void {
    this.context = context;
  }

  observe(observation: ObservationIn): void {
    if (!this.context) throw new Error('the agent has not started this adapter yet');
    this.context.observe(observation);
  }

  /** this robot is not in the episode now: its peers stop waiting for it until its next observation */
  standby(): void {
    if (!this.context) throw new Error('the agent has not started this adapter yet');
    this.context.standby();
  }

  apply(action: ActionOut): void {
    this.onAction(action);
  }

  async close(): Promise<void> {
    this.context = null;
  }
}
