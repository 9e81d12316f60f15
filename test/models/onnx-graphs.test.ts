import t from 'tap';
import * as ort from 'onnxruntime-node';
import { GraphBuilder, commNetRoundGraph, mlpActorGraph, mlpQGraph } from '@fleetmind/models/onnx';
import { EDGE_SESSION_OPTIONS } from '@fleetmind/models';

const f32 = (values: number[], dims: number[]) => new ort.Tensor('float32', Float32Array.from(values), dims);

t.test('a hand-computable graph gives the known output in ONNX Runtime, for any batch size', async (t) => {
  const g = new GraphBuilder('affine');
  const x = g.input('x', ['batch', 2]);
  g.output(g.op('Add', [g.op('MatMul', [x, g.constant('w', [1, 2, 3, 4], [2, 2])]), g.constant('b', [10, 20], [2])]), 'y', ['batch', 2]);
  const session = await ort.InferenceSession.create(g.toBytes(), EDGE_SESSION_OPTIONS);
  // [1 1]·[[1 2][3 4]] + [10 20] = [14 26]; [2 0]·W + b = [12 24]; [0.5 −1]·W + b = [7.5 17]
  const out = await session.run({ x: f32([1, 1, 2, 0, 0.5, -1], [3, 2]) });
  t.same(Array.from(out.y.data as Float32Array), [14, 26, 12, 24, 7.5, 17]);
  t.throws(() => g.constant('w', [0], [1]), /used twice/);
  t.throws(() => new GraphBuilder('x').constant('w', [1, 2, 3], [2, 2]), /3 values for dims \[2,2\]/);
  await session.release();
});

t.test('the MLP actor graph: layer norm, tanh layers, logits and the greedy action', async (t) => {
  // 2 observation values + 2 agent-id values → 2 hidden (tanh) → 3 actions
  const weights = {
    spec: { sizes: [4, 2, 3], activation: 'tanh' as const, inputLayerNorm: true },
    layers: [{ w: [1, 0, 0, 1, 0.5, 0, 0, -0.5], b: [0, 0.1] }, { w: [1, -1, 0, 0, 1, 2], b: [0, 0, 0.5] }],
  };
  const session = await ort.InferenceSession.create(mlpActorGraph(weights, { obsSize: 2, agentIdSize: 2 }));
  const obs = [3, -1];
  const id = [0, 1];
  const out = await session.run({ obs: f32(obs, [1, 2]), agent_id: f32(id, [1, 2]) });
  const x = [...obs, ...id];
  const mean = x.reduce((a, b) => a + b) / 4;
  const std = Math.sqrt(x.reduce((a, b) => a + (b - mean) ** 2, 0) / 4 + 1e-5);
  const xn = x.map((v) => (v - mean) / std);
  const h = [0, 1].map((o) => Math.tanh(xn.reduce((s, v, q) => s + v * weights.layers[0].w[q * 2 + o], 0) + weights.layers[0].b[o]));
  const logits = [0, 1, 2].map((o) => h.reduce((s, v, q) => s + v * weights.layers[1].w[q * 3 + o], 0) + weights.layers[1].b[o]);
  const got = Array.from(out.logits.data as Float32Array);
  logits.forEach((v, k) => t.ok(Math.abs(v - got[k]) < 1e-6, `logit ${k}: ${got[k]} vs ${v}`));
  t.equal(Number((out.action.data as BigInt64Array)[0]), logits.indexOf(Math.max(...logits)));
  t.throws(() => mlpActorGraph(weights, { obsSize: 3, agentIdSize: 2 }), /takes 4 inputs, obs 3 \+ agent id 2/);
  await session.release();
  // the same network as a Q-network: the same numbers, named q_values, and its argmax
  const q = await ort.InferenceSession.create(mlpQGraph(weights, { obsSize: 2, agentIdSize: 2 }));
  const qOut = await q.run({ obs: f32(obs, [1, 2]), agent_id: f32(id, [1, 2]) });
  t.same(Array.from(qOut.q_values.data as Float32Array), got);
  t.same(q.outputNames, ['q_values', 'action']);
  await q.release();
});

t.test('a CommNet round averages the messages the mask lets in; none heard gives c = 0; capacity is dynamic', async (t) => {
  const H = 2;
  const identity = { spec: { inputSize: 2, hidden: H, rounds: 1, numActions: 2 }, tensors: { h_w_1: [0, 0, 0, 0], c_w_1: [1, 0, 0, 1], b_1: [0, 0] } };
  const session = await ort.InferenceSession.create(commNetRoundGraph(identity, 1));
  const run = async (inbox: number[], mask: number[], capacity: number) => Array.from((await session.run({
    state: f32(Array(2 * H).fill(0.3), [2, H]), inbox: f32(inbox, [2, capacity, H]), mask: f32(mask, [2, capacity]),
  })).next_state.data as Float32Array);
  // row 0 hears slots 0 and 2 of 3: mean of (1,2) and (5,6) = (3,4); row 1 hears nobody
  const got = await run([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [1, 0, 1, 0, 0, 0], 3);
  [Math.tanh(3), Math.tanh(4), 0, 0].forEach((v, k) => t.ok(Math.abs(got[k] - v) < 1e-6, `${got[k]} vs ${v}`));
  const one = await run([2, -2, 0, 0], [1, 0], 1);
  t.ok(Math.abs(one[0] - Math.tanh(2)) < 1e-6 && one[2] === 0, 'capacity 1 works with the same graph');
  await session.release();
});
