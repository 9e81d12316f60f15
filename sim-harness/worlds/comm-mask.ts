// Who hears whom: the communication mask a CommNet actor is trained on, sampled the way the
// runtime meets it, so that training sees exactly what the runtime will feed the policy.
//   mask[e, k, i, j] = 1 when, in round k of env e, agent i received agent j's message.
// Env-major, so that one env's K rounds form a block that a minibatch of teams can gather.
// A link carries a message when j ≠ i, both agents are alive, j is within the radius of i (if
// the world has positions and a radius is set), and the message survived dropout (independently
// per link and per round).

import type { Rng } from './rng.js';

export interface CommMaskOptions {
  numEnvs: number;
  numAgents: number;
  rounds: number;
  /** probability that one message on one link in one round is lost */
  dropout: number;
  /** [E, N] 1 = alive; dead agents neither send nor receive. Default: all alive */
  alive?: Uint8Array;
  /** only agents within this distance hear each other (needs positions) */
  radius?: number;
  /** [E, N, 2] agent positions, for the radius */
  positions?: Float32Array | Float64Array;
}

export function sampleCommMask(rng: Rng, o: CommMaskOptions): Float32Array {
  const { numEnvs: e, numAgents: n, rounds } = o;
  if (o.dropout < 0 || o.dropout > 1) throw new Error(`message dropout must be in [0, 1], got ${o.dropout}`);
  if (o.radius !== undefined && !o.positions) throw new Error('a communication radius needs agent positions');
  const mask = new Float32Array(rounds * e * n * n);
  for (let env = 0; env < e; env++) {
    for (let i = 0; i < n; i++) {
      if (o.alive && !o.alive[env * n + i]) continue;
      for (let j = 0; j < n; j++) {
        if (j === i || (o.alive && !o.alive[env * n + j])) continue;
        if (o.positions && o.radius !== undefined) {
          const p = o.positions;
          if (!withinRadius(p[(env * n + i) * 2], p[(env * n + i) * 2 + 1], p[(env * n + j) * 2], p[(env * n + j) * 2 + 1], o.radius)) continue;
        }
        for (let k = 0; k < rounds; k++) {
          if (o.dropout === 0 || rng.next() >= o.dropout) mask[((env * rounds + k) * n + i) * n + j] = 1;
        }
      }
    }
  }
  return mask;
}

/**
 * Whether an agent at (bx, by) hears one at (ax, ay) within `radius`: the one test for training's
 * mask and for a simulated fleet's radio range, so that both cut the same links.
 */
export function withinRadius(ax: number, ay: number, bx: number, by: number, radius: number): boolean {
  const dx = ax - bx;
  const dy = ay - by;
  return dx * dx + dy * dy <= radius * radius;
}

/** [E, N] alive flags: each agent independently dead with probability p (for an episode). */
export function sampleAlive(rng: Rng, numEnvs: number, numAgents: number, p: number): Uint8Array {
  const alive = new Uint8Array(numEnvs * numAgents);
  for (let k = 0; k < alive.length; k++) alive[k] = rng.next() < p ? 0 : 1;
  return alive;
}

/**
 * The CommNet communication vector, by definition: for each agent, the mean of the hidden
 * states of the peers it heard; zeros when it heard nobody.
 * h: [E, N, H]; mask: [E, N, N] (one round: see roundMask). Returns [E, N, H].
 */
export function peerMean(h: Float32Array, mask: Float32Array, numEnvs: number, numAgents: number): Float32Array {
  const n = numAgents;
  const hidden = h.length / (numEnvs * n);
  const out = new Float32Array(h.length);
  for (let e = 0; e < numEnvs; e++) {
    for (let i = 0; i < n; i++) {
      let heard = 0;
      const o = (e * n + i) * hidden;
      for (let j = 0; j < n; j++) {
        if (!mask[(e * n + i) * n + j]) continue;
        heard++;
        for (let d = 0; d < hidden; d++) out[o + d] += h[(e * n + j) * hidden + d];
      }
      if (heard > 0) for (let d = 0; d < hidden; d++) out[o + d] /= heard;
    }
  }
  return out;
}

/** One round's [E, N, N] mask out of an [E, K, N, N] mask. */
export function roundMask(mask: Float32Array, numEnvs: number, numAgents: number, rounds: number, k: number): Float32Array {
  const nn = numAgents * numAgents;
  const out = new Float32Array(numEnvs * nn);
  for (let e = 0; e < numEnvs; e++) out.set(mask.subarray((e * rounds + k) * nn, (e * rounds + k + 1) * nn), e * nn);
  return out;
}
