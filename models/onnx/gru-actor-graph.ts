// The recurrent actor (the trainer's nn/gru.ts) as one ONNX graph a robot calls each tick with
// the state it kept from the last call:
//   obs, agent_id, state [B, H] → logits, action, next_state [B, H]
// The robot zeroes `state` where its memory must go (an episode's start, a gap, a restart) and
// feeds back `next_state`:
//   e = tanh(W_enc·x̂ + b_enc); h' = GRU(e, state) (layers.ts); logits = W_out·h' + b_out

import { GraphBuilder } from './graph-builder.js';
import { actorInput, BATCH, policyOutputs, type ActorIo } from './actor-graphs.js';
import { affine, gruCell } from './layers.js';

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
  const next = gruCell(g, e, state, { x_w: t('x_w'), x_b: t('x_b'), h_w: t('h_w'), n_w: t('n_w') }, H, 'gru');
  g.output(next, 'next_state', [BATCH, H]);
  policyOutputs(g, affine(g, next, t('out_w'), t('out_b'), H, numActions, 'out'), numActions, io);
  return g.toBytes('fleetmind GRU actor: obs, agent_id, state → logits, action, next_state');
}
