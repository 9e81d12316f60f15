// The agent's one MQTT connection, with the discipline mqtt.js lacks: TCP_NODELAY (Nagle adds a
// ~40 ms p99 tail on loopback), QoS 0 messages dropped rather than queued while offline (a late
// hidden state is worthless), reconnection with exponential backoff and full jitter (mqtt.js
// retries at a fixed period, so a restarted broker meets the whole fleet at once), and a last
// will that tells peers this agent went offline.

import type { Socket } from 'node:net';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { TransportError, type Transport, type TransportEvents, type TransportFactory, type TransportOptions } from './transport.js';

const ignoreLog = (): void => {};

export class MqttTransport implements Transport {
  private client: MqttClient | null = null;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private closing = false;
  private readonly subscriptions = new Set<string>();
  /** completed reconnections (not the first connection) */
  reconnects = 0;
  private everConnected = false;
  /** the socket holds writes until the end of this turn (publishInBatch) */
  private corked = false;
  private wasConnected = false;

  constructor(private readonly options: TransportOptions, private readonly events: TransportEvents) {}

  get connected(): boolean {
    return this.client?.connected === true;
  }

  /**
   * Starts connecting and keeps retrying for as long as the transport is open. Resolves true at
   * the first CONNACK, false when the first attempt cannot reach the broker (the agent acts on
   * its fallback meanwhile); rejects when the broker refuses the credentials, which no retry fixes.
   */
  start(): Promise<boolean> {
    const o = this.options;
    const clientOptions: IClientOptions = {
      clientId: o.clientId,
      username: o.username,
      password: o.password,
      ca: o.tlsCa,
      cert: o.tlsCert,
      key: o.tlsKey,
      clean: true,
      keepalive: o.keepaliveS,
      reconnectPeriod: 0, // reconnection is ours, with backoff and jitter
      connectTimeout: 5_000,
      queueQoSZero: false,
      resubscribe: false, // subscriptions are renewed on every connect, below
      // mqtt.js logs every packet through `debug`, which gathers its arguments even when off: a few
      // KB of garbage per decision in a busy process. DEBUG=mqttjs* still turns its log on
      ...(process.env.DEBUG ? {} : { log: ignoreLog }),
      ...(o.will ? { will: { topic: o.will.topic, payload: Buffer.from(o.will.payload), qos: 1 as const, retain: false } } : {}),
    };
    return new Promise((resolve, reject) => {
      const client = mqtt.connect(o.url, clientOptions);
      this.client = client;
      let first = true;
      client.on('connect', () => {
        (client.stream as unknown as Socket).setNoDelay?.(true);
        if (this.everConnected) this.reconnects++;
        this.everConnected = true;
        this.wasConnected = true;
        this.attempt = 0;
        this.events.onConnect();
        // the first start resolves once the broker has confirmed the subscriptions: an agent that
        // says it started hears its peers' next messages (a restarted agent in lockstep must)
        const ready = () => { if (first) { first = false; resolve(true); } };
        if (this.subscriptions.size > 0) client.subscribe([...this.subscriptions], { qos: 0 }, ready);
        else ready();
      });
      client.on('message', (topic, payload) => this.events.onMessage(topic, payload));
      client.on('error', (err: Error & { code?: unknown }) => {
        if (!first) return;
        first = false;
        if (typeof err.code === 'number') {
          this.closing = true;
          client.end(true);
          reject(new TransportError(`the broker at ${o.url} refused the connection: ${err.message}`));
        } else resolve(false);
      });
      client.on('close', () => {
        if (first) { first = false; resolve(false); }
        if (this.wasConnected && !this.closing) this.events.onDisconnect('connection closed');
        this.wasConnected = false;
        this.scheduleRetry();
      });
    });
  }

  private scheduleRetry(): void {
    if (this.closing || this.retryTimer) return;
    const cap = Math.min(this.options.reconnectMaxMs, this.options.reconnectBaseMs * 2 ** this.attempt);
    const delay = cap / 2 + (this.options.random ?? Math.random)() * (cap / 2);
    this.attempt++;
    this.events.onRetryScheduled?.(this.attempt, delay);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.closing && this.client && !this.client.connected) this.client.reconnect();
    }, delay);
  }

  subscribe(topics: string[]): void {
    void this.subscribeConfirmed(topics);
  }

  /** subscribe(), resolving once the broker has confirmed it (false: offline; it is renewed at the next connection) */
  subscribeConfirmed(topics: string[]): Promise<boolean> {
    for (const topic of topics) this.subscriptions.add(topic);
    const client = this.client;
    if (!client?.connected) return Promise.resolve(false);
    return new Promise((resolve) => client.subscribe(topics, { qos: 0 }, (err) => resolve(!err)));
  }

  /** QoS 0, sent only while connected: returns false (and sends nothing) when offline. */
  publishNow(topic: string, payload: Uint8Array): boolean {
    if (!this.client?.connected) return false;
    this.client.publish(topic, Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength), { qos: 0 });
    return true;
  }

  /**
   * publishNow, gathering this turn of the event loop's publishes into one socket write (a
   * connection shared by many agents sends a burst of messages every tick: one syscall, not one each).
   * The socket is uncorked at setImmediate, not nextTick: mqtt.js hands each received packet to
   * its handler in a tick of its own, so agents answering the packets of one socket read would
   * each have had their own write (200 agents: writev went from 10 % to 2 % of the process's time).
   */
  publishInBatch(topic: string, payload: Uint8Array): boolean {
    const stream = this.client?.stream as unknown as Socket | undefined;
    if (this.client?.connected && stream && !this.corked) {
      this.corked = true;
      stream.cork();
      setImmediate(() => { this.corked = false; stream.uncork(); });
    }
    return this.publishNow(topic, payload);
  }

  /** Publishes at QoS 1 and waits for the broker's acknowledgement (the offline announcement). */
  async publishConfirmed(topic: string, payload: Uint8Array, timeoutMs = 1_000): Promise<boolean> {
    const client = this.client;
    if (!client?.connected) return false;
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      client.publish(topic, Buffer.from(payload), { qos: 1 }, (err) => { clearTimeout(timer); resolve(!err); });
    });
  }

  /** Disconnects cleanly; if the broker does not let go within timeoutMs (an unacknowledged QoS 1 message), drops the link. */
  async close(timeoutMs = 1_000): Promise<void> {
    this.closing = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const client = this.client;
    if (!client) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => { client.end(true); resolve(); }, timeoutMs);
      client.end(false, {}, () => { clearTimeout(timer); resolve(); });
    });
  }

  /** Drops the connection without a DISCONNECT, as a crash would (the broker publishes the will). */
  destroy(): void {
    this.closing = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.client?.end(true);
  }
}

/** The default transport of createAgent: one MQTT connection (aedes-style default, `options.transport ?? mqttTransport`). */
export const mqttTransport: TransportFactory = (options, events) => new MqttTransport(options, events);
