// The recurrent actor (the trainer's nn/gru.ts) as one ONNX graph a robot calls each tick with
// the state it kept from the last call:
//   obs, agent_id, state [B, H] → logits, action, next_state [B, H]
// The robot zeroes `state` where its memory must go (an episode's start, a gap, a restart) and
// feeds back `next_state`. The trainer's fused [H, 3H] and [H, 2H] projections are cut here into
// one matrix per gate, so the graph needs no Split:
//   e = tanh(W_enc·x̂ + b_enc); z = σ(W_z·e + U_z·h + b_z); r = σ(W_r·e + U_r·h + b_r)
//   n = tanh(W_n·e + U_n·(r ⊙ h) + b_n); h' = n + z ⊙ (h − n); logits = W_out·h' + b_out

import { GraphBuilder } from './graph-builder.js';
import { actorInput, affine, BATCH, policyOutputs, type ActorIo } from './actor-graphs.js';

export interface GruGraphWeights {
  spec: { inputSize: number; hidden: number; numActions: number; inputLayerNorm?: boolean };
  /** enc_w [in, H], enc_b [H], x_w [H, 3H], x_b [3H] (z, r, n), h_w [H, 2H] (z, r), n_w [H, H], out_w [H, A], out_b [A] */
  tensors: Record<string, ArrayLike<number>>;
}

export function gruActorGraph(weights: GruGraphWeights, io: ActorIo): Uint8Array {
  const { inputSize, hidden: H, numActions, inputLayerNorm } = weights.spec;
  if (inputSize !== io.obsSize + io.agentIdSize) throw new Error(`the GRU takes ${inputSize} inputs, obs ${io.obsSize} + agent id ${io.agentIdSize} given`);
  const t = (name: string): ArrayLike<number> => {
    const values = weights.tensors[name];
    if (!values) throw new Error(`GRU weights lack "${name}"`);
    return values;
  };
  const g = new GraphBuilder('gru_actor');
  const x = actorInput(g, io, Boolean(inputLayerNorm));
  const state = g.input('state', [BATCH, H]);
  const e = g.op('Tanh', [affine(g, x, t('enc_w'), t('enc_b'), inputSize, H, 'enc')]);
  const gate = (k: number, name: string, recurrent: string, recurrentWeights: ArrayLike<number>, recurrentColumn: number) => g.op('Add', [
    affine(g, e, columns(t('x_w'), 3 * H, k * H, H), Array.from(t('x_b')).slice(k * H, (k + 1) * H), H, H, `x_${name}`),
    affine(g, recurrent, columns(recurrentWeights, recurrentWeights.length / H, recurrentColumn * H, H), null, H, H, `h_${name}`),
  ]);
  const z = g.op('Sigmoid', [gate(0, 'z', state, t('h_w'), 0)]);
  const r = g.op('Sigmoid', [gate(1, 'r', state, t('h_w'), 1)]);
  const n = g.op('Tanh', [gate(2, 'n', g.op('Mul', [r, state]), t('n_w'), 0)]);
  const next = g.op('Add', [n, g.op('Mul', [z, g.op('Sub', [state, n])])]);
  g.output(next, 'next_state', [BATCH, H]);
  policyOutputs(g, affine(g, next, t('out_w'), t('out_b'), H, numActions, 'out'), numActions, io.continuous, io.squash);
  return g.toBytes('fleetmind GRU actor: obs, agent_id, state → logits, action, next_state');
}

/** Columns [from, from + count) of a row-major matrix with `width` columns. */
function columns(matrix: ArrayLike<number>, width: number, from: number, count: number): Float32Array {
  const rows = matrix.length / width;
  const out = new Float32Array(rows * count);
  for (let row = 0; row < rows; row++) for (let c = 0; c < count; c++) out[row * count + c] = matrix[row * width + from + c];
  return out;
}
