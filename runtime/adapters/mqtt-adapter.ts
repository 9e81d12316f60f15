// The MQTT adapter: observations arrive on fm/<fleet>/a/<agent>/obs and actions leave on
// …/act, as protobuf records (wire/fleetmind.proto). What the simulator's world server and a
// robot's own controller speak.

import { agentTopic, decodeObservation, encodeAction, WireError } from '@fleetmind/wire';
import type { ActionOut, Adapter, AdapterContext, AdapterLink } from './adapter.js';

export class MqttAdapter implements Adapter {
  readonly name = 'mqtt';
  private link: AdapterLink | null = null;
  private actTopic = '';

  start(context: AdapterContext): void {
    if (!context.link) throw new Error('the mqtt adapter needs a broker');
    this.link = context.link;
    this.actTopic = agentTopic(context.fleet, context.agent, 'act');
    context.link.subscribe(agentTopic(context.fleet, context.agent, 'obs'), (payload) => {
      if (!this.link) return; // closed: the subscription outlives the adapter in the agent's connection
      try {
        context.observe(decodeObservation(payload));
      } catch (err) {
        context.reject(err instanceof WireError ? `${err.reason}: ${err.message}` : String(err));
      }
    });
  }

  apply(action: ActionOut): void {
    this.link?.publish(this.actTopic, encodeAction(action));
  }

  async close(): Promise<void> {
    this.link = null;
  }
}
