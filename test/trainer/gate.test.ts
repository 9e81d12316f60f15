// IC3Net's gate (trainer/nn/commnet.ts, spec.gated): a silent agent's messages reach nobody in
// any round and it still hears; acting greedily it speaks when its speak logit is the larger;
// the gate trains with the policy gradient, so a cost on speaking teaches silence; a resumed
// gated run continues exactly; and the settings that need a gate say so.

import t from 'tap';
import { Rng } from '@fleetmind/worlds';
import {
  actorLogits, defaultMappoConfig, gateMasks, greedySpeakers, makeActor, resolveTrainingConfig, trainMappo, useBackend,
  type MappoCheckpoint,
} from '@fleetmind/trainer';

t.before(async () => { await useBackend('wasm'); });

const IN = 6;
const H = 8;
const A = 4;
const TEAM = 3;
const ENVS = 2;
const K = 2;

function gated(kind: 'commnet' | 'tarmac' | 'commnet-gru', seed: number) {
  return makeActor({ kind, inputSize: IN, numActions: A, hidden: [H], activation: 'tanh', inputLayerNorm: false, rounds: K, gated: true }, new Rng(seed));
}

function inputs(seed: number) {
  const rng = new Rng(seed);
  const x = Float32Array.from({ length: ENVS * TEAM * IN }, () => rng.uniform(-1, 1));
  // everyone hears everyone but itself
  const masks = Float32Array.from({ length: ENVS * K * TEAM * TEAM }, (_, q) => (Math.floor(q / TEAM) % TEAM === q % TEAM ? 0 : 1));
  return { x, masks };
}

t.test('greedy speakers and gated masks: a silent sender reaches nobody in any round', (t) => {
  t.same(Array.from(greedySpeakers(Float32Array.from([0, 1, 1, 0, 2, 2]))), [1, 0, 0], 'speaks when the speak logit is larger; a tie is silence (ONNX ArgMax takes the first)');
  const masks = new Float32Array(1 * K * TEAM * TEAM).fill(1);
  gateMasks(masks, [1, 0, 1], 1, K, TEAM);
  for (let k = 0; k < K; k++) {
    for (let i = 0; i < TEAM; i++) t.same(Array.from(masks.subarray((k * TEAM + i) * TEAM, (k * TEAM + i + 1) * TEAM)), [1, 0, 1], `round ${k + 1}, receiver ${i}: column 1 cut`);
  }
  t.end();
});

for (const kind of ['commnet', 'tarmac', 'commnet-gru'] as const) {
  t.test(`${kind}: the chosen speakers act exactly as masks with the silent senders' columns cut, and the masks given are gated in place`, (t) => {
    const actor = gated(kind, 3);
    const { x, masks } = inputs(4);
    const memory = () => (actor.stateSize > 0 ? { state: new Float32Array(ENVS * TEAM * actor.stateSize), resets: new Uint8Array(ENVS * TEAM).fill(1) } : undefined);
    const speak = Float32Array.from([1, 0, 1, 0, 0, 1]);
    let seen: Float32Array | null = null;
    const chosen = masks.slice();
    const withGate = actorLogits(actor, x, chosen, TEAM, { memory: memory(), speakers: (gateLogits) => { seen = gateLogits.slice(); return speak; } });
    t.equal(seen!.length, ENVS * TEAM * 2, 'the gate sees two logits per agent');
    const cut = masks.slice();
    gateMasks(cut, speak, ENVS, K, TEAM);
    t.same(chosen, cut, 'the masks given come back gated');
    // the same actor on the pre-cut masks, everyone "speaking": the rounds alone decide
    const asMasks = actorLogits(actor, x, cut.slice(), TEAM, { memory: memory(), speakers: () => new Float32Array(ENVS * TEAM).fill(1) });
    t.same(Array.from(withGate), Array.from(asMasks));
    const everyone = actorLogits(actor, x, masks.slice(), TEAM, { memory: memory(), speakers: () => new Float32Array(ENVS * TEAM).fill(1) });
    t.notSame(Array.from(withGate), Array.from(everyone), 'silence changes what the others decide');
    // the gate reads h⁰ only: what a silent agent hears does not change whether it speaks
    const deaf = new Float32Array(masks.length);
    let seenDeaf: Float32Array | null = null;
    actorLogits(actor, x, deaf, TEAM, { memory: memory(), speakers: (gateLogits) => { seenDeaf = gateLogits.slice(); return speak; } });
    t.same(Array.from(seenDeaf!), Array.from(seen!), 'the gate is chosen before any round');
    actor.dispose();
    t.end();
  });
}

t.test('the gate trains with the policy gradient: a cost on speaking teaches silence, and its speak rate is reported', async (t) => {
  const rates: number[] = [];
  const config = { ...defaultMappoConfig, actor: 'commnet' as const, gate: true, messageCost: 1, numEnvs: 16, totalSteps: 16 * 25 * 20, hidden: [32, 32], seed: 2, lrDecay: false };
  const checkpoint = await trainMappo(config, { onUpdate: (m) => { rates.push(m['comm/speak_rate']); } });
  t.ok(rates[0] > 0.35 && rates[0] < 0.65, `an untrained gate speaks about half the time (${rates[0].toFixed(3)})`);
  t.ok(rates[rates.length - 1] < 0.15, `after ${rates.length} updates at a cost of 1 a message: ${rates[rates.length - 1].toFixed(3)}`);
  t.ok('gate_w' in (checkpoint.roles[0].actor as { tensors: Record<string, number[]> }).tensors, 'the checkpoint holds the gate');
  t.end();
});

t.test('a resumed gated run continues exactly', async (t) => {
  const config = { ...defaultMappoConfig, actor: 'tarmac' as const, gate: true, messageCost: 0.1, numEnvs: 8, rolloutSteps: 20, totalSteps: 8 * 20 * 4, seed: 5, hidden: [16, 16], msgDropout: 0.3 };
  const straight = await trainMappo(config);
  let updates = 0;
  const half = await trainMappo(config, { shouldStop: () => updates >= 2, onUpdate: () => { updates++; } });
  const resumed = await trainMappo(config, {}, JSON.parse(JSON.stringify(half)) as MappoCheckpoint);
  t.same(resumed.roles, straight.roles);
  t.same(resumed.loop, straight.loop);
  t.end();
});

t.test('gate settings: refused by name where they mean nothing', (t) => {
  t.throws(() => resolveTrainingConfig({ algo: 'mappo', gate: true }), { message: 'gate needs a communicating actor (commnet, tarmac, commnet-gru, tarmac-gru)' });
  t.throws(() => resolveTrainingConfig({ algo: 'mappo', actor: 'gru', gate: true }), { message: /gate needs a communicating actor/ });
  t.throws(() => resolveTrainingConfig({ algo: 'mappo', actor: 'commnet', messageCost: 0.1 }), { message: 'messageCost needs gate on (only a gated actor chooses whether to speak)' });
  t.throws(() => resolveTrainingConfig({ algo: 'mappo', actor: 'commnet', gate: true, messageCost: -1 }), { message: /messageCost/ });
  t.throws(() => makeActor({ kind: 'mlp', inputSize: IN, numActions: A, hidden: [H], activation: 'tanh', inputLayerNorm: false, rounds: 0, gated: true }, new Rng(0)), { message: /mlp sends none/ });
  t.doesNotThrow(() => resolveTrainingConfig({ algo: 'mappo', actor: 'commnet', gate: false }), 'gate off is the default, allowed anywhere');
  t.end();
});
