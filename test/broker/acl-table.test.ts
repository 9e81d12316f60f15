// The whole who-may-do-what table, checked as a pure function and over a real broker.
import t from 'tap';
import type { MqttClient } from 'mqtt';
import { authorizePublishTopic, authorizeSubscribeFilter, startBroker, type Principal } from '@fleetmind/broker';
import { connect, FLEET_USERS, makeUsers, PASSWORD, refusalCount } from '../helpers/mqtt.js';
import { until } from '../helpers/waiting.js';

const user = (name: string) => FLEET_USERS.find((u) => u.username === name) as Principal;

const TOPICS = [
  'fm/f1/a/a1/msg', 'fm/f1/a/a1/hb', 'fm/f1/a/a1/act', 'fm/f1/a/a1/obs',
  'fm/f1/a/a2/msg', 'fm/f1/a/a2/obs', 'fm/f1/tick', 'fm/f1/ctl',
  'fm/f2/a/b1/msg', 'fm/f2/tick', 'elsewhere/topic', 'fm/f1/a/a1/msg/extra',
  // over-the-air rollouts: the plan and the chunks are an admin's; each agent reports its own
  'fm/f1/rollout', 'fm/f1/bundles/0000000000000000000000000000000000000000000000000000000000000000/0', 'fm/f1/a/a1/rollout', 'fm/f1/a/a2/rollout',
];
// which users may publish to each topic, in TOPICS order
const MAY_PUBLISH: Record<string, string[]> = {
  // h1 hosts many agents of f1: what an agent publishes, for any of them
  'fm/f1/a/a1/msg': ['a1', 'h1', 'root'], 'fm/f1/a/a1/hb': ['a1', 'h1', 'root'], 'fm/f1/a/a1/act': ['a1', 'h1', 'root'],
  'fm/f1/a/a1/obs': ['w1', 'root'], 'fm/f1/a/a2/msg': ['a2', 'h1', 'root'], 'fm/f1/a/a2/obs': ['w1', 'root'],
  'fm/f1/tick': ['w1', 'root'], 'fm/f1/ctl': ['w1', 'root'], 'fm/f2/a/b1/msg': ['b1', 'root'],
  'fm/f2/tick': ['root'], 'elsewhere/topic': ['root'], 'fm/f1/a/a1/msg/extra': ['root'],
  'fm/f1/rollout': ['root'], 'fm/f1/bundles/0000000000000000000000000000000000000000000000000000000000000000/0': ['root'], 'fm/f1/a/a1/rollout': ['a1', 'h1', 'root'], 'fm/f1/a/a2/rollout': ['a2', 'h1', 'root'],
};
const FILTERS = ['fm/f1/#', 'fm/f1/a/+/msg', 'fm/f1/a/a1/obs', 'fm/f2/#', 'fm/+/a/+/msg', '#', 'fm/#', 'elsewhere/#'];
const MAY_SUBSCRIBE: Record<string, string[]> = {
  'fm/f1/#': ['a1', 'a2', 'w1', 'h1', 'root'], 'fm/f1/a/+/msg': ['a1', 'a2', 'w1', 'h1', 'root'], 'fm/f1/a/a1/obs': ['a1', 'a2', 'w1', 'h1', 'root'],
  'fm/f2/#': ['b1', 'root'], 'fm/+/a/+/msg': ['root'], '#': ['root'], 'fm/#': ['root'], 'elsewhere/#': ['root'],
};

t.test('the publish and subscribe rules, as pure functions, for every user and topic', (t) => {
  for (const u of FLEET_USERS) {
    for (const topic of TOPICS) {
      t.equal(authorizePublishTopic(u, topic).allowed, MAY_PUBLISH[topic].includes(u.username), `${u.username} publish ${topic}`);
    }
    for (const filter of FILTERS) {
      t.equal(authorizeSubscribeFilter(u, filter).allowed, MAY_SUBSCRIBE[filter].includes(u.username), `${u.username} subscribe ${filter}`);
    }
  }
  t.end();
});

t.test('a real broker enforces the same table: refused publishes never arrive, refused subscriptions get a failure SUBACK', async (t) => {
  const users = await makeUsers(FLEET_USERS);
  const broker = await startBroker({ port: 0, users: users.file });
  t.teardown(async () => { await broker.close(); users.cleanup(); });
  const clients: MqttClient[] = [];
  t.teardown(() => clients.forEach((c) => c.end(true)));
  const observer = await connect(broker.url, { clientId: 'root:observer', username: 'root', password: PASSWORD });
  clients.push(observer);
  await observer.subscribeAsync('#');
  const received = new Set<string>();
  observer.on('message', (_topic, payload) => received.add(payload.toString()));

  let denied = 0;
  // one connection at a time: each CONNECT costs the broker a scrypt check, and dozens at once on a
  // loaded 2-core CI host queued one past its client's 5 s connect timeout
  for (const u of FLEET_USERS) {
    for (const [k, topic] of TOPICS.entries()) {
      const c = await connect(broker.url, { clientId: `${u.username}:p${k}`, username: u.username, password: PASSWORD });
      clients.push(c);
      c.publish(topic, `${u.username} ${topic}`);
      if (!MAY_PUBLISH[topic].includes(u.username)) denied++;
    }
  }
  // every publish has been judged once the allowed ones have arrived and the refused ones are counted
  const allowed = FLEET_USERS.flatMap((u) => TOPICS.filter((topic) => MAY_PUBLISH[topic].includes(u.username))).length;
  await until(async () => received.size >= allowed && (await refusalCount(broker.metrics, 'publish_denied')) >= denied, 'every publish is delivered or refused');
  for (const u of FLEET_USERS) {
    for (const topic of TOPICS) {
      t.equal(received.has(`${u.username} ${topic}`), MAY_PUBLISH[topic].includes(u.username), `${u.username} → ${topic}`);
    }
  }
  t.equal(await refusalCount(broker.metrics, 'publish_denied'), denied, 'every refused publish counted');

  for (const u of FLEET_USERS) {
    const c = await connect(broker.url, { clientId: `${u.username}:s`, username: u.username, password: PASSWORD });
    clients.push(c);
    for (const filter of FILTERS) {
      const granted = await c.subscribeAsync(filter).then((g) => g[0].qos, () => 128);
      t.equal(granted !== 128, MAY_SUBSCRIBE[filter].includes(u.username), `${u.username} subscribe ${filter}`);
    }
    t.ok(c.connected, `${u.username} stays connected after refused subscriptions`);
  }
});
