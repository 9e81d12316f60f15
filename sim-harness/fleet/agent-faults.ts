// The faults that strike agents and the broker rather than messages: at each tick, the
// transitions the fault engine's plan calls for — crash (and restart after its ticks), freeze and
// thaw, slow inference, a broker outage and its end — applied to the fleet and logged.

import type { FaultEngine } from '../faults/fault-engine.js';
import type { FleetMember } from './fleet-member.js';
import type { SimNetwork } from './sim-network.js';

export class AgentFaults {
  /** crashed agents: the global tick they went down at */
  private readonly downSince = new Map<string, number>();

  constructor(private readonly engine: FaultEngine, private readonly members: ReadonlyMap<string, FleetMember>, private readonly network: SimNetwork) {}

  /** Applies this tick's transitions (the engine's clock is already set to it). */
  async apply(globalTick: number): Promise<void> {
    const e = this.engine;
    const crashed = e.agentsUnder('crash');
    for (const [id, member] of this.members) {
      const fault = crashed.get(id);
      const downFor = this.downSince.has(id) ? globalTick - this.downSince.get(id)! : 0;
      const keepDown = fault && fault.kind === 'crash' && (fault.restart_after_ticks === undefined || downFor < fault.restart_after_ticks);
      if (keepDown && member.running && !this.downSince.has(id)) {
        await member.crash();
        this.downSince.set(id, globalTick);
        e.record('crash', id);
      } else if (!keepDown && !member.running) {
        await member.start();
        e.record('crash', `${id} restarted`);
      }
      if (!fault) this.downSince.delete(id);
    }
    const frozen = e.agentsUnder('freeze');
    for (const [id, member] of this.members) {
      if (frozen.has(id)) { member.freeze(); e.record('freeze', id); } else member.thaw();
    }
    const slow = e.agentsUnder('slow_inference');
    for (const [id, member] of this.members) {
      const f = slow.get(id);
      member.slowInference(f && f.kind === 'slow_inference' ? f.ms : 0);
      if (f) e.record('slow_inference', id);
    }
    const outage = e.brokerOutage();
    if (await this.network.setOutage(outage)) e.record('broker_outage', outage ? 'broker' : 'broker back');
  }

  /** agents that cannot answer this tick: frozen ones (crashed ones are not running) */
  frozen(): ReadonlySet<string> {
    return new Set(this.engine.agentsUnder('freeze').keys());
  }
}
