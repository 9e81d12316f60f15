// A runtime agent with continuous actions (models/zoo/spread-continuous-mlp): its vector leaves
// inside the bundle's box; a NaN or infinite action from the model becomes the safe action,
// counted by reason; with a rate limit no component moves more than that from one tick to the
// next; and the vector crosses the wire exactly.

import t, { type Test } from 'tap';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadBundle, RoleRunner, type PolicySession } from '@fleetmind/models';
import { createAgent, InProcessAdapter, MqttAdapter, type ActionOut, type AgentSettingsInput } from '@fleetmind/runtime';
import { startBroker } from '@fleetmind/broker';
import { agentTopic, decodeAction, encodeObservation } from '@fleetmind/wire';
import { makeWorld } from '@fleetmind/worlds';
import { REPO_ROOT } from '../helpers/paths.js';
import { connect } from '../helpers/mqtt.js';

const BUNDLE = join(REPO_ROOT, 'models', 'zoo', 'spread-continuous-mlp');

/**
 * The real ONNX Runtime session, with its action vector bent on some ticks (a fault at the
 * policy seam, as the simulator's slow_inference is): `bend(call, vector)` may change it in place.
 */
function bentPolicy(bend: (call: number, vector: Float32Array) => void) {
  let calls = 0;
  return (role: ConstructorParameters<typeof RoleRunner>[0], messageSize: number): PolicySession => {
    const inner = new RoleRunner(role, messageSize);
    return Object.assign(Object.create(inner) as PolicySession, {
      act: async (obs: Float32Array, agentId: Float32Array, options?: { fallback?: boolean; actionOnly?: boolean }) => {
        const out = await inner.act(obs, agentId, options);
        const vector = Float32Array.from(out.actions);
        bend(++calls, vector);
        return { logits: out.logits, actions: vector };
      },
    });
  };
}

async function drive(t: Test, settings: AgentSettingsInput, bend: (call: number, vector: Float32Array) => void, ticks: number) {
  const actions: ActionOut[] = [];
  let resolveTick: (() => void) | null = null;
  const adapter = new InProcessAdapter((a) => { actions.push(a); resolveTick?.(); });
  const agent = await createAgent({ bundle: BUNDLE, agentId: 'agent_0', broker: null, adapter, policy: bentPolicy(bend), logger: pino({ level: 'silent' }), ...settings });
  t.teardown(() => agent.stop());
  const world = makeWorld('simple_spread_v3', { numEnvs: 1, config: { continuousActions: true } });
  let observations = world.reset(3).observations;
  const joint = new Float32Array(3 * 5);
  for (let tick = 1; tick <= ticks; tick++) {
    const arrived = new Promise<void>((resolve) => { resolveTick = resolve; });
    adapter.observe({ tick, values: observations[0].slice() });
    await arrived;
    joint.set(actions[actions.length - 1].vector!, 0);
    observations = world.step(joint).observations;
  }
  return { actions, agent };
}

t.test('a NaN or infinite action becomes the safe action, counted by reason; vectors stay in the box', async (t) => {
  const { actions, agent } = await drive(t, {}, (call, v) => {
    if (call === 3) v[1] = Number.NaN;
    if (call === 5) v[4] = Number.POSITIVE_INFINITY;
    if (call === 7) v[2] = 1.7; // outside Box(0, 1): clamped, a shield override
  }, 8);
  t.equal(actions.length, 8);
  t.same([actions[2].tier, actions[4].tier], ['safe', 'safe']);
  t.same([...actions[2].vector!], [0, 0, 0, 0, 0], 'the manifest\'s safe vector');
  t.same(agent.snapshot().safeReasons, { action_nonfinite: 2 });
  t.equal(actions[6].vector![2], 1, 'clamped to the box\'s high');
  t.ok(actions[6].shielded, 'and recorded as a shield override');
  for (const a of actions) t.ok(a.vector!.every((x) => x >= 0 && x <= 1), `tick ${a.tick} inside the box`);
  t.equal(agent.snapshot().shielded, actions.filter((a) => a.shielded).length);
});

t.test('with a rate limit, no component moves more than the limit between ticks (the safe action is not slowed)', async (t) => {
  const { actions } = await drive(t, { actionRateLimit: 0.05 }, (call, v) => {
    // a policy that jumps from one corner of the box to the other every tick
    v.fill(call % 2 ? 0 : 1);
    if (call === 6) v[0] = Number.NaN;
  }, 10);
  for (let k = 1; k < actions.length; k++) {
    if (actions[k].tier === 'safe' || actions[k - 1].tier === 'safe') continue;
    const step = Math.max(...actions[k].vector!.map((x, d) => Math.abs(x - actions[k - 1].vector![d])));
    t.ok(step <= 0.05 + 1e-7, `tick ${actions[k].tick}: moved ${step.toFixed(4)}`);
  }
  t.ok(actions.slice(1).some((a) => a.shielded), 'limiting is a shield override');
  t.same([...actions[5].vector!], [0, 0, 0, 0, 0], 'the safe action at once');
});

t.test('over MQTT the action vector arrives exactly as the agent chose it (wire 1.1)', async (t) => {
  const broker = await startBroker({ port: 0, allowAnonymous: true });
  t.teardown(() => broker.close());
  const fleet = `cont-${process.pid}`;
  const agent = await createAgent({ bundle: BUNDLE, agentId: 'agent_0', broker: broker.url, fleet, adapter: new MqttAdapter(), logger: pino({ level: 'silent' }) });
  t.teardown(() => agent.stop());
  const client = await connect(broker.url);
  t.teardown(() => client.endAsync());
  const got = new Promise<ReturnType<typeof decodeAction>>((resolve) => client.on('message', (_topic, payload) => resolve(decodeAction(payload))));
  await client.subscribeAsync(agentTopic(fleet, 'agent_0', 'act'));
  const world = makeWorld('simple_spread_v3', { numEnvs: 1, config: { continuousActions: true } });
  const obs = world.reset(1).observations[0].slice();
  await client.publishAsync(agentTopic(fleet, 'agent_0', 'obs'), Buffer.from(encodeObservation({ tick: 1, values: obs, sentUs: Date.now() * 1000 })));
  const action = await got;
  const bundle = await loadBundle(BUNDLE);
  t.teardown(() => bundle.close());
  const runner = new RoleRunner(bundle.roles[0], 0);
  const expected = await runner.act(obs, runner.agentIds([0]));
  t.same([...action.vector!], [...expected.actions].map((x) => Math.min(Math.max(x, 0), 1)), 'the vector, bit for bit (clamped into the box)');
  t.equal(action.action, 0);
});
