// Many agents of one process on one MQTT connection: a second Transport implementation, for a
// process that hosts a fleet (a simulator, a benchmark, a gateway computer that runs several
// robots' controllers). Each agent on its own connection costs the broker a delivery per
// subscriber and this process a packet parse per delivery; on one connection the broker sends a
// message once to the process, which hands it to every agent here that subscribed to it.
//
// The agents' publishes of one turn of the event loop leave in one socket write.
//
// Agents share a connection only when they connect alike (the same broker, credentials and TLS
// files): agents with a user each — a broker whose ACLs confine each agent to its own topics — keep
// a connection each. The shared connection has no last will; an agent destroyed as a crash
// (destroy()) has its own will published for it on the connection, as the broker would have. If
// the whole process dies, its agents' peers notice by their heartbeats stopping instead.
//
// Subscriptions are matched here, with MQTT's wildcards; two agents' overlapping filters (an exact
// topic and a wildcard over it) may bring a message twice, and the agents refuse the copy as a
// duplicate.

import { MqttTransport } from './mqtt-transport.js';
import type { Transport, TransportEvents, TransportFactory, TransportOptions } from './transport.js';

/** MQTT topic filter matching: + is one level, # the rest. */
export function topicMatches(filter: string, topic: string): boolean {
  if (filter === topic) return true;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let k = 0; k < f.length; k++) {
    if (f[k] === '#') return true;
    if (k >= t.length || (f[k] !== '+' && f[k] !== t[k])) return false;
  }
  return f.length === t.length;
}

/** One connection and the agents on it. */
class SharedConnection {
  readonly link: MqttTransport;
  readonly members = new Set<SharedMember>();
  private readonly exact = new Map<string, Set<SharedMember>>();
  private readonly wildcards = new Map<string, Set<SharedMember>>();
  private starting: Promise<boolean> | null = null;

  constructor(options: TransportOptions, clientId: string, private readonly onEmpty: () => void) {
    this.link = new MqttTransport({ ...options, clientId, will: undefined }, {
      onMessage: (topic, payload) => this.dispatch(topic, payload),
      onConnect: () => { for (const m of this.members) m.connectedNow(); },
      onDisconnect: (reason) => { for (const m of this.members) m.disconnectedNow(reason); },
    });
  }

  start(): Promise<boolean> {
    this.starting ??= this.link.start();
    return this.starting;
  }

  /** resolves once the broker confirmed the topics this connection did not carry yet */
  subscribe(member: SharedMember, topics: string[]): Promise<boolean> {
    const fresh: string[] = [];
    for (const topic of topics) {
      const table = /[+#]/.test(topic) ? this.wildcards : this.exact;
      let subscribers = table.get(topic);
      if (!subscribers) { subscribers = new Set(); table.set(topic, subscribers); fresh.push(topic); }
      subscribers.add(member);
    }
    return fresh.length > 0 ? this.link.subscribeConfirmed(fresh) : Promise.resolve(this.link.connected);
  }

  leave(member: SharedMember): void {
    this.members.delete(member);
    for (const table of [this.exact, this.wildcards]) for (const subscribers of table.values()) subscribers.delete(member);
    if (this.members.size === 0) this.onEmpty();
  }

  private dispatch(topic: string, payload: Uint8Array): void {
    const exact = this.exact.get(topic);
    if (exact) for (const m of exact) m.events.onMessage(topic, payload);
    for (const [filter, subscribers] of this.wildcards) {
      if (topicMatches(filter, topic)) for (const m of subscribers) m.events.onMessage(topic, payload);
    }
  }
}

/** One agent's Transport on a shared connection. */
class SharedMember implements Transport {
  private gone = false;
  private started = false;
  private readonly reconnectsAtJoin: number;
  private pending: Promise<boolean> = Promise.resolve(true);

  constructor(private readonly connection: SharedConnection, private readonly options: TransportOptions, readonly events: TransportEvents) {
    connection.members.add(this);
    this.reconnectsAtJoin = connection.link.reconnects;
  }

  get connected(): boolean {
    return !this.gone && this.connection.link.connected;
  }

  get reconnects(): number {
    return this.connection.link.reconnects - this.reconnectsAtJoin;
  }

  async start(): Promise<boolean> {
    const alreadyUp = this.connection.link.connected;
    const reached = alreadyUp || await this.connection.start();
    this.started = true;
    // the connection's own connect event came before this agent joined: this agent's comes now
    if (alreadyUp || (reached && this.connection.link.connected)) this.events.onConnect();
    if (!reached) return false;
    // an agent that says it started hears its peers' next messages (as MqttTransport's start)
    await this.pending;
    return true;
  }

  connectedNow(): void {
    if (this.started && !this.gone) this.events.onConnect();
  }

  disconnectedNow(reason: string): void {
    if (this.started && !this.gone) this.events.onDisconnect(reason);
  }

  subscribe(topics: string[]): void {
    if (this.gone) return;
    const confirmed = this.connection.subscribe(this, topics);
    const before = this.pending;
    this.pending = Promise.all([before, confirmed]).then(([a, b]) => a && b);
  }

  publishNow(topic: string, payload: Uint8Array): boolean {
    return this.connected && this.connection.link.publishInBatch(topic, payload);
  }

  publishConfirmed(topic: string, payload: Uint8Array, timeoutMs?: number): Promise<boolean> {
    return this.connected ? this.connection.link.publishConfirmed(topic, payload, timeoutMs) : Promise.resolve(false);
  }

  async close(): Promise<void> {
    if (this.gone) return;
    this.gone = true;
    this.connection.leave(this);
  }

  /** as a crash: this agent's last will is published for it (the broker would have), then it is gone */
  destroy(): void {
    if (this.gone) return;
    const will = this.options.will;
    if (will && this.connection.link.connected) {
      // the connection stays until the will is acknowledged, even if this was its last agent
      const published = this.connection.link.publishConfirmed(will.topic, will.payload);
      this.gone = true;
      void published.then(() => this.connection.leave(this));
      return;
    }
    this.gone = true;
    this.connection.leave(this);
  }
}

export interface SharedConnections {
  /** the factory to give createAgent as `transport` */
  readonly transport: TransportFactory;
  /** connections open now (one per way of connecting) */
  readonly size: number;
  /** closes every connection (agents still on them are cut off) */
  close(): Promise<void>;
}

/** Agents made with `transport` share one connection per broker, credentials and TLS files. */
export function sharedConnections(name = 'fleet'): SharedConnections {
  const connections = new Map<string, SharedConnection>();
  let made = 0;
  const keyOf = (o: TransportOptions) => JSON.stringify([o.url, o.username ?? null, o.password ?? null, String(o.tlsCa ?? ''), String(o.tlsCert ?? ''), String(o.tlsKey ?? '')]);
  return {
    transport: (options, events) => {
      const key = keyOf(options);
      let connection = connections.get(key);
      if (!connection) {
        // a broker with users wants `<username>:<suffix>` as a second connection's client id
        const clientId = `${options.username ?? name}:shared:${process.pid}:${++made}`;
        const fresh = new SharedConnection(options, clientId, () => {
          if (connections.get(key) === fresh) connections.delete(key);
          void fresh.link.close();
        });
        connection = fresh;
        connections.set(key, connection);
      }
      return new SharedMember(connection, options, events);
    },
    get size() { return connections.size; },
    async close() {
      const open = [...connections.values()];
      connections.clear();
      await Promise.all(open.map((c) => c.link.close()));
    },
  };
}
