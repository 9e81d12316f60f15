// The Transport contract (runtime/agent/transport.ts), one suite that every implementation runs
// against a real broker on a loopback port (MQTT.js's abstract_store tests, in spirit): the MQTT
// transport, and the simulator's fault-injecting one with its filters passing everything.

import type { Test } from 'tap';
import { startBroker, type FleetBroker } from '@fleetmind/broker';
import { type Transport, type TransportEvents, type TransportFactory, type TransportOptions } from '@fleetmind/runtime';
import { connect, makeUsers } from '../helpers/mqtt.js';

/** A transport under test, with its events turned into awaitable ones. */
interface Probe {
  transport: Transport;
  received: { topic: string; payload: Uint8Array }[];
  nextMessage(): Promise<{ topic: string; payload: Uint8Array }>;
  nextConnect(): Promise<void>;
  nextDisconnect(): Promise<string>;
}

function probe(factory: TransportFactory, options: Partial<TransportOptions> & { url: string }): Probe {
  const received: { topic: string; payload: Uint8Array }[] = [];
  const waiting: Record<'message' | 'connect' | 'disconnect', ((value: never) => void)[]> = { message: [], connect: [], disconnect: [] };
  const fire = (kind: keyof typeof waiting, value: unknown) => { for (const w of waiting[kind].splice(0)) w(value as never); };
  const events: TransportEvents = {
    onMessage: (topic, payload) => { received.push({ topic, payload }); fire('message', { topic, payload }); },
    onConnect: () => fire('connect', undefined),
    onDisconnect: (reason) => fire('disconnect', reason),
  };
  const transport = factory({
    clientId: `probe-${Math.random().toString(36).slice(2)}`,
    will: { topic: 'fm/f1/a/probe/hb', payload: Uint8Array.of(9, 9) },
    reconnectBaseMs: 20, reconnectMaxMs: 100, keepaliveS: 10,
    ...options,
  }, events);
  const next = <T>(kind: keyof typeof waiting) => new Promise<T>((resolve) => waiting[kind].push(resolve as never));
  return { transport, received, nextMessage: () => next('message'), nextConnect: () => next('connect'), nextDisconnect: () => next('disconnect') };
}

export function transportContract(t: Test, name: string, factory: TransportFactory): void {
  let broker: FleetBroker;
  t.beforeEach(async () => { broker = await startBroker({ port: 0, allowAnonymous: true }); });
  t.afterEach(async () => { await broker.close(); });

  t.test(`${name}: starts connected and delivers QoS 0 messages both ways`, async (t) => {
    const a = probe(factory, { url: broker.url });
    const b = probe(factory, { url: broker.url });
    t.teardown(async () => { await a.transport.close(); await b.transport.close(); });
    t.equal(await a.transport.start(), true, 'start() resolves true at the first connection');
    t.equal(await b.transport.start(), true);
    t.equal(a.transport.connected, true);
    b.transport.subscribe(['fm/f1/a/a1/msg']);
    // the subscription is in place once a message published after it arrives; publish until one does
    const arrived = b.nextMessage();
    const timer = setInterval(() => a.transport.publishNow('fm/f1/a/a1/msg', Uint8Array.of(1, 2, 3)), 10);
    const m = await arrived;
    clearInterval(timer);
    t.equal(m.topic, 'fm/f1/a/a1/msg');
    t.same([...m.payload], [1, 2, 3]);
    t.equal(await a.transport.publishConfirmed('fm/f1/a/a1/hb', Uint8Array.of(4)), true, 'QoS 1 is acknowledged');
  });

  t.test(`${name}: offline, publishNow sends nothing and says so; start() resolves false when the broker is unreachable`, async (t) => {
    const port = broker.port;
    await broker.close();
    const a = probe(factory, { url: `mqtt://127.0.0.1:${port}` });
    t.teardown(() => a.transport.close());
    t.equal(await a.transport.start(), false, 'unreachable: false, and it keeps retrying');
    t.equal(a.transport.connected, false);
    t.equal(a.transport.publishNow('fm/f1/a/a1/msg', Uint8Array.of(1)), false, 'nothing sent, nothing queued');
    t.equal(await a.transport.publishConfirmed('fm/f1/a/a1/hb', Uint8Array.of(1)), false);
    broker = await startBroker({ port, allowAnonymous: true });
    await a.nextConnect();
    t.equal(a.transport.connected, true, 'it reconnects by itself once the broker is there');
  });

  t.test(`${name}: subscriptions survive a broker restart; the reconnection is counted`, async (t) => {
    const a = probe(factory, { url: broker.url });
    const b = probe(factory, { url: broker.url });
    t.teardown(async () => { await a.transport.close(); await b.transport.close(); });
    await a.transport.start();
    await b.transport.start();
    b.transport.subscribe(['fm/f1/a/a2/msg']);
    const port = broker.port;
    const dropped = b.nextDisconnect();
    await broker.close();
    t.type(await dropped, 'string', 'the disconnection is reported');
    const back = Promise.all([a.nextConnect(), b.nextConnect()]);
    broker = await startBroker({ port, allowAnonymous: true });
    await back;
    t.equal(b.transport.reconnects, 1);
    const arrived = b.nextMessage();
    const timer = setInterval(() => a.transport.publishNow('fm/f1/a/a2/msg', Uint8Array.of(7)), 10);
    t.same([...(await arrived).payload], [7], 'the subscription was renewed');
    clearInterval(timer);
  });

  t.test(`${name}: destroy() leaves as a crash (the last will is published), close() does not`, async (t) => {
    const watcher = await connect(broker.url, { clientId: 'watcher' });
    t.teardown(() => watcher.end(true));
    await watcher.subscribeAsync('fm/f1/a/probe/hb');
    const wills: Buffer[] = [];
    watcher.on('message', (_topic, payload) => wills.push(payload));
    const clean = probe(factory, { url: broker.url });
    await clean.transport.start();
    await clean.transport.close();
    const crashed = probe(factory, { url: broker.url });
    await crashed.transport.start();
    const will = new Promise<Buffer>((resolve) => watcher.once('message', (_topic, payload) => resolve(payload)));
    crashed.transport.destroy();
    t.same([...(await will)], [9, 9], 'the will arrives after destroy()');
    t.equal(wills.length, 1, 'one will: the cleanly closed transport left none');
    t.equal(crashed.transport.connected, false);
  });

  t.test(`${name}: refused credentials reject start() with a TransportError (no retry fixes them)`, async (t) => {
    const users = await makeUsers([{ username: 'a1', role: 'agent', fleet: 'f1', agent: 'a1' }]);
    const guarded = await startBroker({ port: 0, users: users.file });
    t.teardown(async () => { await guarded.close(); users.cleanup(); });
    const a = probe(factory, { url: guarded.url, clientId: 'a1', username: 'a1', password: 'wrong-password' });
    t.teardown(() => a.transport.close());
    await t.rejects(a.transport.start(), { code: 'FM_ERR_TRANSPORT', message: /refused the connection/ });
  });
}
