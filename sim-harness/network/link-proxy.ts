// A TCP proxy standing between one client (an agent) and its broker, so the simulator can break
// the link the way a real network does — the client cannot tell it is being tested. cut() drops
// every connection and refuses new ones (a broker outage as the agent sees it); restore() lets
// them in again on the same port.

import { createServer, connect, type Server, type Socket } from 'node:net';

export class LinkProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private listenPort = 0;
  /** connections accepted since creation */
  connections = 0;

  constructor(private readonly target: { host: string; port: number }) {}

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
    const upstream = connect({ host: this.target.host, port: this.target.port, noDelay: true });
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => { client.destroy(); upstream.destroy(); });
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
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
