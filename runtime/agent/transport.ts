// The agent's link to its peers, as a small interface: MQTT is the implementation
// (mqtt-transport.ts), and a simulator or a test can wrap or replace it — the fault-injecting
// transport of the simulator is a second implementation. Every implementation passes the same
// contract suite (test/contracts/transport.ts).

export interface TransportOptions {
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  /** PEM of the CA that signed the broker's certificate (mqtts://) */
  tlsCa?: string | Buffer;
  /** mutual TLS: this device's certificate and private key (PEM); the broker reads the identity from it */
  tlsCert?: string | Buffer;
  tlsKey?: string | Buffer;
  /**
   * published by the broker when this client vanishes (absent: no last will — a connection shared
   * by several agents has none; each agent's own will is published for it when it is destroyed)
   */
  will?: { topic: string; payload: Uint8Array };
  /** first retry delay and the cap, ms */
  reconnectBaseMs: number;
  reconnectMaxMs: number;
  /** MQTT keepalive, s (liveness between agents is the heartbeat's job) */
  keepaliveS: number;
  random?: () => number;
}

export class TransportError extends Error {
  readonly code = 'FM_ERR_TRANSPORT';
}

export interface TransportEvents {
  onMessage(topic: string, payload: Uint8Array): void;
  onConnect(): void;
  onDisconnect(reason: string): void;
  /** the broker could not be reached: the next attempt (1, 2, …) comes in delayMs */
  onRetryScheduled?(attempt: number, delayMs: number): void;
}

export interface Transport {
  /** connected to the broker now */
  readonly connected: boolean;
  /** completed reconnections (not the first connection) */
  readonly reconnects: number;
  /**
   * Starts connecting and keeps retrying for as long as the transport is open. Resolves true at
   * the first connection, false when the first attempt cannot reach the broker (the agent acts on
   * its fallback meanwhile); rejects with TransportError when the broker refuses the credentials.
   */
  start(): Promise<boolean>;
  /** subscriptions persist across reconnections */
  subscribe(topics: string[]): void;
  /** QoS 0, sent only while connected: returns false (and sends nothing) when offline */
  publishNow(topic: string, payload: Uint8Array): boolean;
  /** QoS 1, resolves when the broker acknowledged it (false: offline or not within timeoutMs) */
  publishConfirmed(topic: string, payload: Uint8Array, timeoutMs?: number): Promise<boolean>;
  /** disconnects cleanly (no last will) */
  close(timeoutMs?: number): Promise<void>;
  /** drops the connection without a goodbye, as a crash would (the broker publishes the last will) */
  destroy(): void;
}

/** Makes the agent's transport; createAgent's default is mqttTransport. */
export type TransportFactory = (options: TransportOptions, events: TransportEvents) => Transport;
