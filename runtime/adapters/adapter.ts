// An adapter connects an agent to its robot: it delivers observations and applies actions.
// That is its one job; the agent decides, the adapter carries.

import type { Tier } from '@fleetmind/wire';

export interface ObservationIn {
  tick: number;
  values: Float32Array;
  /** when the observation was taken, µs since the Unix epoch (judges staleness when given) */
  sentUs?: number;
  /** the episode (wire 1.2): a new one restarts the tick order; 0 or absent: one episode */
  episode?: number;
}

export interface ActionOut {
  tick: number;
  /** the discrete action's index (0 for a role with continuous actions) */
  action: number;
  /** a role with continuous actions: the action vector, inside the bundle's box; null for a discrete role */
  vector: Float32Array | null;
  tier: Tier;
  /** the safety shield overrode the policy's action */
  shielded: boolean;
}

/** The agent's MQTT connection as an adapter sees it. */
export interface AdapterLink {
  subscribe(topic: string, handler: (payload: Uint8Array) => void): void;
  /** QoS 0; false (nothing sent, nothing queued) while the broker is unreachable */
  publish(topic: string, payload: Uint8Array): boolean;
}

export interface AdapterContext {
  fleet: string;
  agent: string;
  /** hands an observation to the agent */
  observe(observation: ObservationIn): void;
  /** an observation arrived that could not be read at all (counted, logged) */
  reject(detail: string): void;
  /**
   * the robot is not in the episode now (it has not arrived, or has left): its peers stop waiting
   * for its messages. Its next observation brings it back.
   */
  standby(): void;
  /** null when the agent runs without a broker */
  link: AdapterLink | null;
}

export interface Adapter {
  readonly name: string;
  start(context: AdapterContext): void | Promise<void>;
  apply(action: ActionOut): void;
  close(): Promise<void>;
}
