// Peer checks against a lying peer: an honest CommNet peer's round-2 message is what stage 1 makes
// of its round-1 message and what its team said, up to the wire's int8 quantization; a made-up
// message is not. Real ONNX Runtime sessions of the zoo CommNet, messages as the wire carries them.

import t from 'tap';
import { join } from 'node:path';
import { loadBundle, RoleRunner } from '@fleetmind/models';
import { CONSISTENCY_TOLERANCE, PeerConsistency, QUARANTINE_STRIKES, RELEASE_AFTER } from '@fleetmind/runtime';
import { decodeMessage, encodeMessage, type PeerMessage } from '@fleetmind/wire';
import { makeWorld, Rng } from '@fleetmind/worlds';
import { REPO_ROOT } from '../helpers/paths.js';

const bundle = await loadBundle(join(REPO_ROOT, 'models', 'zoo', 'spread-commnet'));
t.teardown(() => bundle.close());
const comm = bundle.manifest.communication!;
const H = comm.message_size;
const C = comm.inbox_capacity;
const q = comm.quantization;
const runner = new RoleRunner(bundle.roles[0], H);
const ids = ['agent_0', 'agent_1', 'agent_2'];

const wire = (agent: string, round: number, values: Float32Array): PeerMessage => {
  const e = encodeMessage(values, q);
  return { fleet: 'f', agent, tick: 1, round, payload: e.payload, scale: e.scale, sentUs: 0 };
};
const decoded = (m: PeerMessage) => { const v = new Float32Array(H); decodeMessage(m, q, v); return v; };

/**
 * One tick of a team of three, played honestly: each agent's round-1 and round-2 messages on the
 * wire. lost: [sender, receiver] pairs whose round-1 message did not arrive.
 */
async function honestTick(seed: number, lost: [number, number][] = [], liar?: { agent: number; lie: (round: number) => Float32Array }) {
  const world = makeWorld('simple_spread_v3', { numEnvs: 1 });
  const obs = world.reset(seed).observations;
  const first = await Promise.all(ids.map((_, i) => runner.stage0(obs[i], runner.agentIds([i]))));
  const round1 = ids.map((id, i) => wire(id, 1, liar?.agent === i ? liar.lie(1) : first[i].message));
  const round2 = await Promise.all(ids.map(async (id, i) => {
    const inbox = new Float32Array(C * H);
    const mask = new Float32Array(C);
    ids.forEach((_, j) => {
      if (j === i || lost.some(([s, r]) => s === j && r === i)) return;
      const slot = j < i ? j : j - 1;
      inbox.set(decoded(round1[j]), slot * H);
      mask[slot] = 1;
    });
    const out = await runner.stage(1, first[i].state, inbox, mask, C);
    return wire(id, 2, liar?.agent === i ? liar.lie(2) : out.message);
  }));
  return { first, round1, round2 };
}

function checker(self: number, absent: (p: string) => boolean = () => false) {
  const seen: { peer: string; consistent: boolean; distance: number }[] = [];
  const quarantined: string[] = [];
  const released: string[] = [];
  const c = new PeerConsistency({
    self: ids[self], peers: ids.filter((_, i) => i !== self), messageSize: H, capacity: C, quantization: q, absent,
    events: {
      checked: (peer, consistent, distance) => seen.push({ peer, consistent, distance }),
      quarantined: (peer) => quarantined.push(peer),
      released: (peer) => released.push(peer),
    },
  });
  return { c, seen, quarantined, released };
}

const others = (self: number, tick: { round1: PeerMessage[]; round2: PeerMessage[] }, round: 1 | 2) =>
  new Map(ids.map((id, i) => [id, (round === 1 ? tick.round1 : tick.round2)[i]] as const).filter(([id]) => id !== ids[self]));

t.test('honest peers pass, with every message heard and with a round-1 message lost on the way to them', async (t) => {
  let worst = 0;
  for (let seed = 0; seed < 20; seed++) {
    const lost: [number, number][] = seed % 2 ? [[0, 2], [2, 1]] : [];
    const tick = await honestTick(seed, lost);
    const { c, seen } = checker(0);
    const suspects = await c.check(runner, 2, decoded(tick.round1[0]), others(0, tick, 1), others(0, tick, 2));
    t.equal(suspects.size, 0, `seed ${seed}${lost.length ? ' (losses)' : ''}: nobody suspected`);
    t.equal(seen.length, 2, 'both peers checked');
    for (const s of seen) worst = Math.max(worst, s.distance);
  }
  t.ok(worst < CONSISTENCY_TOLERANCE / 2, `the worst honest distance ${worst.toFixed(4)} is well inside the tolerance ${CONSISTENCY_TOLERANCE}`);
});

t.test('a peer that makes its messages up is left out at once and quarantined after two rounds; it is released after it passes 20 times', async (t) => {
  const rng = new Rng(5);
  const { c, seen, quarantined, released } = checker(0);
  for (let k = 0; k < QUARANTINE_STRIKES; k++) {
    // agent_1 lies in both rounds: random values of a plausible size, as the hostile fault sends
    const tick = await honestTick(100 + k, [], { agent: 1, lie: () => Float32Array.from({ length: H }, () => rng.uniform(-1, 1)) });
    const suspects = await c.check(runner, 2, decoded(tick.round1[0]), others(0, tick, 1), others(0, tick, 2));
    t.same([...suspects], ['agent_1'], `round ${k + 1}: the liar's message is left out, the honest peer's kept`);
    t.ok(seen.filter((s) => s.peer === 'agent_1').every((s) => s.distance > 4 * CONSISTENCY_TOLERANCE), 'far from what it should have said');
  }
  t.same(quarantined, ['agent_1'], `quarantined after ${QUARANTINE_STRIKES} inconsistent rounds in a row`);
  t.ok(c.isQuarantined('agent_1'));
  t.notOk(c.isQuarantined('agent_2'));
  // agent_2 heard the lie in round 1, and its honest round-2 message is computed from it: still consistent
  t.ok(seen.filter((s) => s.peer === 'agent_2').every((s) => s.consistent), 'the honest peer that heard the liar still passes');
  for (let k = 0; k < RELEASE_AFTER; k++) {
    const tick = await honestTick(200 + k);
    await c.check(runner, 2, decoded(tick.round1[0]), others(0, tick, 1), others(0, tick, 2));
    if (k < RELEASE_AFTER - 1) t.ok(c.isQuarantined('agent_1'), `still in quarantine after ${k + 1} honest rounds`);
  }
  t.same(released, ['agent_1'], `released after ${RELEASE_AFTER} consistent rounds`);
  t.notOk(c.isQuarantined('agent_1'));
});

t.test('no verdict when this agent missed a round-1 message the peer may have heard; an absent peer is not required', async (t) => {
  const tick = await honestTick(7);
  const { c, seen } = checker(0);
  const missing = others(0, tick, 1);
  missing.delete('agent_2');
  const suspects = await c.check(runner, 2, decoded(tick.round1[0]), missing, others(0, tick, 2));
  t.equal(suspects.size, 0);
  t.equal(seen.length, 0, 'nothing checked');
  // agent_2 crashed (known absent): nobody heard it, and agent_1 is checked without it
  const crashed = await honestTick(7, [[2, 0], [2, 1]]);
  const { c: c2, seen: seen2 } = checker(0, (p) => p === 'agent_2');
  const round1 = others(0, crashed, 1);
  round1.delete('agent_2');
  const round2 = others(0, crashed, 2);
  round2.delete('agent_2');
  t.equal((await c2.check(runner, 2, decoded(crashed.round1[0]), round1, round2)).size, 0);
  t.same(seen2.map((s) => [s.peer, s.consistent]), [['agent_1', true]]);
});

t.test('an undecodable message (wrong length) is not checked and not trusted by the check', async (t) => {
  const tick = await honestTick(3);
  tick.round2[1] = { ...tick.round2[1], payload: tick.round2[1].payload.subarray(0, H - 1) };
  const { c, seen } = checker(0);
  const suspects = await c.check(runner, 2, decoded(tick.round1[0]), others(0, tick, 1), others(0, tick, 2));
  t.equal(suspects.size, 0);
  t.same(seen.map((s) => s.peer), ['agent_2']);
});
