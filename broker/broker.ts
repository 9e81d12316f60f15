// The embedded fleetmind broker: aedes behind a TCP listener, with per-user auth and ACLs in
// aedes's hooks, limits that hold under overload, Prometheus metrics and $SYS statistics.

import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { readFileSync, statSync } from 'node:fs';
import { createServer as createTlsServer } from 'node:tls';
import type { Duplex } from 'node:stream';
import { Aedes, type AedesOptions, type AedesPublishPacket, type Client, type Subscription } from 'aedes';
import mqemitter from 'mqemitter';
import { guardEmitter } from './limits/overload-guard.js';
import { authorizePublishTopic, authorizeSubscribeFilter, clientIdMatches } from './auth/acl.js';
import type { Principal, UsersFile } from './auth/users-file.js';
import { principalFromSubject } from './auth/device-identity.js';
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
  /** messages waiting for delivery before QoS 0 publishes are shed (overload guard) */
  maxQueuedMessages?: number;
  /** ms a client may block its socket before it is dropped (aedes's default, 60 s, stalls fleets) */
  drainTimeoutMs?: number;
  /** called for each message forwarded to a client: the simulator counts deliveries with it */
  onForward?: (clientId: string | undefined, topic: string, bytes: number) => void;
  /**
   * called for each message a client publishes, once it is accepted and before it is forwarded to
   * anyone: the simulator counts what agents sent with it (aedes's 'publish' event may come after a
   * subscriber has the message, and so after a lockstep run has ended)
   */
  onPublish?: (clientId: string, topic: string, payload: Uint8Array) => void;
  /** serve Prometheus metrics on this port (0 = free port; undefined = off) */
  metricsPort?: number;
  /** period of the $SYS statistics, ms */
  sysIntervalMs?: number;
  /** also serve MQTT over WebSocket on this port (0 = free port) */
  wsPort?: number;
  /** also serve MQTT over TLS: PEM certificate chain and key, and the port (default 8883; 0 = free) */
  tls?: TlsOptions;
  /** cluster mode: share subscriptions, retained messages and sessions with other brokers through Redis */
  redis?: string;
  /** called when a backend (Redis) fails at run time; the broker keeps running and reconnects */
  onError?: (err: Error) => void;
  /** called for every refusal, e.g. to log it */
  onRefusal?: (event: { reason: RefusalReason; clientId?: string; address?: string; detail: string }) => void;
}

export interface TlsOptions {
  cert: string | Buffer;
  key: string | Buffer;
  port?: number;
  /**
   * mutual TLS: the CA (PEM) whose certificates identify devices. A TLS client must then show
   * one; its subject names it (CN, O = fleet, OU = role) and the ACLs apply as to a user
   */
  clientCa?: string | Buffer;
  /** the CA's revocation list (PEM file), reloaded when it changes: revoked devices are refused */
  crlPath?: string;
  /** called after the revocation list was (re)loaded */
  onRevocationsLoaded?: (revoked: number) => void;
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
  maxQueuedMessages: 10_000,
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
  /** ws://host:port when WebSocket is on */
  readonly wsUrl?: string;
  /** mqtts://host:port when TLS is on */
  readonly tlsUrl?: string;
  readonly metrics: BrokerMetrics;
  readonly aedes: Aedes;
  close(): Promise<void>;
}

function authError(returnCode: 2 | 4 | 5, message: string): Error & { returnCode: 2 | 4 | 5 } {
  return Object.assign(new Error(message), { returnCode });
}

export async function startBroker(options: BrokerOptions = {}): Promise<FleetBroker> {
  const o = { ...defaultBrokerOptions, ...options };
  if (!o.users && !o.allowAnonymous && !o.tls?.clientCa) throw new BrokerError('no users file, no device CA and anonymous access is off: give users, tls.clientCa or allowAnonymous');
  if (o.tls?.crlPath && !o.tls.clientCa) throw new BrokerError('a revocation list (tls.crlPath) needs the device CA (tls.clientCa)');
  const metrics = new BrokerMetrics();
  const principals = new WeakMap<Client, Principal>();
  /** clients whose CONNECT had an empty client id (aedes names them aedes_<uuid> before authenticate) */
  const anonymousIds = new WeakSet<Client>();
  /** connections that showed a verified device certificate, and whom it names (null: it names nobody valid) */
  const certified = new WeakMap<object, { principal: Principal | null; subject: string }>();
  /** sockets that sent an oversized packet: closed, and nothing already read from them is let through */
  const condemned = new WeakSet<object>();
  const rate = new ConnectionRateLimiter(o.connectionsPerSecond, o.connectionBurst);

  const refuse = (reason: RefusalReason, detail: string, client?: Client | null, address?: string) => {
    metrics.refuse(reason);
    o.onRefusal?.({ reason, clientId: client?.id, address, detail });
  };
  const levels = (topic: string) => topic.split('/').length;

  // Redis and WebSocket modules load only when asked for: a smaller heap means shorter GC pauses
  // in the message path (the bare broker's heap is less than half with them left out)
  const backends: Partial<AedesOptions> = o.redis
    ? await (await import('./cluster.js')).redisBackends(o.redis, (err) => { metrics.backendErrors.inc(); o.onError?.(err); })
      .catch((err: Error) => { throw new BrokerError(err.message); })
    : {};
  const mq = guardEmitter(backends.mq ?? mqemitter({ concurrency: 100, matchEmptyLevels: true }), {
    maxQueued: o.maxQueuedMessages,
    onShed: () => metrics.shed.inc(),
  });
  const aedes = await Aedes.createBroker({
    mq,
    persistence: backends.persistence,
    drainTimeout: o.drainTimeoutMs,
    heartbeatInterval: o.sysIntervalMs,
    // our hooks enforce o.maxTopicLevels (and count refusals); aedes's own guard stays at its ceiling
    maxTopicLevels: 100,
    maxClientsIdLength: 128,
    preConnect(client, packet, callback) {
      if (packet.clientId === '') anonymousIds.add(client);
      if (aedes.connectedClients >= o.maxClients) {
        refuse('too_many_clients', `${aedes.connectedClients} clients connected (max ${o.maxClients})`, client);
        return callback(null, false);
      }
      callback(null, true);
    },
    authenticate(client, username, password, callback) {
      const device = certified.get(client.conn);
      if (device) {
        // mutual TLS: the certificate is the identity; a password is not needed nor looked at
        if (!device.principal) {
          refuse('certificate_identity', `certificate "${device.subject}" names no valid identity (CN=name, O=fleet, OU=role)`, client);
          return callback(authError(5, 'not authorized'), false);
        }
        if (!clientIdMatches(device.principal.username, client.id)) {
          refuse('client_id_mismatch', `client id "${client.id}" is not certificate "${device.principal.username}"`, client);
          return callback(authError(2, 'identifier rejected'), false);
        }
        principals.set(client, device.principal);
        return callback(null, true);
      }
      // [MQTT-3.1.3-8] an empty client id needs CleanSession=1: a session that cannot be found
      // again must not be kept; CONNACK 2 and close (aedes 1.2.0 lets it in, aedes#1095)
      if (anonymousIds.has(client) && !client.clean) {
        refuse('empty_client_id', 'empty client id with CleanSession=0', client);
        return callback(authError(2, 'identifier rejected'), false);
      }
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
      o.onPublish?.(client.id, packet.topic, packet.payload as Uint8Array);
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
    authorizeForward(client, packet: AedesPublishPacket) {
      if (!packet.topic.startsWith('$SYS/')) {
        metrics.messagesOut.inc();
        metrics.bytesOut.inc(packet.payload.length);
        o.onForward?.(client?.id, packet.topic, packet.payload.length);
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

  const streams = new Set<Duplex>();
  /** every transport ends here: rate limit, TCP_NODELAY, the packet-size guard, then aedes */
  const attach = (stream: Duplex, address: string, socket?: Socket) => {
    socket?.setNoDelay(true);
    if (!rate.allow(address)) {
      refuse('connection_rate', `${address} connects faster than ${o.connectionsPerSecond}/s`, null, address);
      stream.destroy();
      return;
    }
    streams.add(stream);
    stream.on('close', () => streams.delete(stream));
    stream.on('error', () => stream.destroy());
    aedes.handle(stream);
    const guard = new PacketSizeGuard(o.maxPacketSize);
    stream.on('data', (chunk: Buffer) => {
      const size = guard.feed(chunk);
      if (size >= 0) {
        condemned.add(stream);
        refuse('packet_too_large', `${address} sent a ${size}-byte packet (max ${o.maxPacketSize})`, null, address);
        stream.destroy();
      }
    });
  };
  const listen = (srv: Server | HttpServer, p: number, what: string) => new Promise<number>((resolve, reject) => {
    srv.once('error', (err: NodeJS.ErrnoException) =>
      reject(new BrokerError(err.code === 'EADDRINUSE' ? `${what} port ${p} on ${o.host} is already in use` : `cannot listen on ${o.host}:${p}: ${err.message}`)));
    srv.listen(p, o.host, () => resolve((srv.address() as { port: number }).port));
  });
  const closers: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    for (const s of streams) s.destroy();
    for (const c of closers.reverse()) await c();
    // aedes.close() closes the mq but not the persistence, whose destroy still needs the mq;
    // without a callback, destroy() returns a promise (with one, it waits for a 'ready' aedes 1.x never causes)
    const persistence = backends.persistence as { destroy?(): Promise<void> } | undefined;
    await persistence?.destroy?.();
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
  };
  const closeServer = (srv: Server | HttpServer) => () => new Promise<void>((resolve) => srv.close(() => resolve()));

  let port = 0;
  let wsPort: number | undefined;
  let tlsPort: number | undefined;
  let metricsServer: HttpServer | undefined;
  try {
    const server: Server = createServer({ noDelay: true }, (socket) => attach(socket, socket.remoteAddress ?? 'unknown', socket));
    port = await listen(server, o.port, 'MQTT');
    closers.push(closeServer(server));
    if (o.tls) {
      const tls = o.tls;
      const mutual = tls.clientCa !== undefined;
      // mutual TLS verifies the client's certificate (the CA, the revocation list, the dates) in
      // the handshake, but lets a failed one finish it, so that the refusal can say why
      const context = () => ({
        cert: tls.cert, key: tls.key,
        ...(mutual ? { ca: tls.clientCa, requestCert: true, rejectUnauthorized: false, ...(tls.crlPath ? { crl: readFileSync(tls.crlPath) } : {}) } : {}),
      });
      // the revocation list's identity when it was read: any later write is noticed (taken before
      // the read, so a write between the two is seen as a change, never missed)
      const crlVersion = (path: string) => {
        try {
          const st = statSync(path);
          return `${st.ino}:${st.size}:${st.mtimeMs}`;
        } catch {
          return 'missing'; // said once, by the reload that fails to read it
        }
      };
      let loadedCrl = tls.crlPath ? crlVersion(tls.crlPath) : '';
      const tlsServer = createTlsServer(context(), (socket) => {
        if (mutual) {
          const cert = socket.getPeerCertificate();
          const subject = Object.entries(cert.subject ?? {}).map(([k, v]) => `${k}=${v}`).join(', ');
          if (!socket.authorized) {
            const why = Object.keys(cert).length === 0 ? 'no client certificate' : String(socket.authorizationError);
            refuse('tls_handshake', `certificate ${subject ? `"${subject}" ` : ''}refused: ${why}`, null, socket.remoteAddress);
            socket.destroy();
            return;
          }
          certified.set(socket, { principal: principalFromSubject(cert.subject ?? {}), subject });
        }
        attach(socket, socket.remoteAddress ?? 'unknown', socket);
      });
      // a refused handshake (unknown CA, revoked, expired certificate) is said and counted
      tlsServer.on('tlsClientError', (err, socket) => refuse('tls_handshake', err.message, null, socket.remoteAddress));
      if (tls.crlPath) {
        const crlPath = tls.crlPath;
        // the X.509 library loads only for a broker that checks revocations
        const { countRevoked } = await import('./auth/certificates.js');
        const reload = () => {
          try {
            const version = crlVersion(crlPath);
            if (version === loadedCrl) return;
            loadedCrl = version;
            tlsServer.setSecureContext(context());
            tls.onRevocationsLoaded?.(countRevoked(crlPath));
          } catch (err) {
            metrics.backendErrors.inc();
            o.onError?.(new Error(`cannot reload the revocation list ${crlPath}: ${(err as Error).message}; keeping the previous one`));
          }
        };
        // polled against the version loaded (fs.watchFile's own first look may come after a write)
        const poll = setInterval(reload, 250);
        poll.unref();
        closers.push(async () => clearInterval(poll));
        tls.onRevocationsLoaded?.(countRevoked(crlPath));
      }
      tlsPort = await listen(tlsServer, tls.port ?? 8883, 'TLS');
      closers.push(closeServer(tlsServer));
    }
    if (o.wsPort !== undefined) {
      const { WebSocketServer, createWebSocketStream } = await import('ws');
      const http = createHttpServer((_req, res) => res.writeHead(426).end('MQTT over WebSocket: upgrade required\n'));
      const wss = new WebSocketServer({ server: http, maxPayload: o.maxPacketSize + 8 });
      wss.on('connection', (ws, req) => attach(createWebSocketStream(ws), req.socket.remoteAddress ?? 'unknown', req.socket));
      wsPort = await listen(http, o.wsPort, 'WebSocket');
      closers.push(() => new Promise<void>((resolve) => { wss.close(); http.close(() => resolve()); }));
    }
    if (o.metricsPort !== undefined) {
      metricsServer = await metrics.serve(o.host, o.metricsPort).catch((err: Error) => {
        throw new BrokerError(`cannot serve metrics on ${o.host}:${o.metricsPort}: ${err.message}`);
      });
      closers.push(closeServer(metricsServer));
    }
  } catch (err) {
    await closeAll();
    throw err;
  }

  const sysTimer = setInterval(() => void publishSys(aedes, metrics), o.sysIntervalMs);
  sysTimer.unref();

  return {
    host: o.host,
    port,
    url: `mqtt://${o.host}:${port}`,
    metricsPort: metricsServer ? (metricsServer.address() as { port: number }).port : undefined,
    wsUrl: wsPort === undefined ? undefined : `ws://${o.host}:${wsPort}`,
    tlsUrl: tlsPort === undefined ? undefined : `mqtts://${o.host}:${tlsPort}`,
    metrics,
    aedes,
    async close() {
      clearInterval(sysTimer);
      await closeAll();
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
