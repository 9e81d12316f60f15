// The mqemitter stack overflow behind the "500 clients at 10 Hz disconnect while overloaded"
// crash, reproduced in miniature: a long queue of messages that nobody listens to any more.
import t from 'tap';
import mqemitter from 'mqemitter';
import { guardEmitter } from '@fleetmind/broker';
import { until } from '../helpers/waiting.js';

/** Holds the first message, queues `queued` more behind it, removes the listener, then lets go. */
function drainOrphanedQueue(mq: ReturnType<typeof mqemitter>, queued: number): Promise<string> {
  return new Promise((resolve) => {
    let release: () => void = () => {};
    const hold = (_msg: unknown, cb: () => void) => { release = cb; };
    mq.on('fleet/shared', hold, () => {
      mq.emit({ topic: 'fleet/shared', qos: 0 });
      for (let i = 0; i < queued; i++) mq.emit({ topic: 'fleet/shared', qos: 0 });
      mq.removeListener('fleet/shared', hold, () => {
        mq.emit({ topic: 'fleet/last', qos: 0 }, () => resolve('drained'));
        try {
          release();
        } catch (err) {
          resolve((err as Error).name);
        }
      });
    });
  });
}

t.test('unguarded, draining an orphaned queue overflows the stack (the reported crash)', async (t) => {
  t.equal(await drainOrphanedQueue(mqemitter({ concurrency: 1 }), 30_000), 'RangeError');
});

t.test('guarded, the same queue drains on fresh stacks and every message completes', async (t) => {
  const mq = guardEmitter(mqemitter({ concurrency: 1 }), { maxQueued: Infinity, onShed: () => t.fail('nothing is shed') });
  t.equal(await drainOrphanedQueue(mq, 30_000), 'drained');
});

t.test('past maxQueued, QoS 0 publishes are shed and counted; QoS 1 ones never are', async (t) => {
  let shed = 0;
  const mq = guardEmitter(mqemitter({ concurrency: 1 }), { maxQueued: 100, onShed: () => shed++ });
  let delivered = 0;
  let release: () => void = () => {};
  await new Promise<void>((resolve) => mq.on('fleet/+', (_m: unknown, cb: () => void) => {
    delivered++;
    if (delivered === 1) release = cb; else cb();
  }, () => resolve()));
  mq.emit({ topic: 'fleet/a', qos: 0 }); // in flight, held
  for (let i = 0; i < 1000; i++) mq.emit({ topic: 'fleet/a', qos: 0 });
  for (let i = 0; i < 50; i++) mq.emit({ topic: 'fleet/b', qos: 1 });
  t.equal(shed, 900, 'the queue kept 100 QoS 0 messages');
  release();
  await until(() => delivered >= 1 + 100 + 50, 'the queue drains');
  t.equal(delivered, 1 + 100 + 50, 'everything queued was delivered, QoS 1 included');
});
