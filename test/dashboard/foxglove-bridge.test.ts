// The Foxglove bridge, met by Foxglove's own client library over a real WebSocket: it advertises
// a channel per agent's status with fleetmind.proto as its protobuf schema, and what it sends
// decodes with that schema alone to what the agent published; unreadable statuses are not passed on.

import t from 'tap';
import WebSocket from 'ws';
import mqtt from 'mqtt';
import protobuf from 'protobufjs';
import descriptor from 'protobufjs/ext/descriptor/index.js';
import foxglove, { type Channel, type MessageData } from '@foxglove/ws-protocol';
import { startBroker } from '@fleetmind/broker';
import { defaultDashboardOptions, startDashboard } from '@fleetmind/dashboard';
import { encodeAgentStatus } from '@fleetmind/wire';

t.test('Foxglove sees an agent\'s status live, decoded with the schema it was given', async (t) => {
  const broker = await startBroker({ port: 0, allowAnonymous: true });
  t.teardown(() => broker.close());
  const dashboard = await startDashboard({ ...defaultDashboardOptions, broker: broker.url, fleet: 'fox', port: 0, foxglovePort: 0 });
  t.teardown(() => dashboard.close());
  t.match(dashboard.foxgloveUrl, /^ws:\/\/127\.0\.0\.1:\d+$/);

  const robot = await mqtt.connectAsync(broker.url);
  t.teardown(() => robot.endAsync(true));
  const status = {
    agent: 'agent_4', bundle: 'spread-commnet', bundleVersion: '1.0.0', role: 'agent', tick: 77, tiers: { full: 70, partial: 5, none: 2, safe: 0 },
    deadlineMisses: 3, messagesSent: 154, messagesReceived: 300, messagesDropped: 1, tickP50Ms: 2.5, tickP99Ms: 9.75, inferenceP50Ms: 0.02,
    heard: ['agent_1', 'agent_2'], livePeers: 2, sentUs: 1_800_000_000_000_000,
  };
  const { FoxgloveClient } = foxglove;
  const client = new FoxgloveClient({ ws: new WebSocket(dashboard.foxgloveUrl!, [FoxgloveClient.SUPPORTED_SUBPROTOCOL]) as unknown as ConstructorParameters<typeof FoxgloveClient>[0]['ws'] });
  t.teardown(() => client.close());
  const channel = await new Promise<Channel>((resolve) => {
    client.on('advertise', (channels) => { const c = channels.find((x) => x.topic === '/fleetmind/fox/agent_4/status'); if (c) resolve(c); });
    // the channel is advertised when the first status arrives; until then, publish
    const timer = setInterval(() => robot.publish('fm/fox/a/agent_4/status', Buffer.from(encodeAgentStatus(status))), 50);
    client.on('advertise', () => clearInterval(timer));
  });
  t.equal(channel.encoding, 'protobuf');
  t.equal(channel.schemaName, 'fleetmind.v1.AgentStatus');

  const root = (protobuf.Root as unknown as { fromDescriptor(d: unknown): protobuf.Root }).fromDescriptor(descriptor.FileDescriptorSet.decode(Buffer.from(channel.schema, 'base64')));
  const type = root.lookupType(channel.schemaName);
  const decode = (message: MessageData) => type.toObject(type.decode(new Uint8Array(message.data.buffer, message.data.byteOffset, message.data.byteLength)), { longs: Number }) as Record<string, unknown>;
  // every message Foxglove gets decodes with the schema alone; a tick-77 status published before
  // the subscription may still be on its way, so the test waits for the first tick 78
  const seen: Record<string, unknown>[] = [];
  const received = new Promise<Record<string, unknown>>((resolve) => client.on('message', (m) => {
    let d: Record<string, unknown>;
    try { d = decode(m); } catch (err) { d = { undecodable: (err as Error).message }; }
    seen.push(d);
    if (d.tick === 78) resolve(d);
  }));
  client.subscribe(channel.id);
  // a garbage status is refused by the dashboard, not passed on; the good one after it arrives
  const publishUntilReceived = setInterval(() => {
    robot.publish('fm/fox/a/agent_4/status', Buffer.from([0xff, 0xff, 0xff]));
    robot.publish('fm/fox/a/agent_4/status', Buffer.from(encodeAgentStatus({ ...status, tick: 78 })));
  }, 50);
  const decoded = await received;
  clearInterval(publishUntilReceived);

  t.match(decoded, { agent: 'agent_4', bundle_version: '1.0.0', tick: 78, ticks_partial: 5, heard: ['agent_1', 'agent_2'], tick_p99_ms: 9.75 });
  t.ok(seen.every((d) => d.agent === 'agent_4' && (d.tick === 77 || d.tick === 78)), `every message was a status the robot sent (ticks ${seen.map((d) => d.tick).join(', ')})`);
  t.ok((dashboard.view.snapshot().refused.malformed ?? 0) >= 1, 'the garbage was counted, not forwarded');
});
