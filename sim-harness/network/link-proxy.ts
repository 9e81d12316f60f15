// A TCP proxy standing between one client (an agent) and its broker, so the simulator can break
// the link the way a real network does — the client cannot tell it is being tested.
//   cut() / restore(): every connection dropped and new ones refused, then let in again on the
//   same port (the broker unreachable, as the agent sees it).
//   filters: MQTT PUBLISH packets in either direction go through a hook that may pass, drop,
//   delay, duplicate or rewrite them (the other packets pass untouched, in order).

import { createServer, connect, type Server, type Socket } from 'node:net';
import mqttPacket, { type IPublishPacket, type Packet } from 'mqtt-packet';

/** Calls send zero or more times, now or later, with the packet or a rewritten copy. */
export type PublishFilter = (packet: IPublishPacket, send: (packet: IPublishPacket) => void) => void;

export interface LinkFilters {
  /** client → broker */
  up?: PublishFilter;
  /** broker → client */
  down?: PublishFilter;
}

export class LinkProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  /** the client side of each connection, where inject() writes */
  private readonly clients = new Set<Socket>();
  private listenPort = 0;
  /** connections accepted since creation */
  connections = 0;

  constructor(private readonly target: { host: string; port: number }, private readonly filters: LinkFilters = {}) {}

  get port(): number {
    return this.listenPort;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.listenPort}`;
  }

  async start(port = 0): Promise<this> {
    const server = createServer({ noDelay: true }, (client) => this.accept(client));
    await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, '127.0.0.1', resolve); });
    this.server = server;
    const address = server.address();
    this.listenPort = typeof address === 'object' && address ? address.port : port;
    return this;
  }

  private accept(client: Socket): void {
    this.connections++;
    this.clients.add(client);
    client.on('close', () => this.clients.delete(client));
    const upstream = connect({ host: this.target.host, port: this.target.port, noDelay: true });
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => { client.destroy(); upstream.destroy(); });
    }
    forward(client, upstream, this.filters.up);
    forward(upstream, client, this.filters.down);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  }

  /**
   * Writes a PUBLISH to the client as if the broker had sent it (a simulator's notice on this
   * link only). Whole packets only: the proxy forwards packets, never partial frames, so this
   * cannot land inside another one.
   */
  inject(packet: IPublishPacket): void {
    if (!this.filters.down) throw new Error('LinkProxy.inject needs a down filter: an unparsed pipe may be in the middle of a packet');
    const bytes = mqttPacket.generate(packet);
    for (const c of this.clients) if (!c.destroyed) c.write(bytes);
  }

  /** Drops every connection and stops accepting: the broker is unreachable. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Accepts connections again on the same port. */
  async restore(): Promise<void> {
    if (!this.server) await this.start(this.listenPort);
  }

  async close(): Promise<void> {
    await this.cut();
  }
}

function forward(from: Socket, to: Socket, filter: PublishFilter | undefined): void {
  if (!filter) {
    from.pipe(to);
    return;
  }
  // MQTT 3.1.1, the version fleetmind speaks (mqtt.js's default)
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  const write = (packet: Packet) => { if (!to.destroyed) to.write(mqttPacket.generate(packet)); };
  parser.on('packet', (packet: Packet) => {
    if (packet.cmd === 'publish') filter(packet, write);
    else write(packet);
  });
  parser.on('error', () => { from.destroy(); to.destroy(); });
  from.on('data', (chunk: Buffer) => parser.parse(chunk));
}
