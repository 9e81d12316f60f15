import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startBroker } from '@fleetmind/broker';
import { connect, FLEET_USERS, makeUsers, PASSWORD } from '../helpers/mqtt.js';
import { FIXTURES } from '../helpers/paths.js';
import { until } from '../helpers/waiting.js';

const tlsDir = join(FIXTURES, 'tls');

t.test('TLS and WebSocket clients connect, authenticate and talk to TCP clients', async (t) => {
  const users = await makeUsers(FLEET_USERS);
  const broker = await startBroker({
    port: 0, users: users.file, wsPort: 0,
    tls: { cert: readFileSync(join(tlsDir, 'server.crt')), key: readFileSync(join(tlsDir, 'server.key')), port: 0 },
  });
  t.teardown(async () => { await broker.close(); users.cleanup(); });
  t.match(broker.tlsUrl, /^mqtts:\/\/127\.0\.0\.1:\d+$/);
  t.match(broker.wsUrl, /^ws:\/\/127\.0\.0\.1:\d+$/);

  const tcp = await connect(broker.url, { clientId: 'a2', username: 'a2', password: PASSWORD });
  const heard: string[] = [];
  await tcp.subscribeAsync('fm/f1/a/+/msg');
  tcp.on('message', (topic, p) => heard.push(`${topic} ${p}`));

  const tls = await connect(broker.tlsUrl!, { clientId: 'a1', username: 'a1', password: PASSWORD, ca: readFileSync(join(tlsDir, 'ca.crt')) });
  tls.publish('fm/f1/a/a1/msg', 'over tls');
  const ws = await connect(broker.wsUrl!, { clientId: 'root:ws', username: 'root', password: PASSWORD });
  ws.publish('fm/f1/a/zz/msg', 'over websocket');
  await until(() => heard.length >= 2, 'both messages arrive');
  t.same(heard.sort(), ['fm/f1/a/a1/msg over tls', 'fm/f1/a/zz/msg over websocket']);

  await t.rejects(connect(broker.tlsUrl!, { clientId: 'a1:x', username: 'a1', password: PASSWORD, ca: readFileSync(join(tlsDir, 'server.crt')) }),
    'a client that does not trust the certificate is refused by TLS');
  await t.rejects(connect(broker.wsUrl!, { clientId: 'a1:y', username: 'a1', password: 'wrong' }), { code: 4 }, 'auth holds over WebSocket');
  [tcp, tls, ws].forEach((c) => c.end(true));
});
