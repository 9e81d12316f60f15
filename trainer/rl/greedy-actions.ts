// A continuous run's policy as its settings describe it, for what plays it greedily and what
// exports it: how many numbers its actor gives per agent, how they become the greedy action (the
// clipped mean as it is, the squashed mean, the means beside a state-dependent std, each
// component's argmax bin, a Beta's mode), and the constants the exported actor's last layers need.
// The action heads themselves (how each is sampled and trained) are in action-head.ts.

import type { ActionSpace, ContinuousSpace } from '@fleetmind/worlds';
import { boxSquash, type BoxSquash } from './action-head.js';
import { BETA_MODE_EPSILON, betaMode, betaShape } from './beta.js';

/** The squash a run's continuous policy ends in, or null: a run that clips (the default), or a discrete space. */
export function squashOf(config: object, space: ActionSpace): BoxSquash | null {
  // (only MAPPO/IPPO configurations have the setting)
  const squashes = 'squashActions' in config && config.squashActions === true;
  return squashes && space.kind === 'continuous' ? boxSquash(space) : null;
}

/** A box as a Beta policy's support: a = low + span · x, x in (0, 1). */
export interface BoxBeta {
  low: number[];
  span: number[];
  /** added to α − 1 and β − 1 in the mode (BETA_MODE_EPSILON) */
  epsilon: number;
}

/** The Beta a run's continuous policy draws from, or null: a Gaussian policy, or a discrete space. */
export function betaOf(config: object, space: ActionSpace): BoxBeta | null {
  const beta = 'actionDistribution' in config && config.actionDistribution === 'beta';
  return beta && space.kind === 'continuous' ? { low: [...space.low], span: space.high.map((high, k) => high - space.low[k]), epsilon: BETA_MODE_EPSILON } : null;
}

/** Rows of 2D outputs (a Beta policy's a and b per component) → rows of D greedy actions: the Beta's mode in the box. */
export function betaModes(box: BoxBeta, outputs: Float32Array): Float32Array {
  const d = box.low.length;
  const means = new Float32Array(outputs.length / 2);
  for (let row = 0; row < means.length / d; row++) {
    for (let k = 0; k < d; k++) {
      const alpha = betaShape(outputs[row * 2 * d + k]);
      const beta = betaShape(outputs[row * 2 * d + d + k]);
      means[row * d + k] = box.low[k] + box.span[k] * betaMode(alpha, beta);
    }
  }
  return means;
}

/** What the exported actor's last layers need to end in a continuous run's greedy action (models/onnx ActorIo's fields). */
export function exportedActionOf(config: object, space: ActionSpace): { squash?: BoxSquash; beta?: BoxBeta; stateStd: boolean; bins?: BoxBins } {
  return {
    squash: squashOf(config, space) ?? undefined,
    beta: betaOf(config, space) ?? undefined,
    stateStd: stateStdOf(config, space),
    bins: binsOf(config, space) ?? undefined,
  };
}

/** A continuous run's greedy actions from its actor's outputs: as they are (clipped by the world), squashed, the means beside a state-dependent std, each component's argmax bin, or a Beta's mode. */
export function greedyContinuous(config: object, space: ActionSpace): (outputs: Float32Array) => Float32Array {
  const squash = squashOf(config, space);
  const beta = betaOf(config, space);
  if (beta) return (outputs) => betaModes(beta, outputs);
  const bins = binsOf(config, space);
  if (bins) return (outputs) => binnedArgmax(bins, outputs);
  if (stateStdOf(config, space)) return (outputs) => leadingColumns(outputs, (space as ContinuousSpace).shape[0]);
  if (squash) return (outputs) => squashIntoBox(squash, outputs);
  return (outputs) => outputs;
}

/** A box cut into K values per component: value = low + index · step. */
export interface BoxBins {
  bins: number;
  low: number[];
  step: number[];
}

/** The bins a run's continuous policy chooses among, or null where it does not. */
export function binsOf(config: object, space: ActionSpace): BoxBins | null {
  if (!('actionDistribution' in config) || config.actionDistribution !== 'bins' || space.kind !== 'continuous') return null;
  const bins = 'actionBins' in config && typeof config.actionBins === 'number' ? config.actionBins : DEFAULT_ACTION_BINS;
  return { bins, low: [...space.low], step: space.high.map((high, k) => (high - space.low[k]) / (bins - 1)) };
}

/** Values per component of a binned policy unless a run says otherwise (11: a tenth of the box apart). */
export const DEFAULT_ACTION_BINS = 11;

/** Rows of D·K logits → rows of D greedy actions: each component's argmax bin, as its value. */
export function binnedArgmax(box: BoxBins, logits: Float32Array): Float32Array {
  const d = box.low.length;
  const out = new Float32Array(logits.length / box.bins);
  for (let group = 0; group < out.length; group++) {
    let best = 0;
    for (let j = 1; j < box.bins; j++) if (logits[group * box.bins + j] > logits[group * box.bins + best]) best = j;
    const k = group % d;
    out[group] = box.low[k] + best * box.step[k];
  }
  return out;
}

/** Whether a run's continuous policy is a Gaussian whose actor also gives the log-std (its outputs: D means, then D log-std). */
export function stateStdOf(config: object, space: ActionSpace): boolean {
  return 'actionDistribution' in config && config.actionDistribution === 'gaussian-state' && space.kind === 'continuous';
}

/** Rows of 2D numbers → rows of their first D. */
function leadingColumns(rows: Float32Array, d: number): Float32Array {
  const out = new Float32Array(rows.length / 2);
  for (let row = 0; row < out.length / d; row++) out.set(rows.subarray(row * 2 * d, row * 2 * d + d), row * d);
  return out;
}

/** The number of actor outputs a continuous run's policy has per agent: D, 2D for a Beta or a state-dependent std, D·K for K bins. */
export function continuousOutputs(config: object, space: ContinuousSpace): number {
  const bins = binsOf(config, space);
  if (bins) return bins.bins * space.shape[0];
  return betaOf(config, space) || stateStdOf(config, space) ? 2 * space.shape[0] : space.shape[0];
}

/** Squashes rows of D pre-tanh values (a squashed policy's means) into the box, in place: its greedy actions. */
export function squashIntoBox(squash: BoxSquash, values: Float32Array): Float32Array {
  const d = squash.centre.length;
  for (let i = 0; i < values.length; i++) values[i] = squash.centre[i % d] + squash.halfWidth[i % d] * Math.tanh(values[i]);
  return values;
}
