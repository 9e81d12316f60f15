import t from 'tap';
import { startBroker } from '@fleetmind/broker';
import { connect, FLEET_USERS, makeUsers, PASSWORD, refusalCount } from '../helpers/mqtt.js';
import { until } from '../helpers/waiting.js';

t.test('wrong passwords, unknown users, spoofed client ids and anonymous clients are refused; connected clients are unharmed', async (t) => {
  const users = await makeUsers(FLEET_USERS);
  const refusals: string[] = [];
  const broker = await startBroker({ port: 0, users: users.file, onRefusal: (e) => refusals.push(e.reason) });
  t.teardown(async () => { await broker.close(); users.cleanup(); });

  const a2 = await connect(broker.url, { clientId: 'a2', username: 'a2', password: PASSWORD });
  const heard: string[] = [];
  await a2.subscribeAsync('fm/f1/a/+/msg');
  a2.on('message', (_t, p) => heard.push(p.toString()));
  t.teardown(() => a2.end(true));

  const attempts = [
    { clientId: 'a1', username: 'a1', password: 'wrong-password', code: 4, reason: 'bad_password' },
    { clientId: 'ghost', username: 'ghost', password: PASSWORD, code: 4, reason: 'unknown_user' },
    { clientId: 'a2', username: 'a1', password: PASSWORD, code: 2, reason: 'client_id_mismatch' },
    { clientId: 'a1x', username: 'a1', password: PASSWORD, code: 2, reason: 'client_id_mismatch' },
    { clientId: 'anon' , code: 5, reason: 'anonymous_denied' },
  ];
  for (const a of attempts) {
    const { code, reason, ...opts } = a;
    await t.rejects(connect(broker.url, opts), { code }, `${reason} → CONNACK ${code}`);
    t.equal(await refusalCount(broker.metrics, reason), attempts.filter((x) => x.reason === reason && attempts.indexOf(x) <= attempts.indexOf(a)).length);
  }
  t.same(refusals, attempts.map((a) => a.reason), 'every refusal reported to the hook');

  // the legitimate a1, with a suffixed client id, still gets in and a2 still hears it
  const a1 = await connect(broker.url, { clientId: 'a1:second', username: 'a1', password: PASSWORD });
  t.teardown(() => a1.end(true));
  a1.publish('fm/f1/a/a1/msg', 'hello');
  await until(() => heard.length > 0, 'a2 hears a1');
  t.same(heard, ['hello']);
  t.ok(a2.connected);
});

t.test('with allowAnonymous, clients without credentials get in', async (t) => {
  const broker = await startBroker({ port: 0, allowAnonymous: true });
  t.teardown(() => broker.close());
  const c = await connect(broker.url);
  t.ok(c.connected);
  c.end(true);
});

t.test('a broker without users refuses to start unless anonymous access is asked for', async (t) => {
  await t.rejects(startBroker({ port: 0 }), { code: 'FM_ERR_BROKER', message: /anonymous access is off/ });
});

t.test('a taken port gives a clear error', async (t) => {
  const first = await startBroker({ port: 0, allowAnonymous: true });
  t.teardown(() => first.close());
  await t.rejects(startBroker({ port: first.port, allowAnonymous: true }), { message: new RegExp(`port ${first.port} on 127.0.0.1 is already in use`) });
});

t.test('$SYS statistics are published for operators', async (t) => {
  const broker = await startBroker({ port: 0, allowAnonymous: true, sysIntervalMs: 100 });
  t.teardown(() => broker.close());
  const c = await connect(broker.url, { clientId: 'ops' });
  const stats = new Map<string, string>();
  c.on('message', (topic, p) => stats.set(topic.split('/').slice(2).join('/'), p.toString()));
  await c.subscribeAsync('$SYS/#');
  c.publish('fm/f1/a/x/msg', 'one');
  await until(() => stats.get('messages/received') === '1' && stats.has('refusals') && stats.has('bytes/sent'), 'the $SYS statistics count the message');
  t.equal(stats.get('clients/connected'), '1');
  t.equal(stats.get('messages/received'), '1');
  t.ok(stats.has('refusals') && stats.has('bytes/sent'));
  c.end(true);
});
