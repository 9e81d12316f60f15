// Broker metrics in a prom-client registry of its own (several brokers can run in one process).

import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Registry } from 'prom-client';

export type RefusalReason =
  | 'anonymous_denied' | 'unknown_user' | 'bad_password' | 'client_id_mismatch' | 'too_many_clients'
  | 'connection_rate' | 'packet_too_large' | 'publish_denied' | 'subscribe_denied' | 'topic_too_deep'
  | 'empty_client_id' | 'tls_handshake' | 'certificate_identity';

export class BrokerMetrics {
  readonly registry = new Registry();
  private connectedClients: () => number = () => 0;
  readonly connections: Gauge = new Gauge({
    name: 'fleetmind_broker_connections', help: 'connected MQTT clients', registers: [this.registry],
    collect: (): void => this.connections.set(this.connectedClients()),
  });
  readonly messagesIn = new Counter({ name: 'fleetmind_broker_messages_in_total', help: 'PUBLISH packets received from clients', registers: [this.registry] });
  readonly messagesOut = new Counter({ name: 'fleetmind_broker_messages_out_total', help: 'PUBLISH packets delivered to clients', registers: [this.registry] });
  readonly bytesIn = new Counter({ name: 'fleetmind_broker_bytes_in_total', help: 'payload bytes received', registers: [this.registry] });
  readonly bytesOut = new Counter({ name: 'fleetmind_broker_bytes_out_total', help: 'payload bytes delivered', registers: [this.registry] });
  readonly refusals = new Counter({ name: 'fleetmind_broker_refusals_total', help: 'refused connections, publishes and subscriptions', labelNames: ['reason'], registers: [this.registry] });
  readonly shed = new Counter({ name: 'fleetmind_broker_shed_messages_total', help: 'QoS 0 publishes dropped because the broker was overloaded', registers: [this.registry] });
  readonly backendErrors = new Counter({ name: 'fleetmind_broker_backend_errors_total', help: 'errors from the cluster backend (Redis); the broker reconnects', registers: [this.registry] });
  readonly drops = new Counter({ name: 'fleetmind_broker_client_errors_total', help: 'connections closed on a client error (malformed packets, drain timeouts)', registers: [this.registry] });

  /** where the connections gauge reads its value at scrape time */
  trackConnections(count: () => number): void {
    this.connectedClients = count;
  }

  refuse(reason: RefusalReason): void {
    this.refusals.inc({ reason });
  }

  /** Serves GET /metrics on host:port; resolves with the bound port. */
  async serve(host: string, port: number): Promise<Server> {
    const server = createServer((req, res) => {
      if (req.url !== '/metrics') { res.writeHead(404).end('try /metrics\n'); return; }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        (err: Error) => res.writeHead(500).end(err.message),
      );
    });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, resolve));
    return server;
  }
}
