// Layers the actor graphs share: an affine map and a GRU cell, as ONNX nodes on a GraphBuilder.

import type { GraphBuilder } from './graph-builder.js';

/** x·W (+ b): W [inSize, outSize] row-major */
export function affine(g: GraphBuilder, x: string, w: ArrayLike<number>, b: ArrayLike<number> | null, inSize: number, outSize: number, name: string): string {
  const y = g.op('MatMul', [x, g.constant(`${name}_w`, w, [inSize, outSize])]);
  return b ? g.op('Add', [y, g.constant(`${name}_b`, b, [outSize])]) : y;
}

/** A GRU cell's weights as the trainer keeps them: x_w [H, 3H] and x_b [3H] (z, r, n), h_w [H, 2H] (z, r), n_w [H, H] */
export interface GruCellTensors {
  x_w: ArrayLike<number>;
  x_b: ArrayLike<number>;
  h_w: ArrayLike<number>;
  n_w: ArrayLike<number>;
}

/**
 * h' = GRU(e, h) for inputs e [B, H] and state h [B, H] (the trainer's nn/gru.ts): the fused
 * projections are cut into one matrix per gate, so the graph needs no Split:
 *   z = σ(W_z·e + U_z·h + b_z); r = σ(W_r·e + U_r·h + b_r); n = tanh(W_n·e + U_n·(r ⊙ h) + b_n);
 *   h' = n + z ⊙ (h − n)
 */
export function gruCell(g: GraphBuilder, e: string, state: string, w: GruCellTensors, H: number, name: string): string {
  const gate = (k: number, gateName: string, recurrent: string, recurrentWeights: ArrayLike<number>, recurrentColumn: number) => g.op('Add', [
    affine(g, e, columns(w.x_w, 3 * H, k * H, H), Array.from(w.x_b).slice(k * H, (k + 1) * H), H, H, `${name}_x_${gateName}`),
    affine(g, recurrent, columns(recurrentWeights, recurrentWeights.length / H, recurrentColumn * H, H), null, H, H, `${name}_h_${gateName}`),
  ]);
  const z = g.op('Sigmoid', [gate(0, 'z', state, w.h_w, 0)]);
  const r = g.op('Sigmoid', [gate(1, 'r', state, w.h_w, 1)]);
  const n = g.op('Tanh', [gate(2, 'n', g.op('Mul', [r, state]), w.n_w, 0)]);
  return g.op('Add', [n, g.op('Mul', [z, g.op('Sub', [state, n])])]);
}

/** Columns [from, from + count) of a row-major matrix with `width` columns. */
function columns(matrix: ArrayLike<number>, width: number, from: number, count: number): Float32Array {
  const rows = matrix.length / width;
  const out = new Float32Array(rows * count);
  for (let row = 0; row < rows; row++) for (let c = 0; c < count; c++) out[row * count + c] = matrix[row * width + from + c];
  return out;
}
