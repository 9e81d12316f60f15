// The Adapter contract (runtime/adapters/adapter.ts), one suite that the three adapters run:
// in-process, stdio (JSON lines) and MQTT (protobuf on …/obs and …/act, over a real broker).
// Each implementation supplies a harness: the robot's side of the adapter.

import type { Test } from 'tap';
import type { ActionOut, Adapter, AdapterContext, ObservationIn } from '@fleetmind/runtime';

/** The robot's side of an adapter under test. */
export interface AdapterHarness {
  adapter: Adapter;
  /** the link the agent would hand the adapter (null: none) */
  link: AdapterContext['link'];
  /** the robot sends an observation */
  send(observation: ObservationIn): void | Promise<void>;
  /** the robot sends something unreadable; null when the adapter has no such input (in-process calls are typed) */
  sendGarbage: (() => void | Promise<void>) | null;
  /** resolves with the next action the robot receives */
  nextAction(): Promise<ActionOut>;
  /** resolves once everything the robot has sent so far has been delivered (or dropped) */
  settle(): Promise<void>;
  close(): Promise<void>;
}

/** What the agent's side saw. */
function agentSide(fleet: string, agent: string, link: AdapterContext['link']) {
  const observed: ObservationIn[] = [];
  const rejected: string[] = [];
  const waiters: (() => void)[] = [];
  const context: AdapterContext = {
    fleet, agent, link,
    observe: (o) => { observed.push(o); waiters.splice(0).forEach((w) => w()); },
    standby: () => {},
    reject: (detail) => { rejected.push(detail); waiters.splice(0).forEach((w) => w()); },
  };
  const until = async (done: () => boolean) => { while (!done()) await new Promise<void>((resolve) => waiters.push(resolve)); };
  return { context, observed, rejected, until };
}

export function adapterContract(t: Test, name: string, makeHarness: () => Promise<AdapterHarness>): void {
  t.test(`${name}: an observation the robot sends reaches the agent, tick and values intact`, async (t) => {
    const h = await makeHarness();
    t.teardown(() => h.close());
    const side = agentSide('f1', 'a1', h.link);
    await h.adapter.start(side.context);
    await h.send({ tick: 3, values: Float32Array.of(0.5, -1.25, 2) });
    await side.until(() => side.observed.length === 1);
    t.equal(side.observed[0].tick, 3);
    t.same([...side.observed[0].values], [0.5, -1.25, 2]);
    t.same(side.rejected, []);
  });

  t.test(`${name}: an action the agent applies reaches the robot, every field intact`, async (t) => {
    const h = await makeHarness();
    t.teardown(() => h.close());
    const side = agentSide('f1', 'a1', h.link);
    await h.adapter.start(side.context);
    const actions: ActionOut[] = [
      { tick: 4, action: 2, vector: null, tier: 'partial', shielded: false },
      { tick: 5, action: 0, vector: null, tier: 'safe', shielded: true },
      // a continuous action: its vector, exactly (float32)
      { tick: 6, action: 0, vector: Float32Array.from([0.25, Math.fround(0.1), 1]), tier: 'full', shielded: true },
    ];
    for (const action of actions) {
      const next = h.nextAction();
      h.adapter.apply(action);
      t.same(await next, action);
    }
  });

  t.test(`${name}: unreadable input is rejected with a reason and the adapter keeps reading`, async (t) => {
    const h = await makeHarness();
    t.teardown(() => h.close());
    if (!h.sendGarbage) {
      t.pass(`${name} takes typed calls: there is no unreadable input to reject`);
      return;
    }
    const side = agentSide('f1', 'a1', h.link);
    await h.adapter.start(side.context);
    await h.sendGarbage();
    await side.until(() => side.rejected.length === 1);
    t.type(side.rejected[0], 'string');
    t.ok(side.rejected[0].length > 0, `the reason: ${side.rejected[0]}`);
    await h.send({ tick: 9, values: Float32Array.of(1) });
    await side.until(() => side.observed.length === 1);
    t.equal(side.observed[0].tick, 9, 'the next good observation is delivered');
  });

  t.test(`${name}: after close() nothing more reaches the agent`, async (t) => {
    const h = await makeHarness();
    t.teardown(() => h.close());
    const side = agentSide('f1', 'a1', h.link);
    await h.adapter.start(side.context);
    await h.send({ tick: 1, values: Float32Array.of(1) });
    await side.until(() => side.observed.length === 1);
    await h.adapter.close();
    let refused = false;
    await Promise.resolve().then(() => h.send({ tick: 2, values: Float32Array.of(2) })).catch(() => { refused = true; }); // refusing outright is allowed too
    await h.settle();
    t.equal(side.observed.length, 1, refused ? 'the robot was refused' : 'the observation sent after close() was not delivered');
  });
}
