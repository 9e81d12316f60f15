import t from 'tap';
import { mqttTransport } from '@fleetmind/runtime';
import { faultInjectingTransport } from '@fleetmind/sim-harness/fleet';
import { transportContract } from '../contracts/transport.js';

t.test('MqttTransport', async (t) => transportContract(t, 'MqttTransport', mqttTransport));
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
