import t from 'tap';
import { mqttTransport, sharedConnections, topicMatches, type TransportEvents } from '@fleetmind/runtime';
import { faultInjectingTransport } from '@fleetmind/sim-harness/fleet';
import { transportContract } from '../contracts/transport.js';

t.test('MqttTransport', async (t) => transportContract(t, 'MqttTransport', mqttTransport));
t.test('shared connection', async (t) => {
  const shared = sharedConnections('contract');
  t.teardown(() => shared.close());
  transportContract(t, 'shared connection', shared.transport);
});
t.test('fault-injecting transport (filters passing everything)', async (t) => transportContract(t, 'fault-injecting transport', faultInjectingTransport(mqttTransport, {
  up: (packet, send) => send(packet),
  down: (packet, send) => send(packet),
})));

t.test('the fault-injecting transport applies its filters to what it publishes and receives', async (t) => {
  const { startBroker } = await import('@fleetmind/broker');
  const broker = await startBroker({ port: 0, allowAnonymous: true });
  t.teardown(() => broker.close());
  const got: number[] = [];
  let upSeen = 0;
  let probeSeen: () => void = () => {};
  const probed = new Promise<void>((resolve) => { probeSeen = resolve; });
  const make = (filters: Parameters<typeof faultInjectingTransport>[1], onMessage: (p: Uint8Array) => void, id: string) => faultInjectingTransport(mqttTransport, filters)({
    url: broker.url, clientId: id, will: { topic: `fm/f1/a/${id}/hb`, payload: Uint8Array.of(0) }, reconnectBaseMs: 20, reconnectMaxMs: 100, keepaliveS: 10,
  }, { onMessage: (topic, payload) => (topic.endsWith('/hb') ? probeSeen() : onMessage(payload)), onConnect: () => {}, onDisconnect: () => {} });
  let done: () => void = () => {};
  const all = new Promise<void>((resolve) => { done = resolve; });
  // sender: odd payloads are dropped on the way up; receiver: every payload arrives twice (duplicated on the way down)
  const sender = make({ up: (p, send) => { if (p.topic.endsWith('/hb')) return send(p); upSeen++; if ((p.payload as Buffer)[0] % 2 === 0) send(p); } }, () => {}, 's');
  const receiver = make({ down: (p, send) => { send(p); send(p); } }, (p) => { got.push(p[0]); if (p[0] === 8 && got.filter((x) => x === 8).length === 2) done(); }, 'r');
  t.teardown(async () => { await sender.close(); await receiver.close(); });
  await sender.start();
  await receiver.start();
  receiver.subscribe(['fm/f1/a/s/msg', 'fm/f1/a/s/hb']);
  // the subscriptions are active once a heartbeat published after them arrives
  const probing = setInterval(() => sender.publishNow('fm/f1/a/s/hb', Uint8Array.of(0)), 10);
  await probed;
  clearInterval(probing);
  for (let k = 0; k <= 8; k++) t.equal(sender.publishNow('fm/f1/a/s/msg', Uint8Array.of(k)), true, `message ${k}: the link is up, so the agent is told it was sent`);
  await all;
  t.equal(upSeen, 9, 'every published message went through the up filter');
  t.same(got.filter((x, i) => got.indexOf(x) === i), [0, 2, 4, 6, 8], 'odd ones dropped on the way up');
  t.equal(got.length, 10, 'each delivered one duplicated on the way down');
});

t.test('agents alike share one connection: a message comes once to the process and goes to each agent that subscribed; other credentials get their own', async (t) => {
  const { startBroker } = await import('@fleetmind/broker');
  let forwarded = 0;
  const broker = await startBroker({ port: 0, allowAnonymous: true, onForward: (_client, topic) => { if (topic === 'fm/f1/a/x/msg') forwarded++; } });
  const shared = sharedConnections('test');
  t.teardown(async () => { await shared.close(); await broker.close(); });
  const inbox = new Map<string, string[]>();
  const events = (id: string): TransportEvents => ({ onMessage: (topic) => inbox.set(id, [...(inbox.get(id) ?? []), topic]), onConnect: () => {}, onDisconnect: () => {} });
  const make = (id: string, extra: { username?: string } = {}) => shared.transport({
    url: broker.url, clientId: id, will: { topic: `fm/f1/a/${id}/hb`, payload: Uint8Array.of(0) }, reconnectBaseMs: 20, reconnectMaxMs: 100, keepaliveS: 10, ...extra,
  }, events(id));
  const a = make('a');
  const b = make('b');
  const c = make('c');
  t.equal(shared.size, 1, 'three agents connecting alike: one connection');
  a.subscribe(['fm/f1/a/x/msg']);
  b.subscribe(['fm/f1/a/+/msg']);
  c.subscribe(['fm/f1/a/y/msg']);
  t.same(await Promise.all([a.start(), b.start(), c.start()]), [true, true, true], 'each start resolves once its subscriptions are confirmed');
  const other = make('d', { username: 'someone' });
  t.equal(shared.size, 2, 'another user: another connection');
  await other.close();
  t.equal(shared.size, 1, 'a connection goes with its last agent');
  t.equal(c.publishNow('fm/f1/a/x/msg', Uint8Array.of(1)), true);
  t.equal(c.publishNow('fm/f1/a/z/hb', Uint8Array.of(1)), true);
  t.equal(await c.publishConfirmed('fm/f1/a/y/msg', Uint8Array.of(2)), true, 'acknowledged: everything before it on the connection has reached the broker');
  // the broker's deliveries are in order on the one connection: once y's message is here, x's is too
  for (let k = 0; k < 100 && !(inbox.get('c') ?? []).length; k++) await new Promise((r) => setTimeout(r, 10));
  t.same(inbox.get('a'), ['fm/f1/a/x/msg'], 'a: its exact topic');
  t.same(inbox.get('b'), ['fm/f1/a/x/msg', 'fm/f1/a/y/msg'], 'b: whatever its wildcard matches');
  t.same(inbox.get('c'), ['fm/f1/a/y/msg'], 'c: its own topic, nothing else');
  t.equal(forwarded, 1, 'x\'s message went to the process once, for its two subscribers here');
  t.ok(topicMatches('fm/+/a/#', 'fm/f/a/x/msg') && topicMatches('#', 'a') && !topicMatches('fm/+/msg', 'fm/f/a/msg') && !topicMatches('fm/f', 'fm/f/a'), 'MQTT wildcard matching');
});
