// The embedded fleetmind broker: aedes behind a TCP listener, with per-user auth and ACLs in
// aedes's hooks, limits that hold under overload, Prometheus metrics and $SYS statistics.

import { createServer, type Server, type Socket } from 'node:net';
import type { Server as HttpServer } from 'node:http';
import { Aedes, type AedesPublishPacket, type Client, type Subscription } from 'aedes';
import { authorizePublishTopic, authorizeSubscribeFilter, clientIdMatches } from './auth/acl.js';
import type { Principal, UsersFile } from './auth/users-file.js';
import { ConnectionRateLimiter } from './limits/connection-rate.js';
import { PacketSizeGuard } from './limits/packet-size-guard.js';
import { BrokerMetrics, type RefusalReason } from './metrics.js';

export interface BrokerOptions {
  /** listen address; loopback unless told otherwise */
  host?: string;
  /** TCP port; 0 picks a free one */
  port?: number;
  /** users and their roles; required unless allowAnonymous */
  users?: UsersFile;
  /** let clients without a username in, with full rights (loopback demos only) */
  allowAnonymous?: boolean;
  /** largest MQTT packet accepted, bytes (fleet messages are < 200 B) */
  maxPacketSize?: number;
  /** deepest topic accepted (the fleetmind layout uses 5 levels) */
  maxTopicLevels?: number;
  maxClients?: number;
  /** new connections per second per remote address, after a burst */
  connectionsPerSecond?: number;
  connectionBurst?: number;
  /** ms a client may block its socket before it is dropped (aedes's default, 60 s, stalls fleets) */
  drainTimeoutMs?: number;
  /** serve Prometheus metrics on this port (0 = free port; undefined = off) */
  metricsPort?: number;
  /** period of the $SYS statistics, ms */
  sysIntervalMs?: number;
  /** called for every refusal, e.g. to log it */
  onRefusal?: (event: { reason: RefusalReason; clientId?: string; address?: string; detail: string }) => void;
}

export const defaultBrokerOptions = {
  host: '127.0.0.1',
  port: 1883,
  allowAnonymous: false,
  maxPacketSize: 64 * 1024,
  maxTopicLevels: 16,
  maxClients: 10_000,
  connectionsPerSecond: 50,
  connectionBurst: 500,
  drainTimeoutMs: 5_000,
  sysIntervalMs: 10_000,
} as const;

export class BrokerError extends Error {
  readonly code = 'FM_ERR_BROKER';
}

/** anonymous clients, when allowed, act with full rights */
const ANONYMOUS: Principal = { username: '(anonymous)', role: 'admin' };

export interface FleetBroker {
  readonly host: string;
  readonly port: number;
  /** mqtt://host:port */
  readonly url: string;
  readonly metricsPort?: number;
  readonly metrics: BrokerMetrics;
  readonly aedes: Aedes;
  close(): Promise<void>;
}

function authError(returnCode: 2 | 4 | 5, message: string): Error & { returnCode: 2 | 4 | 5 } {
  return Object.assign(new Error(message), { returnCode });
}

export async function startBroker(options: BrokerOptions = {}): Promise<FleetBroker> {
  const o = { ...defaultBrokerOptions, ...options };
  if (!o.users && !o.allowAnonymous) throw new BrokerError('no users file and anonymous access is off: give users or allowAnonymous');
  const metrics = new BrokerMetrics();
  const principals = new WeakMap<Client, Principal>();
  /** sockets that sent an oversized packet: closed, and nothing already read from them is let through */
  const condemned = new WeakSet<object>();
  const rate = new ConnectionRateLimiter(o.connectionsPerSecond, o.connectionBurst);

  const refuse = (reason: RefusalReason, detail: string, client?: Client | null, address?: string) => {
    metrics.refuse(reason);
    o.onRefusal?.({ reason, clientId: client?.id, address, detail });
  };
  const levels = (topic: string) => topic.split('/').length;

  const aedes = await Aedes.createBroker({
    drainTimeout: o.drainTimeoutMs,
    heartbeatInterval: o.sysIntervalMs,
    // our hooks enforce o.maxTopicLevels (and count refusals); aedes's own guard stays at its ceiling
    maxTopicLevels: 100,
    maxClientsIdLength: 128,
    preConnect(client, _packet, callback) {
      if (aedes.connectedClients >= o.maxClients) {
        refuse('too_many_clients', `${aedes.connectedClients} clients connected (max ${o.maxClients})`, client);
        return callback(null, false);
      }
      callback(null, true);
    },
    authenticate(client, username, password, callback) {
      if (!username) {
        if (o.allowAnonymous) { principals.set(client, ANONYMOUS); return callback(null, true); }
        refuse('anonymous_denied', 'no username and anonymous access is off', client);
        return callback(authError(5, 'not authorized'), false);
      }
      if (!o.users) {
        refuse('unknown_user', `user "${username}": this broker has no users file`, client);
        return callback(authError(4, 'bad user name or password'), false);
      }
      o.users.verify(username, password?.toString('utf8') ?? '').then(({ principal, reason }) => {
        if (!principal) {
          refuse(reason!, `user "${username}"`, client);
          return callback(authError(4, 'bad user name or password'), false);
        }
        if (!clientIdMatches(principal.username, client.id)) {
          refuse('client_id_mismatch', `client id "${client.id}" is not user "${username}"`, client);
          return callback(authError(2, 'identifier rejected'), false);
        }
        principals.set(client, principal);
        callback(null, true);
      }, (err: Error) => callback(authError(5, `cannot check credentials: ${err.message}`), false));
    },
    authorizePublish(client, packet, callback) {
      const principal = client && principals.get(client);
      if (!principal) return callback(new Error('not authenticated'));
      if (condemned.has(client.conn)) return callback(new Error('packet too large'));
      if (levels(packet.topic) > o.maxTopicLevels) {
        refuse('topic_too_deep', `publish to a ${levels(packet.topic)}-level topic`, client);
        return callback(new Error('topic too deep'));
      }
      const decision = authorizePublishTopic(principal, packet.topic);
      if (!decision.allowed) {
        refuse('publish_denied', `${principal.username}: ${decision.reason}`, client);
        return callback(new Error(decision.reason));
      }
      metrics.messagesIn.inc();
      metrics.bytesIn.inc(packet.payload.length);
      callback(null);
    },
    authorizeSubscribe(client, sub, callback) {
      const principal = client && principals.get(client);
      if (!principal) return callback(new Error('not authenticated'), null);
      if (condemned.has(client.conn)) return callback(new Error('packet too large'), null);
      if (levels(sub.topic) > o.maxTopicLevels) {
        refuse('topic_too_deep', `subscribe to a ${levels(sub.topic)}-level filter`, client);
        return callback(null, null as unknown as Subscription);
      }
      const decision = authorizeSubscribeFilter(principal, sub.topic);
      if (!decision.allowed) {
        refuse('subscribe_denied', `${principal.username}: ${decision.reason}`, client);
        return callback(null, null as unknown as Subscription); // negative SUBACK, client stays connected
      }
      callback(null, sub);
    },
    authorizeForward(_client, packet: AedesPublishPacket) {
      if (!packet.topic.startsWith('$SYS/')) {
        metrics.messagesOut.inc();
        metrics.bytesOut.inc(packet.payload.length);
      }
      return packet;
    },
  });
  // aedes reports an error per pending write of a failing client: count the client once
  const erred = new WeakSet<Client>();
  const countError = (client: Client) => {
    if (erred.has(client)) return;
    erred.add(client);
    metrics.drops.inc();
  };
  aedes.on('clientError', countError);
  aedes.on('connectionError', countError);
  metrics.trackConnections(() => aedes.connectedClients);

  const sockets = new Set<Socket>();
  const server: Server = createServer({ noDelay: true }, (socket) => {
    socket.setNoDelay(true);
    const address = socket.remoteAddress ?? 'unknown';
    if (!rate.allow(address)) {
      refuse('connection_rate', `${address} connects faster than ${o.connectionsPerSecond}/s`, null, address);
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    aedes.handle(socket);
    const guard = new PacketSizeGuard(o.maxPacketSize);
    socket.on('data', (chunk: Buffer) => {
      const size = guard.feed(chunk);
      if (size >= 0) {
        condemned.add(socket);
        refuse('packet_too_large', `${address} sent a ${size}-byte packet (max ${o.maxPacketSize})`, null, address);
        socket.destroy();
      }
    });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(new BrokerError(err.code === 'EADDRINUSE' ? `port ${o.port} on ${o.host} is already in use` : `cannot listen on ${o.host}:${o.port}: ${err.message}`)));
      server.listen(o.port, o.host, resolve);
    });
  } catch (err) {
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    throw err;
  }
  const port = (server.address() as { port: number }).port;

  let metricsServer: HttpServer | undefined;
  if (o.metricsPort !== undefined) {
    try {
      metricsServer = await metrics.serve(o.host, o.metricsPort);
    } catch (err) {
      server.close();
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      throw new BrokerError(`cannot serve metrics on ${o.host}:${o.metricsPort}: ${(err as Error).message}`);
    }
  }

  const sysTimer = setInterval(() => void publishSys(aedes, metrics), o.sysIntervalMs);
  sysTimer.unref();

  return {
    host: o.host,
    port,
    url: `mqtt://${o.host}:${port}`,
    metricsPort: metricsServer ? (metricsServer.address() as { port: number }).port : undefined,
    metrics,
    aedes,
    async close() {
      clearInterval(sysTimer);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      if (metricsServer) await new Promise<void>((resolve) => metricsServer!.close(() => resolve()));
    },
  };
}

/** Mosquitto-style statistics under $SYS/<broker id>/ */
async function publishSys(aedes: Aedes, metrics: BrokerMetrics): Promise<void> {
  const value = async (m: { get(): Promise<{ values: { value: number }[] }> }) =>
    (await m.get()).values.reduce((s, v) => s + v.value, 0);
  const stats: Record<string, number> = {
    'clients/connected': aedes.connectedClients,
    'messages/received': await value(metrics.messagesIn),
    'messages/sent': await value(metrics.messagesOut),
    'bytes/received': await value(metrics.bytesIn),
    'bytes/sent': await value(metrics.bytesOut),
    'refusals': await value(metrics.refusals),
  };
  for (const [name, v] of Object.entries(stats)) {
    aedes.publish({ cmd: 'publish', topic: `$SYS/${aedes.id}/${name}`, payload: Buffer.from(String(v)), qos: 0, retain: false, dup: false }, () => {});
  }
}
