// RoleRunner (ONNX Runtime), the simulator's slowed policy and the runtime's batched policy pass the
// one PolicySession contract.

import t from 'tap';
import { join } from 'node:path';
import { loadBundle, RoleRunner } from '@fleetmind/models';
import { slowedPolicy } from '@fleetmind/sim-harness/fleet';
import { batchedInference } from '@fleetmind/runtime';
import { REPO_ROOT } from '../helpers/paths.js';
import { policySessionContract } from '../contracts/policy-session.js';

const mlp = await loadBundle(join(REPO_ROOT, 'models', 'zoo', 'spread-mlp'));
const commnet = await loadBundle(join(REPO_ROOT, 'models', 'zoo', 'spread-commnet'));
t.teardown(async () => { await mlp.close(); await commnet.close(); });
const comm = commnet.manifest.communication!;
const bundles = {
  mlp: { role: mlp.roles[0] },
  commnet: { role: commnet.roles[0], messageSize: comm.message_size, capacity: comm.inbox_capacity },
};

t.test('a CommNet bundle loads its last round and final graph fused into one session', async (t) => {
  t.ok(commnet.roles[0].lastRoundAndFinal, 'the zoo CommNet: fused');
  t.equal(mlp.roles[0].lastRoundAndFinal, null, 'an MLP has nothing to fuse');
});

t.test('RoleRunner', async (t) => policySessionContract(t, 'RoleRunner', (role, h) => new RoleRunner(role, h), bundles));
t.test('batchedInference', async (t) => policySessionContract(t, 'BatchedPolicy', batchedInference(), bundles));
t.test('slowedPolicy', async (t) => policySessionContract(t, 'slowedPolicy', (role, h) => slowedPolicy(new RoleRunner(role, h), () => 2), bundles));

t.test('slowedPolicy waits before each call and answers as the policy it wraps', async (t) => {
  let delay = 30;
  const inner = new RoleRunner(mlp.roles[0], 0);
  const slowed = slowedPolicy(inner, () => delay);
  const obs = new Float32Array(inner.obsSize).fill(0.2);
  const ids = inner.agentIds([0]);
  const t0 = performance.now();
  const a = await slowed.act(obs, ids);
  t.ok(performance.now() - t0 >= 29, 'the call waited its delay');
  t.same([...a.actions], [...(await inner.act(obs, ids)).actions]);
  delay = 0;
  t.same([...(await slowed.act(obs, ids)).logits], [...(await inner.act(obs, ids)).logits], 'with no delay, exactly the same');
});
