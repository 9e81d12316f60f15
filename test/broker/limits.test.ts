import t from 'tap';
import { connect as tcpConnect, type Socket } from 'node:net';
import { ConnectionRateLimiter, PacketSizeGuard, startBroker } from '@fleetmind/broker';
import { connect, refusalCount, sleep } from '../helpers/mqtt.js';
import { until } from '../helpers/waiting.js';

t.test('the packet-size guard follows fixed headers across chunk boundaries', (t) => {
  const guard = new PacketSizeGuard(200);
  // PINGREQ (2 bytes), then a PUBLISH with remaining length 150 split over three chunks
  t.equal(guard.feed(Buffer.from([0xc0, 0x00, 0x30])), -1);
  t.equal(guard.feed(Buffer.from([150 & 0x7f | 0x80, 1])), -1, '150 = 0x96 → [0x96, 0x01]');
  t.equal(guard.feed(Buffer.alloc(150)), -1);
  // a PUBLISH declaring 300 bytes is reported before its body arrives
  t.equal(guard.feed(Buffer.from([0x30, 300 & 0x7f | 0x80, 300 >> 7])), 303);
  t.equal(new PacketSizeGuard(10).feed(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01])), Infinity, 'a 5-byte length is malformed');
  t.end();
});

t.test('an oversized packet closes only its sender, and is counted', async (t) => {
  const broker = await startBroker({ port: 0, allowAnonymous: true, maxPacketSize: 1024 });
  t.teardown(() => broker.close());
  const listener = await connect(broker.url, { clientId: 'listener' });
  const got: number[] = [];
  await listener.subscribeAsync('fm/f1/#');
  listener.on('message', (_t, p) => got.push(p.length));
  const big = await connect(broker.url, { clientId: 'big' });
  const closed = new Promise<void>((resolve) => big.once('close', () => resolve()));
  big.publish('fm/f1/a/x/msg', Buffer.alloc(2000));
  await closed;
  const small = await connect(broker.url, { clientId: 'small' });
  small.publish('fm/f1/a/y/msg', Buffer.alloc(500));
  // the big one was refused before this was sent: had it passed, it would have arrived first
  await until(() => got.length > 0, 'the small message arrives');
  t.same(got, [500], 'only the small message is delivered');
  t.ok(listener.connected, 'other clients unharmed');
  t.equal(await refusalCount(broker.metrics, 'packet_too_large'), 1);
  [listener, big, small].forEach((c) => c.end(true));
});

t.test('too-deep topics are refused for publish and subscribe', async (t) => {
  const broker = await startBroker({ port: 0, allowAnonymous: true, maxTopicLevels: 8 });
  t.teardown(() => broker.close());
  const c = await connect(broker.url, { clientId: 'deep' });
  const deep = Array.from({ length: 12 }, (_, i) => `l${i}`).join('/');
  const granted = await c.subscribeAsync(deep).then((g) => g[0].qos, () => 128);
  t.equal(granted, 128);
  t.ok(c.connected);
  const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
  c.publish(deep, 'x');
  await closed;
  t.equal(await refusalCount(broker.metrics, 'topic_too_deep'), 2);
});

t.test('the connection rate: a burst per address, then tokens back at the steady rate (clock given)', (t) => {
  const limiter = new ConnectionRateLimiter(5, 10);
  const allowed = (at: number, times: number) => Array.from({ length: times }, () => limiter.allow('10.0.0.1', at)).filter(Boolean).length;
  t.equal(allowed(0, 15), 10, 'the burst of 10, then refused');
  t.equal(allowed(199, 1), 0, 'not one token back before 200 ms (5/s)');
  t.equal(allowed(200, 2), 1, 'one back at 200 ms');
  t.equal(allowed(1200, 10), 5, 'five more over the next second');
  t.equal(allowed(60_000, 20), 10, 'never more than the burst, however long it waited');
  t.equal(limiter.allow('10.0.0.2', 60_000), true, 'each address has its own bucket');
  t.end();
});

t.test('a connection flood from one address is cut off by the rate limit; connected clients keep working', async (t) => {
  // one token back every 20 s: however slowly a loaded machine runs the flood, none comes back during it
  const broker = await startBroker({ port: 0, allowAnonymous: true, connectionsPerSecond: 0.05, connectionBurst: 10 });
  t.teardown(() => broker.close());
  const steady = await connect(broker.url, { clientId: 'steady' }); // uses 1 token
  const got: string[] = [];
  await steady.subscribeAsync('fm/f1/#');
  steady.on('message', (_t, p) => got.push(p.toString()));
  const sockets: Socket[] = [];
  t.teardown(() => sockets.forEach((s) => s.destroy()));
  // each raw client sends CONNECT: a CONNACK means it was let in, a closed socket that it was cut
  const results = await Promise.all(Array.from({ length: 40 }, (_, k) => new Promise<'open' | 'cut'>((resolve) => {
    const s = tcpConnect(broker.port, '127.0.0.1');
    sockets.push(s);
    let settled = false;
    const done = (r: 'open' | 'cut') => { if (!settled) { settled = true; resolve(r); } };
    const id = Buffer.from(`flood${k}`);
    s.on('connect', () => s.write(Buffer.concat([Buffer.from([0x10, 12 + id.length, 0, 4]), Buffer.from('MQTT'), Buffer.from([4, 2, 0, 60, 0, id.length]), id])));
    s.on('data', (d) => { if (d[0] === 0x20) done('open'); });
    s.on('close', () => done('cut'));
    s.on('error', () => done('cut'));
  })));
  const open = results.filter((r) => r === 'open').length;
  t.equal(open, 9, 'the rest of the burst is let in: 10 less the steady client\'s token');
  t.equal(await refusalCount(broker.metrics, 'connection_rate'), 40 - open);
  steady.publish('fm/f1/a/s/msg', 'still here');
  await until(() => got.length > 0, 'the steady client is heard');
  t.same(got, ['still here']);
  steady.end(true);
});

t.test('clients beyond maxClients are refused', async (t) => {
  const broker = await startBroker({ port: 0, allowAnonymous: true, maxClients: 2 });
  t.teardown(() => broker.close());
  const a = await connect(broker.url, { clientId: 'c1' });
  const b = await connect(broker.url, { clientId: 'c2' });
  await t.rejects(connect(broker.url, { clientId: 'c3', connectTimeout: 1000 }));
  t.equal(await refusalCount(broker.metrics, 'too_many_clients'), 1);
  t.ok(a.connected && b.connected);
  a.end(true);
  b.end(true);
});

t.test('a frozen subscriber is dropped after drainTimeout and the fleet keeps flowing', async (t) => {
  const broker = await startBroker({ port: 0, allowAnonymous: true, drainTimeoutMs: 500, maxPacketSize: 256 * 1024 });
  t.teardown(() => broker.close());
  // a raw client that subscribes and then never reads its socket again
  // a paused socket never sees its own close, so watch the broker's side
  const frozenClosed = new Promise<number>((resolve) => broker.aedes.on('clientDisconnect', (c) => { if (c.id === 'frozen') resolve(Date.now()); }));
  const frozen = tcpConnect(broker.port, '127.0.0.1');
  t.teardown(() => frozen.destroy());
  frozen.on('error', () => {});
  const id = Buffer.from('frozen');
  frozen.write(Buffer.concat([Buffer.from([0x10, 12 + id.length, 0, 4]), Buffer.from('MQTT'), Buffer.from([4, 2, 0, 60, 0, id.length]), id]));
  const filter = Buffer.from('fm/f1/#');
  const subscribed = new Promise<void>((resolve) => broker.aedes.on('subscribe', (_subs, client) => { if (client?.id === 'frozen') resolve(); }));
  frozen.write(Buffer.concat([Buffer.from([0x82, 2 + 2 + filter.length + 1, 0, 1, 0, filter.length]), filter, Buffer.from([0])]));
  await subscribed;
  frozen.pause();

  const healthy = await connect(broker.url, { clientId: 'healthy' });
  let received = 0;
  await healthy.subscribeAsync('fm/f1/#');
  healthy.on('message', () => received++);
  const publisher = await connect(broker.url, { clientId: 'pub' });
  const payload = Buffer.alloc(200 * 1024);
  const started = Date.now();
  let sent = 0;
  let dropped = false;
  void frozenClosed.then(() => { dropped = true; });
  while (Date.now() - started < 4000 && !dropped) {
    publisher.publish('fm/f1/a/p/msg', payload);
    sent++;
    await sleep(5); // pacing: a steady stream, not a burst the publisher itself would buffer
  }
  const closedAt = await Promise.race([frozenClosed, sleep(2000).then(() => -1)]);
  t.ok(closedAt > 0 && closedAt - started < 4000, `the frozen client was disconnected within seconds (${closedAt - started} ms)`);
  const errors = (await broker.metrics.drops.get()).values[0].value;
  t.equal(errors, 1, 'counted once');
  await until(() => received >= sent * 0.9, `the healthy subscriber receives 90 % of ${sent}`);
  t.ok(received >= sent * 0.9, `the healthy subscriber kept receiving (${received}/${sent})`);
  healthy.end(true);
  publisher.end(true);
});
