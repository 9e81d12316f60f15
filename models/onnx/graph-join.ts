// A graph's two first inputs, the observation and the agent's one-hot index, as one input: the
// exported graphs concatenate them before anything else, so the runtime can hand ONNX Runtime the
// row it would make and save a call a tensor and a node (a tensor fed costs about as much as a
// small kernel). The same numbers go through the same kernels, so the outputs are bit-identical.
// Made in memory from a bundle's verified file; the bundle keeps its public inputs (obs, agent_id),
// which a robot that calls the graph itself still uses.

import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** the joined input: [batch, obs size + agent id size] */
export const JOINED_INPUT = 'obs_agent_id';

/**
 * obs [B, n], agent_id [B, k] → obs_agent_id [B, n + k], where the graph's only use of both is one
 * Concat([obs, agent_id], axis 1); null where the graph is not made so.
 */
export function joinObservationAndAgentId(bytes: Uint8Array): Uint8Array | null {
  const model = onnx.ModelProto.decode(bytes);
  const g = model.graph!;
  const inputs = g.input ?? [];
  const obs = inputs.find((v) => v.name === 'obs');
  const agentId = inputs.find((v) => v.name === 'agent_id');
  if (!obs || !agentId) return null;
  const users = (name: string) => (g.node ?? []).filter((n) => (n.input ?? []).includes(name));
  const concat = users('obs')[0];
  const isJoin = users('obs').length === 1 && users('agent_id').length === 1 && users('agent_id')[0] === concat
    && concat.opType === 'Concat' && (concat.input ?? []).join(',') === 'obs,agent_id' && (concat.output ?? []).length === 1
    && (concat.attribute ?? []).some((a) => a.name === 'axis' && Number(a.i) === 1);
  const widths = [obs, agentId].map((v) => v.type?.tensorType?.shape?.dim?.[1]?.dimValue);
  if (!isJoin || widths.some((w) => w === undefined || w === null || Number(w) <= 0)) return null;
  if ((g.output ?? []).some((v) => v.name === concat.output![0])) return null;
  const joined = concat.output![0];
  for (const node of g.node ?? []) node.input = (node.input ?? []).map((name) => (name === joined ? JOINED_INPUT : name));
  g.node = (g.node ?? []).filter((n) => n !== concat);
  g.valueInfo = (g.valueInfo ?? []).filter((v) => v.name !== joined);
  const input = onnx.ValueInfoProto.create({
    name: JOINED_INPUT,
    type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [obs.type!.tensorType!.shape!.dim![0], { dimValue: Number(widths[0]) + Number(widths[1]) }] } } },
  });
  g.input = [input, ...inputs.filter((v) => v !== obs && v !== agentId)];
  return onnx.ModelProto.encode(model).finish();
}
