// The PolicySession contract (models/policy/policy-session.ts), one suite that every
// implementation runs on real bundles: RoleRunner on ONNX Runtime, and the simulator's slowed
// policy that wraps it. Same inputs, same outputs; shapes as the interface says.

import type { Test } from 'tap';
import type { PolicySession, RolePolicy } from '@fleetmind/models';

export type MakeSession = (role: RolePolicy, messageSize: number) => PolicySession;

function observations(size: number, batch: number): Float32Array {
  return Float32Array.from({ length: size * batch }, (_, k) => Math.sin(k * 0.7) * 0.8);
}

export function policySessionContract(t: Test, name: string, make: MakeSession, bundles: { mlp: { role: RolePolicy }; commnet: { role: RolePolicy; messageSize: number; capacity: number } }): void {
  t.test(`${name}: an MLP role acts on a batch: one action per row, in range, the same every time`, async (t) => {
    const s = make(bundles.mlp.role, 0);
    t.equal(s.rounds, 0);
    const obs = observations(s.obsSize, 3);
    const ids = s.agentIds([0, 1, 2]);
    t.equal(ids.length, 3 * s.agentIdSize);
    if (s.agentIdSize > 0) t.same([...ids.subarray(0, s.agentIdSize)].indexOf(1), 0, 'one-hot agent index');
    const full = await s.act(obs, ids);
    t.equal(full.actions.length, 3);
    t.equal(full.logits.length, 3 * s.numActions);
    for (const a of full.actions) t.ok(a >= 0 && a < s.numActions);
    const again = await s.act(obs, ids, { actionOnly: true });
    t.same([...again.actions], [...full.actions], 'deterministic');
    t.equal(again.logits.length, 0, 'actionOnly: no logits fetched');
  });

  t.test(`${name}: a CommNet role runs stage 0, its rounds and its final graph; the fallback acts without messages`, async (t) => {
    const { role, messageSize: H, capacity: C } = bundles.commnet;
    const s = make(role, H);
    t.ok(s.rounds > 0);
    const obs = observations(s.obsSize, 1);
    const ids = s.agentIds([0]);
    let { message, state } = await s.stage0(obs, ids);
    t.equal(message.length, H);
    t.equal(state.length, H);
    const inbox = new Float32Array(C * H);
    const mask = new Float32Array(C);
    inbox.set(message.subarray(0, H), 0);
    mask[0] = 1;
    for (let k = 1; k <= s.rounds; k++) ({ message, state } = await s.stage(k, state, inbox, mask, C));
    const out = await s.final(state);
    t.equal(out.actions.length, 1);
    t.ok(out.actions[0] >= 0 && out.actions[0] < s.numActions);
    // the last round and the final graph in one call: bit for bit the two calls, batch of one or more
    for (const batch of [1, 3]) {
      for (let trial = 0; trial < 20; trial++) {
        const st = Float32Array.from({ length: batch * H }, (_, k) => Math.sin(k * 1.3 + trial) * 2);
        const ib = Float32Array.from({ length: batch * C * H }, (_, k) => Math.cos(k * 0.37 + trial));
        const mk = Float32Array.from({ length: batch * C }, (_, k) => ((k + trial) % 3 === 0 ? 0 : 1));
        const apart = await s.final((await s.stage(s.rounds, st, ib, mk, C)).state);
        const together = await s.lastRoundAndFinal(st, ib, mk, C);
        if (trial === 0) t.equal(together.actions.length, batch, `batch ${batch}: one action a row`);
        t.same([...together.logits], [...apart.logits], `batch ${batch}, trial ${trial}: the same logits, bit for bit`);
        t.same([...together.actions], [...apart.actions]);
      }
    }
    t.equal((await s.lastRoundAndFinal(state, inbox, mask, C, { actionOnly: true })).logits.length, 0, 'actionOnly: no logits fetched');
    const fallback = await s.act(obs, ids, { fallback: true, actionOnly: true });
    t.equal(fallback.actions.length, 1);
    t.ok(fallback.actions[0] >= 0 && fallback.actions[0] < s.numActions);
  });

  t.test(`${name}: a batch that is not whole observations is refused`, async (t) => {
    const s = make(bundles.mlp.role, 0);
    await t.rejects(s.act(new Float32Array(s.obsSize + 1), s.agentIds([0])), /not a multiple of/);
  });
}
