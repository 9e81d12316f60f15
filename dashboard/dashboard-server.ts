// The dashboard's server: one MQTT connection that subscribes to a fleet's (or every fleet's)
// heartbeats, statuses, messages and world, and an HTTP server that gives the page, the fleet
// as JSON (/state) and a stream of it (/events, server-sent events, twice a second). A
// server-side bridge, so the browser needs no MQTT and the broker no WebSocket listener.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import { FleetView } from './fleet-view.js';
import { dashboardPage } from './page.js';
import { startFoxgloveBridge, type FoxgloveBridge } from './foxglove-bridge.js';
import type { DashboardOptions } from './dashboard-options.js';


export interface Dashboard {
  /** the page's address */
  readonly url: string;
  /** the Foxglove bridge's ws:// address, when one was asked for */
  readonly foxgloveUrl: string | null;
  readonly view: FleetView;
  close(): Promise<void>;
}

export class DashboardError extends Error {
  readonly code = 'FM_ERR_DASHBOARD';
}

export async function startDashboard(o: DashboardOptions): Promise<Dashboard> {
  const view = new FleetView(o.peerTimeoutMs);
  const client = await connect(o);
  let foxglove: FoxgloveBridge | null = null;
  try {
    foxglove = o.foxglovePort === undefined || o.foxglovePort === null ? null : await startFoxgloveBridge(o.host, o.foxglovePort);
  } catch (err) {
    client.end(true);
    throw new DashboardError(`cannot serve the Foxglove bridge on ${o.host}:${o.foxglovePort}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const prefix = `fm/${o.fleet ?? '+'}`;
  // only what the view could read goes on to Foxglove
  client.on('message', (topic, payload) => { if (view.receive(topic, payload)) foxglove?.forward(topic, payload); });
  await client.subscribeAsync([`${prefix}/a/+/hb`, `${prefix}/a/+/status`, `${prefix}/a/+/msg`, `${prefix}/world`]);

  const streams = new Set<ServerResponse>();
  const sockets = new Set<Socket>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://dashboard').pathname;
    if (req.method !== 'GET') return void res.writeHead(405, { allow: 'GET' }).end();
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(dashboardPage({ broker: o.broker, fleet: o.fleet, intervalMs: o.intervalMs, peerTimeoutMs: o.peerTimeoutMs }));
    } else if (path === '/favicon.ico') {
      res.writeHead(204).end();
    } else if (path === '/state') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(view.snapshot()));
    } else if (path === '/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      streams.add(res);
      req.on('close', () => streams.delete(res));
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`no ${path} here: the dashboard is at /\n`);
    }
  });
  server.on('connection', (socket) => { sockets.add(socket); socket.on('close', () => sockets.delete(socket)); });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      client.end(true);
      void foxglove?.close();
      reject(new DashboardError(err.code === 'EADDRINUSE' ? `port ${o.port} on ${o.host} is in use: choose another with --port` : `cannot serve on ${o.host}:${o.port}: ${err.message}`));
    });
    server.listen(o.port, o.host, () => resolve());
  });
  const timer = setInterval(() => {
    if (streams.size === 0) return;
    const frame = `data: ${JSON.stringify(view.snapshot())}\n\n`;
    for (const res of streams) res.write(frame);
  }, o.intervalMs);
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}/`,
    foxgloveUrl: foxglove?.url ?? null,
    view,
    async close() {
      clearInterval(timer);
      await foxglove?.close();
      for (const res of streams) res.end();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await client.endAsync(true);
    },
  };
}

/** Connects, or fails after a few seconds with the broker's reason. */
async function connect(o: DashboardOptions): Promise<MqttClient> {
  const client = mqtt.connect(o.broker, {
    clientId: o.username ? `${o.username}:dashboard-${process.pid}` : `dashboard-${process.pid}-${Date.now()}`,
    username: o.username, password: o.password, reconnectPeriod: 1_000, connectTimeout: 5_000,
  });
  try {
    await new Promise<void>((resolve, reject) => {
      let lastError: Error | null = null;
      client.on('error', (err) => { lastError = err; });
      const timer = setTimeout(() => reject(new DashboardError(`cannot reach the broker at ${o.broker} within 5 s${lastError ? `: ${lastError.message}` : ''}`)), 5_000);
      client.once('connect', () => { clearTimeout(timer); resolve(); });
    });
  } catch (err) {
    client.end(true);
    throw err;
  }
  (client.stream as unknown as Socket).setNoDelay?.(true);
  return client;
}
