// An actor trained elsewhere (PyTorch's torch.onnx.export, or any ONNX exporter) made into a
// bundle's actor graph: it must map one float observation [batch, obsSize] to one float output
// [batch, numActions] (logits or Q-values). Its input is renamed "obs", its output "logits", and
// an ArgMax adds the greedy "action" the runtime reads — the graph-io contract of our own
// exports. A continuous actor maps the observation to the action vector [batch, D] (a Gaussian
// policy's mean, or a deterministic actor): its output is renamed "action" and used as it is.
// Everything that does not fit is said at once, in the graph's own names.

import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { EDGE_SESSION_OPTIONS } from '../bundle/loader.js';

const { onnx } = onnxProto;

export class ImportError extends Error {
  readonly code = 'FM_ERR_IMPORT';
}

export interface ImportExpectations {
  /** where it came from, for the messages */
  source: string;
  obsSize: number;
  /** discrete: the number of actions; continuous: the action vector's length */
  numActions: number;
  /** the world's actions are a box: the output is the action vector itself */
  continuous?: boolean;
}

type ValueInfo = NonNullable<InstanceType<typeof onnx.GraphProto>['input']>[number];

/** A dimension as the messages show it: its size, its symbolic name, or "?" */
function dimText(d: { dimValue?: number | { toNumber(): number } | null; dimParam?: string | null }): string {
  if (d.dimParam) return d.dimParam;
  if (d.dimValue !== undefined && d.dimValue !== null) return String(typeof d.dimValue === 'number' ? d.dimValue : d.dimValue.toNumber());
  return '?';
}

function describe(v: ValueInfo): { name: string; elem: number; dims: string[] } {
  const tensor = v.type?.tensorType;
  return { name: v.name ?? '', elem: tensor?.elemType ?? 0, dims: (tensor?.shape?.dim ?? []).map(dimText) };
}

/** The graph's one real input and one output, checked against what the world needs. */
export function adaptImportedActor(bytes: Uint8Array, want: ImportExpectations): Uint8Array {
  let model: InstanceType<typeof onnx.ModelProto>;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw new ImportError(`${want.source} is not an ONNX model: ${(err as Error).message}`);
  }
  const graph = model.graph;
  if (!graph || (graph.node ?? []).length === 0) throw new ImportError(`${want.source} is not an ONNX model: it has no graph`);
  const weights = new Set((graph.initializer ?? []).map((t) => t.name));
  const inputs = (graph.input ?? []).filter((v) => !weights.has(v.name ?? '')).map(describe);
  const outputs = (graph.output ?? []).map(describe);
  const problems: string[] = [];
  const float = onnx.TensorProto.DataType.FLOAT;
  const checkShape = (what: string, v: { name: string; elem: number; dims: string[] }, size: number, meaning: string) => {
    if (v.elem !== float) problems.push(`its ${what} "${v.name}" is not float32 (ONNX type ${v.elem})`);
    if (v.dims.length !== 2) problems.push(`its ${what} "${v.name}" has shape [${v.dims.join(', ')}]; expected [batch, ${size}] (${meaning})`);
    else {
      if (v.dims[1] !== String(size)) problems.push(`its ${what} "${v.name}" has ${v.dims[1]} values per row; expected ${size} (${meaning})`);
      // a whole team is one batch: the first dimension must be free
      if (/^\d+$/.test(v.dims[0])) problems.push(`its ${what} "${v.name}" has a fixed batch of ${v.dims[0]}; export it with a dynamic first dimension (torch.onnx.export(…, dynamic_axes={"${v.name}": {0: "batch"}}))`);
    }
  };
  if (inputs.length !== 1) problems.push(`it takes ${inputs.length} inputs (${inputs.map((v) => `"${v.name}"`).join(', ') || 'none'}); an actor takes one, the observation`);
  else checkShape('input', inputs[0], want.obsSize, 'the observation');
  const produces = want.continuous ? 'the action vector' : 'a value per action';
  if (outputs.length !== 1) problems.push(`it gives ${outputs.length} outputs (${outputs.map((v) => `"${v.name}"`).join(', ') || 'none'}); an actor gives one, ${produces}`);
  else checkShape('output', outputs[0], want.numActions, want.continuous ? 'the action vector: the world\'s actions are a box' : 'a logit or Q-value per action');
  if (problems.length > 0) throw new ImportError(`${want.source} does not fit: ${problems.join('; ')}`);

  // our names: obs → … → logits, and the greedy action beside it (continuous: obs → … → action)
  const rename = new Map([[inputs[0].name, 'obs'], [outputs[0].name, want.continuous ? 'action' : 'logits']]);
  for (const used of ['obs', 'logits', 'action']) {
    if (!rename.has(used) && (graph.node ?? []).some((n) => [...(n.input ?? []), ...(n.output ?? [])].includes(used))) {
      throw new ImportError(`${want.source} uses the name "${used}" inside its graph, which the bundle's contract reserves`);
    }
  }
  const renamed = (name: string) => rename.get(name) ?? name;
  for (const node of graph.node ?? []) {
    node.input = (node.input ?? []).map(renamed);
    node.output = (node.output ?? []).map(renamed);
  }
  for (const v of [...(graph.input ?? []), ...(graph.output ?? []), ...(graph.valueInfo ?? [])]) v.name = renamed(v.name ?? '');
  if (want.continuous) return onnx.ModelProto.encode(model).finish();
  const batch = (graph.input ?? []).find((v) => v.name === 'obs')!.type!.tensorType!.shape!.dim![0];
  graph.node!.push(onnx.NodeProto.create({
    opType: 'ArgMax', input: ['logits'], output: ['action'], name: 'fleetmind_greedy_action',
    attribute: [onnx.AttributeProto.create({ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 }), onnx.AttributeProto.create({ name: 'keepdims', type: onnx.AttributeProto.AttributeType.INT, i: 0 })],
  }));
  graph.output!.push(onnx.ValueInfoProto.create({
    name: 'action',
    type: { tensorType: { elemType: onnx.TensorProto.DataType.INT64, shape: { dim: [batch] } } },
  }));
  return onnx.ModelProto.encode(model).finish();
}

/** The graph as it came, run on observations [rows, obsSize]: its one output, for parity checks. */
export async function originalActorOutputs(bytes: Uint8Array, observations: Float32Array, obsSize: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes, EDGE_SESSION_OPTIONS);
  try {
    const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', observations, [observations.length / obsSize, obsSize]) });
    return out[session.outputNames[0]].data as Float32Array;
  } finally {
    await session.release();
  }
}
