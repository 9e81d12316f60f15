// A CommNet's last round and its final graph as one ONNX graph: the robot makes one ONNX Runtime
// call fewer each tick (the call's fixed cost is most of a small graph's), for the same numbers —
// the same nodes run on the same kernels, so the outputs are bit-identical to the two calls
// (the PolicySession contract checks it on real bundles). Made in memory from a bundle's verified
// files; the bundle on disk is unchanged.

import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/**
 * round: state, inbox, mask → message, next_state; final: state → its outputs (logits, action).
 * Gives: state, inbox, mask → the final graph's outputs. The final graph's names are prefixed so
 * that none meets the round's; the round's message, which no later round reads, is left out.
 */
export function fuseLastRoundWithFinal(roundBytes: Uint8Array, finalBytes: Uint8Array): Uint8Array {
  const round = onnx.ModelProto.decode(roundBytes);
  const final = onnx.ModelProto.decode(finalBytes);
  const g = round.graph!;
  const f = final.graph!;
  const sameOpsets = JSON.stringify(round.opsetImport) === JSON.stringify(final.opsetImport);
  if (!sameOpsets) throw new Error('the last round and the final graph import different operator sets');
  const weights = new Set((f.initializer ?? []).map((t) => t.name));
  const finalInputs = (f.input ?? []).filter((v) => !weights.has(v.name ?? ''));
  if (finalInputs.length !== 1 || !(g.output ?? []).some((v) => v.name === 'next_state')) {
    throw new Error('expected a round graph with a next_state output and a final graph with one input');
  }
  const outputs = new Set((f.output ?? []).map((v) => v.name ?? ''));
  const renamed = (name: string) => (name === finalInputs[0].name ? 'next_state' : name === '' || outputs.has(name) ? name : `final/${name}`);
  for (const node of f.node ?? []) {
    node.input = (node.input ?? []).map(renamed);
    node.output = (node.output ?? []).map(renamed);
    node.name = `final/${node.name ?? ''}`;
  }
  for (const t of f.initializer ?? []) t.name = renamed(t.name ?? '');
  for (const v of f.valueInfo ?? []) v.name = renamed(v.name ?? '');
  const nodes = [...(g.node ?? []), ...(f.node ?? [])];
  // keep what the outputs need: walk back from them
  const needed = new Set(outputs);
  const kept: typeof nodes = [];
  for (const node of [...nodes].reverse()) {
    if (!(node.output ?? []).some((o) => needed.has(o))) continue;
    kept.unshift(node);
    for (const input of node.input ?? []) needed.add(input);
  }
  const initializers = [...(g.initializer ?? []), ...(f.initializer ?? [])].filter((t) => needed.has(t.name ?? ''));
  g.node = kept;
  g.initializer = initializers;
  g.valueInfo = [...(g.valueInfo ?? []), ...(f.valueInfo ?? [])].filter((v) => needed.has(v.name ?? ''));
  g.output = f.output ?? [];
  g.name = `${g.name ?? 'round'}+final`;
  return onnx.ModelProto.encode(round).finish();
}
