import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { GraphBuilder, JOINED_INPUT, commNetRoundGraph, commNetStage0Graph, joinObservationAndAgentId, mlpActorGraph, mlpQGraph } from '@fleetmind/models/onnx';
import { EDGE_SESSION_OPTIONS } from '@fleetmind/models';

const { onnx } = onnxProto;
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

/** the graph ONNX Runtime runs after its optimisations, as node types */
async function optimisedNodes(bytes: Uint8Array): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'fleetmind-optimised-'));
  try {
    const path = join(dir, 'optimised.onnx');
    const session = await ort.InferenceSession.create(bytes, { ...EDGE_SESSION_OPTIONS, optimizedModelFilePath: path, logSeverityLevel: 3 });
    await session.release();
    return (onnx.ModelProto.decode(readFileSync(path)).graph!.node ?? []).map((n) => n.opType ?? '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const nodeTypes = (bytes: Uint8Array) => (onnx.ModelProto.decode(bytes).graph!.node ?? []).map((n) => n.opType ?? '');

/** a seeded MLP of the zoo's shape: 18 observations + 3 agent ids → 64 → 64 → 5 */
function zooShapedMlp() {
  let seed = 7;
  const next = () => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5);
  const sizes = [21, 64, 64, 5];
  return { spec: { sizes, activation: 'tanh' as const, inputLayerNorm: true }, layers: sizes.slice(1).map((out, l) => ({ w: Array.from({ length: sizes[l] * out }, next), b: Array.from({ length: out }, next) })) };
}

t.test('graph outputs are named on the nodes that make them: no Identity for ONNX Runtime to run, but where one value is two outputs', async (t) => {
  const mlp = mlpActorGraph(zooShapedMlp(), { obsSize: 18, agentIdSize: 3 });
  t.notOk(nodeTypes(mlp).includes('Identity'), `MLP actor: ${nodeTypes(mlp).join(' ')}`);
  const commnet = { spec: { inputSize: 4, hidden: 2, rounds: 1, numActions: 2 }, tensors: { enc_w: [1, 0, 0, 1, 1, 0, 0, 1], enc_b: [0, 0] } };
  const stage0 = commNetStage0Graph(commnet, { obsSize: 2, agentIdSize: 2 });
  t.same(nodeTypes(stage0).filter((n) => n === 'Identity'), ['Identity'], 'stage 0: h⁰ is both the message and the next state');
  const session = await ort.InferenceSession.create(stage0);
  const out = await session.run({ obs: f32([0.5, -1], [1, 2]), agent_id: f32([1, 0], [1, 2]) });
  t.same(out.message.data, out.next_state.data, 'and both outputs carry it');
  await session.release();
  // an output that is a graph input still needs its Identity
  const g = new GraphBuilder('pass');
  g.output(g.input('x', ['batch', 2]), 'y', ['batch', 2]);
  t.same(nodeTypes(g.toBytes()), ['Identity']);
});

t.test('the input layer norm runs as ONNX Runtime\'s one LayerNormalization kernel, within 1e-5 of the arithmetic', async (t) => {
  const weights = zooShapedMlp();
  const bytes = mlpActorGraph(weights, { obsSize: 18, agentIdSize: 3 });
  const nodes = await optimisedNodes(bytes);
  t.equal(nodes.filter((n) => n === 'LayerNormalization').length, 1, `optimised: ${nodes.join(' ')}`);
  t.notOk(nodes.some((n) => ['ReduceMean', 'Sqrt', 'Div', 'Pow'].includes(n)), 'none of the eight nodes it replaces is left');
  // float64 reference of the whole network on rows near zero and far from it
  const session = await ort.InferenceSession.create(bytes, EDGE_SESSION_OPTIONS);
  let worst = 0;
  for (const [offset, spread] of [[0, 1], [0, 0.01], [10, 1], [100, 1]]) {
    for (let row = 0; row < 20; row++) {
      const obs = Array.from({ length: 18 }, (_, i) => offset + spread * Math.sin(i * 7.1 + row * 3.3));
      const id = [0, 1, 0];
      const x = Array.from(Float32Array.from([...obs, ...id]));
      const mean = x.reduce((a, b) => a + b) / x.length;
      const std = Math.sqrt(x.reduce((a, b) => a + (b - mean) ** 2, 0) / x.length + 1e-5);
      let h = x.map((v) => (v - mean) / std);
      weights.layers.forEach((layer, l) => {
        const width = weights.spec.sizes[l + 1];
        h = Array.from({ length: width }, (_, o) => h.reduce((s, v, q) => s + v * layer.w[q * width + o], layer.b[o]));
        if (l + 1 < weights.layers.length) h = h.map(Math.tanh);
      });
      const got = (await session.run({ obs: f32(obs, [1, 18]), agent_id: f32(id, [1, 3]) })).logits.data as Float32Array;
      h.forEach((v, k) => (worst = Math.max(worst, Math.abs(v - got[k]))));
    }
  }
  t.ok(worst < 1e-5, `largest |Δlogit| against float64: ${worst.toExponential(2)}`);
  await session.release();
});

t.test('an MLP with a LayerNorm after every hidden layer (the MAPPO paper\'s layers): each runs as one LayerNormalization kernel, within 1e-5 of the arithmetic', async (t) => {
  const weights = { ...zooShapedMlp(), spec: { ...zooShapedMlp().spec, activation: 'relu' as const, hiddenLayerNorm: true } };
  const bytes = mlpActorGraph(weights, { obsSize: 18, agentIdSize: 3 });
  const nodes = await optimisedNodes(bytes);
  t.equal(nodes.filter((n) => n === 'LayerNormalization').length, 3, `the input's and two hidden layers': ${nodes.join(' ')}`);
  const session = await ort.InferenceSession.create(bytes, EDGE_SESSION_OPTIONS);
  const normalise = (x: number[]) => {
    const mean = x.reduce((a, b) => a + b) / x.length;
    const std = Math.sqrt(x.reduce((a, b) => a + (b - mean) ** 2, 0) / x.length + 1e-5);
    return x.map((v) => (v - mean) / std);
  };
  let worst = 0;
  let withoutHidden = 0;
  for (let row = 0; row < 20; row++) {
    const obs = Array.from({ length: 18 }, (_, i) => 3 * Math.sin(i * 7.1 + row * 3.3));
    const id = [1, 0, 0];
    const forward = (hidden: boolean) => {
      let h = normalise(Array.from(Float32Array.from([...obs, ...id])));
      weights.layers.forEach((layer, l) => {
        const width = weights.spec.sizes[l + 1];
        h = Array.from({ length: width }, (_, o) => h.reduce((s, v, q) => s + v * layer.w[q * width + o], layer.b[o]));
        if (l + 1 < weights.layers.length) {
          h = h.map((v) => Math.max(0, v));
          if (hidden) h = normalise(h);
        }
      });
      return h;
    };
    const got = (await session.run({ obs: f32(obs, [1, 18]), agent_id: f32(id, [1, 3]) })).logits.data as Float32Array;
    forward(true).forEach((v, k) => (worst = Math.max(worst, Math.abs(v - got[k]))));
    forward(false).forEach((v, k) => (withoutHidden = Math.max(withoutHidden, Math.abs(v - got[k]))));
  }
  t.ok(worst < 1e-5, `largest |Δlogit| against float64: ${worst.toExponential(2)}`);
  t.ok(withoutHidden > 1e-2, `and the hidden norms change the logits (by up to ${withoutHidden.toFixed(3)} here)`);
  await session.release();
});

t.test('the observation and the agent id join into one input where a graph only concatenates them: the same outputs, bit for bit', async (t) => {
  const weights = zooShapedMlp();
  const bytes = mlpActorGraph(weights, { obsSize: 18, agentIdSize: 3 });
  const joined = joinObservationAndAgentId(bytes)!;
  t.ok(joined, 'the MLP actor joins');
  const [before, after] = await Promise.all([bytes, joined].map((b) => ort.InferenceSession.create(b, EDGE_SESSION_OPTIONS)));
  t.same(after.inputNames, [JOINED_INPUT]);
  t.notOk(nodeTypes(joined).includes('Concat'), 'the Concat is gone');
  for (const batch of [1, 4]) {
    const obs = Array.from({ length: batch * 18 }, (_, i) => Math.cos(i * 1.7) * 3);
    const ids = Array.from({ length: batch * 3 }, (_, i) => (i % 3 === Math.floor(i / 3) % 3 ? 1 : 0));
    const rows = Array.from({ length: batch }, (_, b) => [...obs.slice(b * 18, b * 18 + 18), ...ids.slice(b * 3, b * 3 + 3)]).flat();
    const a = await before.run({ obs: f32(obs, [batch, 18]), agent_id: f32(ids, [batch, 3]) });
    const b = await after.run({ [JOINED_INPUT]: f32(rows, [batch, 21]) });
    t.same(Array.from(b.logits.data as Float32Array), Array.from(a.logits.data as Float32Array), `batch ${batch}: the same logits`);
    t.same(b.action.data, a.action.data);
  }
  await Promise.all([before.release(), after.release()]);
  // graphs not made so are left alone
  const noId = mlpActorGraph({ spec: { sizes: [2, 3], activation: 'tanh' }, layers: [{ w: [1, 2, 3, 4, 5, 6], b: [0, 0, 0] }] }, { obsSize: 2, agentIdSize: 0 });
  t.equal(joinObservationAndAgentId(noId), null, 'no agent id: nothing to join');
  const g = new GraphBuilder('obs-used-twice');
  const obs = g.input('obs', ['batch', 2]);
  const both = g.op('Concat', [obs, g.input('agent_id', ['batch', 2])], { axis: 1 });
  g.output(g.op('Concat', [both, obs], { axis: 1 }), 'y', ['batch', 6]);
  t.equal(joinObservationAndAgentId(g.toBytes()), null, 'the observation read elsewhere too: left as it is');
});
