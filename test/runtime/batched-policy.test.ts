// The runtime's batched inference: the calls that a process's agents make in one turn of the event
// loop run as one ONNX Runtime call, and each agent gets what its own call would have given it.

import t from 'tap';
import { join } from 'node:path';
import { loadBundle, RoleRunner } from '@fleetmind/models';
import { BatchedPolicy, batchedInference } from '@fleetmind/runtime';
import { REPO_ROOT } from '../helpers/paths.js';

const mlp = await loadBundle(join(REPO_ROOT, 'models', 'zoo', 'spread-mlp'));
const commnet = await loadBundle(join(REPO_ROOT, 'models', 'zoo', 'spread-commnet'));
const continuous = await loadBundle(join(REPO_ROOT, 'models', 'zoo', 'spread-continuous-mlp'));
t.teardown(async () => { await mlp.close(); await commnet.close(); await continuous.close(); });
const H = commnet.manifest.communication!.message_size;
const C = commnet.manifest.communication!.inbox_capacity;

const observation = (size: number, seed: number) => Float32Array.from({ length: size }, (_, k) => Math.sin(seed * 1.3 + k * 0.7) * 0.9);

t.test('the agents of one turn share one call of the graph, and each gets its own action', async (t) => {
  const factory = batchedInference();
  const sessions = Array.from({ length: 12 }, () => factory(mlp.roles[0], 0));
  t.equal(new Set(sessions).size, 1, 'one session per role for every agent of the process');
  const alone = new RoleRunner(mlp.roles[0], 0);
  const calls = sessions.map((s, i) => s.act(observation(s.obsSize, i), s.agentIds([i % 3]), { actionOnly: i % 2 === 0 }));
  const outs = await Promise.all(calls);
  t.equal(factory.stats.calls, 2, 'two kinds of call (with and without logits): two graph calls');
  t.equal(factory.stats.carried, 12);
  for (const [i, out] of outs.entries()) {
    const own = await alone.act(observation(alone.obsSize, i), alone.agentIds([i % 3]), { actionOnly: i % 2 === 0 });
    t.same([...out.actions], [...own.actions], `agent ${i}: its own action`);
    t.equal(out.logits.length, own.logits.length, `agent ${i}: logits as asked`);
    out.logits.forEach((l, a) => t.ok(Math.abs(l - own.logits[a]) < 1e-5, `agent ${i} logit ${a}: ${l} vs ${own.logits[a]}`));
  }
  // a later turn is a new batch
  await sessions[0].act(observation(alone.obsSize, 0), alone.agentIds([0]));
  t.equal(factory.stats.calls, 3);
});

t.test('a CommNet\'s stages batch by round, and the fused last round answers every agent', async (t) => {
  const factory = batchedInference();
  const s = factory(commnet.roles[0], H);
  const alone = new RoleRunner(commnet.roles[0], H);
  const agents = [0, 1, 2];
  const first = await Promise.all(agents.map((i) => s.stage0(observation(s.obsSize, i), s.agentIds([i]))));
  t.equal(factory.stats.calls, 1);
  const inbox = (i: number) => {
    const box = new Float32Array(C * H);
    const mask = new Float32Array(C);
    agents.filter((j) => j !== i).forEach((j, slot) => { box.set(first[j].message, slot * H); mask[slot] = 1; });
    return { box, mask };
  };
  const second = await Promise.all(agents.map((i) => s.stage(1, first[i].state, inbox(i).box, inbox(i).mask, C)));
  const last = await Promise.all(agents.map((i) => s.lastRoundAndFinal(second[i].state, inbox(i).box, inbox(i).mask, C)));
  t.equal(factory.stats.calls, 3, 'one call per stage for the three agents');
  for (const i of agents) {
    const own0 = await alone.stage0(observation(s.obsSize, i), s.agentIds([i]));
    own0.message.forEach((v, k) => t.ok(Math.abs(v - first[i].message[k]) < 1e-5));
    const own = await alone.lastRoundAndFinal(second[i].state, inbox(i).box, inbox(i).mask, C);
    t.same([...last[i].actions], [...own.actions], `agent ${i}: its own action`);
  }
});

t.test('a gated policy\'s stage 0 batches too, and each agent gets its own gate', async (t) => {
  const gated = await loadBundle(join(REPO_ROOT, 'models', 'zoo', 'junction-easy-tarmac-gated'));
  t.teardown(() => gated.close());
  const size = gated.manifest.communication!.message_size;
  const factory = batchedInference();
  const s = factory(gated.roles[0], size);
  const alone = new RoleRunner(gated.roles[0], size);
  const cars = [0, 1, 2, 3, 4];
  // observations that make some cars speak and others keep silent
  const seen = cars.map((i) => observation(s.obsSize, i * 5 + 1));
  const batched = await Promise.all(cars.map((i) => s.stage0(seen[i], s.agentIds([i]))));
  t.equal(factory.stats.calls, 1, 'one call for the five cars');
  const own = await Promise.all(cars.map((i) => alone.stage0(seen[i], alone.agentIds([i]))));
  t.same(batched.map((b) => Array.from(b.speaks!)), own.map((o) => Array.from(o.speaks!)), 'each car its own gate');
  t.ok(own.every((o) => o.speaks!.length === 1), 'one gate per call');
  t.same(new Set(own.map((o) => o.speaks![0])), new Set([0, 1]), 'some speak and some keep silent');
});

t.test('a call that does not hold whole rows fails alone; the others of its turn are answered', async (t) => {
  const factory = batchedInference();
  const s = factory(mlp.roles[0], 0);
  const good = [0, 1, 2].map((i) => s.act(observation(s.obsSize, i), s.agentIds([i])));
  const bad = s.act(observation(s.obsSize - 1, 9), s.agentIds([0]));
  await t.rejects(bad, /not a multiple/);
  const outs = await Promise.all(good);
  t.equal(outs.length, 3);
  for (const o of outs) t.equal(o.actions.length, 1);
});

t.test('continuous policies are not batched (a batch may change the last bit of an action the world integrates)', async (t) => {
  const factory = batchedInference();
  const a = factory(continuous.roles[0], 0);
  const b = factory(continuous.roles[0], 0);
  t.not(a, b, 'a session per agent');
  t.notOk(a instanceof BatchedPolicy, 'the role\'s own session');
  await a.act(observation(a.obsSize, 1), a.agentIds([0]));
  t.equal(factory.stats.calls, 0);
});
