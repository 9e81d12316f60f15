// A Foxglove WebSocket bridge (foxglove.websocket.v1, @foxglove/ws-protocol): Foxglove Studio
// attaches to a live fleet and sees every agent's status and a simulator's world as protobuf
// messages with fleetmind.proto's own schemas — the schemas its recordings carry. The bytes are
// forwarded as they crossed the broker, one channel per topic kind, the agent in the topic name.

import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import foxglove from '@foxglove/ws-protocol'; // CommonJS: its named exports only through the default
import { WebSocketServer } from 'ws';
import { parseTopic, protoDescriptorSet } from '@fleetmind/wire';

export interface FoxgloveBridge {
  /** ws://host:port, for Foxglove Studio's "Open connection" */
  readonly url: string;
  /** Forwards one MQTT message of the fleet's topics (others are ignored). */
  forward(topic: string, payload: Uint8Array): void;
  close(): Promise<void>;
}

const SCHEMAS = { status: 'fleetmind.v1.AgentStatus', world: 'fleetmind.v1.WorldStepRecord' } as const;

export async function startFoxgloveBridge(host: string, port: number): Promise<FoxgloveBridge> {
  const server = new foxglove.FoxgloveServer({ name: 'fleetmind' });
  const schema = Buffer.from(protoDescriptorSet()).toString('base64');
  /** Foxglove topic → channel id: a channel per agent's status, one per fleet's world */
  const channels = new Map<string, number>();
  const channelFor = (topic: string, kind: keyof typeof SCHEMAS): number => {
    let id = channels.get(topic);
    if (id === undefined) {
      id = server.addChannel({ topic, encoding: 'protobuf', schemaName: SCHEMAS[kind], schema, schemaEncoding: 'protobuf' });
      channels.set(topic, id);
    }
    return id;
  };
  const http: Server = createServer((_req, res) => res.writeHead(426, { 'content-type': 'text/plain' }).end('a Foxglove WebSocket endpoint: connect with Foxglove Studio\n'));
  const sockets = new Set<Socket>();
  http.on('connection', (socket) => { sockets.add(socket); socket.on('close', () => sockets.delete(socket)); });
  const wss = new WebSocketServer({ server: http, handleProtocols: (protocols) => server.handleProtocols(protocols) });
  wss.on('connection', (connection, request) => server.handleConnection(connection, `${request.socket.remoteAddress}:${request.socket.remotePort}`));
  server.on('error', () => {}); // a client's bad request is the client's problem, not the bridge's
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, host, () => resolve());
  });
  const bound = (http.address() as AddressInfo).port;
  return {
    url: `ws://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    forward(topic, payload) {
      const t = parseTopic(topic);
      if (!t) return;
      const now = BigInt(Date.now()) * 1_000_000n;
      if (t.kind === 'agent' && t.channel === 'status') server.sendMessage(channelFor(`/fleetmind/${t.fleet}/${t.agent}/status`, 'status'), now, payload);
      else if (t.kind === 'fleet' && t.channel === 'world') server.sendMessage(channelFor(`/fleetmind/${t.fleet}/world`, 'world'), now, payload);
    },
    async close() {
      for (const client of wss.clients) client.terminate();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
