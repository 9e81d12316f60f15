// The three adapters pass the one adapter contract (test/contracts/adapter.ts).

import t from 'tap';
import { PassThrough } from 'node:stream';
import { createInterface } from 'node:readline';
import { startBroker } from '@fleetmind/broker';
import { InProcessAdapter, MqttAdapter, mqttTransport, StdioAdapter, type ActionOut, type AdapterLink } from '@fleetmind/runtime';
import { agentTopic, decodeAction, encodeObservation } from '@fleetmind/wire';
import { adapterContract, type AdapterHarness } from '../contracts/adapter.js';
import { connect } from '../helpers/mqtt.js';

/** resolvers waiting for the next action, fed by whatever carries actions to the robot */
function actionQueue() {
  const waiting: ((a: ActionOut) => void)[] = [];
  return { push: (a: ActionOut) => waiting.shift()?.(a), next: () => new Promise<ActionOut>((resolve) => waiting.push(resolve)) };
}

t.test('InProcessAdapter', async (t) => adapterContract(t, 'InProcessAdapter', async () => {
  const actions = actionQueue();
  const adapter = new InProcessAdapter(actions.push);
  return {
    adapter, link: null, sendGarbage: null,
    send: (o) => adapter.observe(o),
    nextAction: actions.next,
    settle: async () => {},
    close: () => adapter.close(),
  } satisfies AdapterHarness;
}));

t.test('StdioAdapter', async (t) => adapterContract(t, 'StdioAdapter', async () => {
  const input = new PassThrough();
  const output = new PassThrough();
  const actions = actionQueue();
  // a line carries "vector" only for a continuous action
  createInterface({ input: output }).on('line', (line) => {
    const a = JSON.parse(line);
    actions.push({ ...a, vector: a.vector ? Float32Array.from(a.vector) : null } as ActionOut);
  });
  const adapter = new StdioAdapter(input, output);
  return {
    adapter, link: null,
    send: (o) => { input.write(`${JSON.stringify({ tick: o.tick, obs: [...o.values] })}\n`); },
    sendGarbage: () => { input.write('{"tick": "soon"}\n'); },
    nextAction: actions.next,
    // readline hands over lines on the next turns of the event loop
    settle: () => new Promise((resolve) => setImmediate(() => setImmediate(resolve))),
    close: async () => { await adapter.close(); input.end(); },
  } satisfies AdapterHarness;
}));

t.test('MqttAdapter (over the fleetmind broker on loopback)', async (t) => {
  const broker = await startBroker({ port: 0, allowAnonymous: true });
  t.teardown(() => broker.close());
  await adapterContract(t, 'MqttAdapter', async () => {
    // the agent's side: a real transport, as the agent would hand its adapter
    const handlers = new Map<string, (payload: Uint8Array) => void>();
    const transport = mqttTransport({
      url: broker.url, clientId: `agent-${Math.random().toString(36).slice(2)}`, will: { topic: 'fm/f1/a/a1/hb', payload: Uint8Array.of(0) },
      reconnectBaseMs: 20, reconnectMaxMs: 100, keepaliveS: 10,
    }, { onMessage: (topic, payload) => handlers.get(topic)?.(payload), onConnect: () => {}, onDisconnect: () => {} });
    await transport.start();
    const link: AdapterLink = {
      subscribe: (topic, handler) => { handlers.set(topic, handler); transport.subscribe([topic]); },
      publish: (topic, payload) => transport.publishNow(topic, payload),
    };
    // the robot's side: its own MQTT client
    const robot = await connect(broker.url, { clientId: `robot-${Math.random().toString(36).slice(2)}` });
    const actions = actionQueue();
    await robot.subscribeAsync(agentTopic('f1', 'a1', 'act'));
    robot.on('message', (topic, payload) => { if (topic.endsWith('/act')) actions.push(decodeAction(payload)); });
    // a marker on a fresh topic the agent's side subscribes to now: once one comes back, the
    // subscriptions made before it (the adapter's) are in place and what was sent before it routed
    let markers = 0;
    const ready = () => new Promise<void>((resolve) => {
      const topic = `fm/f1/a/a1/settle-${markers++}`;
      const timer = setInterval(() => robot.publish(topic, 'x'), 10);
      link.subscribe(topic, () => { clearInterval(timer); resolve(); });
    });
    const obsTopic = agentTopic('f1', 'a1', 'obs');
    return {
      adapter: new MqttAdapter(), link,
      send: async (o) => { await ready(); await robot.publishAsync(obsTopic, Buffer.from(encodeObservation({ tick: o.tick, values: o.values, sentUs: 0 }))); },
      sendGarbage: async () => { await ready(); await robot.publishAsync(obsTopic, Buffer.from([0xff, 0xff, 0xff])); },
      nextAction: actions.next,
      settle: ready,
      close: async () => { robot.end(true); await transport.close(); },
    } satisfies AdapterHarness;
  });
});
