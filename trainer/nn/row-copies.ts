// Rows of row-major arrays copied in JS memory: minibatches picked from a rollout, and a
// team's present rows moved in and out of it. (tfjs-wasm's gather is slower than these copies
// and has no gradient kernel there.)

/** The rows `picks` of a row-major [rows, width] array, in that order. */
export function gatherRows<T extends Float32Array | Int32Array>(from: T, width: number, picks: ArrayLike<number>): T {
  const out = new (from.constructor as new (length: number) => T)(picks.length * width);
  if (width === 1) for (let k = 0; k < picks.length; k++) out[k] = from[picks[k]];
  else for (let k = 0; k < picks.length; k++) out.set(from.subarray(picks[k] * width, (picks[k] + 1) * width), k * width);
  return out;
}

/** Row k of a [to.length, width] array placed at row to[k] of a [count, width] one, zeros elsewhere. */
export function scatterRows(from: Float32Array, width: number, to: ArrayLike<number>, count: number): Float32Array {
  const out = new Float32Array(count * width);
  for (let k = 0; k < to.length; k++) out.set(from.subarray(k * width, (k + 1) * width), to[k] * width);
  return out;
}
