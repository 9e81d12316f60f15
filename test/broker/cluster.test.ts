import t from 'tap';
import { randomBytes } from 'node:crypto';
import { startBroker, type Principal } from '@fleetmind/broker';
import { connect, makeUsers, PASSWORD, refusalCount, sleep } from '../helpers/mqtt.js';
import { serviceAvailable } from '../helpers/services.js';
import { until } from '../helpers/waiting.js';

t.test('two brokers sharing Redis deliver across brokers, share retained messages, and both enforce auth and ACLs', async (t) => {
  if (!(await serviceAvailable(t, 'Redis', 6379))) return;
  const fleet = `c${randomBytes(4).toString('hex')}`; // Redis outlives tests: keep runs apart
  const users = await makeUsers([
    { username: 'a1', role: 'agent', fleet, agent: 'a1' },
    { username: 'a2', role: 'agent', fleet, agent: 'a2' },
    { username: 'w1', role: 'world', fleet },
    { username: 'x1', role: 'agent', fleet: `${fleet}x`, agent: 'x1' },
  ] satisfies Principal[]);
  const a = await startBroker({ port: 0, users: users.file, redis: 'redis://127.0.0.1:6379' });
  const b = await startBroker({ port: 0, users: users.file, redis: 'redis://127.0.0.1:6379' });
  t.teardown(async () => { await a.close(); await b.close(); users.cleanup(); });

  const onB = await connect(b.url, { clientId: 'a2', username: 'a2', password: PASSWORD });
  const heard: string[] = [];
  await onB.subscribeAsync(`fm/${fleet}/a/+/msg`);
  onB.on('message', (topic, p) => { if (topic.endsWith('/msg')) heard.push(`${topic} ${p}`); });
  // the subscription has reached Redis once a probe subscribed after it crosses from A to B
  const probed = new Promise<void>((resolve) => onB.on('message', (topic) => { if (topic.endsWith('/hb')) resolve(); }));
  await onB.subscribeAsync(`fm/${fleet}/a/a1/hb`);
  const onA = await connect(a.url, { clientId: 'a1', username: 'a1', password: PASSWORD });
  const probing = setInterval(() => onA.publish(`fm/${fleet}/a/a1/hb`, 'probe'), 20);
  await probed;
  clearInterval(probing);
  onA.publish(`fm/${fleet}/a/a1/msg`, 'from broker A');
  await until(() => heard.length > 0, 'B hears A');
  t.same(heard, [`fm/${fleet}/a/a1/msg from broker A`], 'an agent on B hears an agent on A');

  // retained state lives in Redis: the world sets it on A, a late subscriber on B gets it
  const world = await connect(a.url, { clientId: 'w1', username: 'w1', password: PASSWORD });
  await world.publishAsync(`fm/${fleet}/ctl`, 'mode=eval', { retain: true, qos: 1 });
  const late = await connect(b.url, { clientId: 'a2:late', username: 'a2', password: PASSWORD });
  const retained = new Promise<string>((resolve) => late.on('message', (_topic, p) => resolve(p.toString())));
  await late.subscribeAsync(`fm/${fleet}/ctl`);
  t.equal(await Promise.race([retained, sleep(2000).then(() => 'nothing')]), 'mode=eval');
  await world.publishAsync(`fm/${fleet}/ctl`, '', { retain: true, qos: 1 }); // clear it

  // auth and ACLs on both brokers
  for (const broker of [a, b]) {
    await t.rejects(connect(broker.url, { clientId: 'a1:bad', username: 'a1', password: 'wrong-password' }), { code: 4 });
    const spoof = await connect(broker.url, { clientId: 'a1:spoof', username: 'a1', password: PASSWORD });
    spoof.publish(`fm/${fleet}/a/a2/msg`, 'pretending to be a2');
    const outsider = await connect(broker.url, { clientId: 'x1', username: 'x1', password: PASSWORD });
    const granted = await outsider.subscribeAsync(`fm/${fleet}/#`).then((g) => g[0].qos, () => 128);
    t.equal(granted, 128, 'another fleet cannot listen in');
    await until(async () => (await refusalCount(broker.metrics, 'publish_denied')) >= 1, 'the spoofed publish is refused');
    t.equal(await refusalCount(broker.metrics, 'publish_denied'), 1);
    t.equal(await refusalCount(broker.metrics, 'subscribe_denied'), 1);
    t.equal(await refusalCount(broker.metrics, 'bad_password'), 1);
    spoof.end(true);
    outsider.end(true);
  }
  t.notOk(heard.some((h) => h.includes('pretending')), 'spoofed messages never arrive');
  [onA, onB, world, late].forEach((c) => c.end(true));
});

t.test('a broker with an unreachable Redis fails to start with a clear message', async (t) => {
  await t.rejects(startBroker({ port: 0, allowAnonymous: true, redis: 'redis://127.0.0.1:1' }), { code: 'FM_ERR_BROKER', message: /cannot reach Redis at 127\.0\.0\.1:1/ });
  await t.rejects(startBroker({ port: 0, allowAnonymous: true, redis: 'http://x' }), { message: /must start with redis:\/\// });
});
