// Shadow mode for rollouts: a candidate policy decides beside the live one on the same inputs —
// the same observation and, for a communicating policy, the same messages heard in each round —
// and is never acted on. It runs after the live action has gone to the actuator, so it cannot
// delay it. The agent counts how often the two agree (the same discrete action, or vectors
// within VECTOR_AGREEMENT of each other in every component) and how far apart they are.
//
// Its peers run the live policy, so the candidate hears the live policy's messages: what it would
// decide in a team still on the old bundle, which is exactly the team a canary joins. A recurrent
// candidate keeps its own memory, forgotten by the same rules as a live one's.

import type { PolicySession } from '@fleetmind/models';
import type { Decision } from './communication-rounds.js';

/** vectors closer than this in every component count as the same action */
export const VECTOR_AGREEMENT = 1e-3;

export interface ShadowInputs {
  values: Float32Array;
  agentIdInput: Float32Array;
  /** per round, the inbox and mask the live policy was given */
  rounds: { inbox: Float32Array; mask: Float32Array }[];
  capacity: number;
  /** a recurrent candidate's own state (its next comes back in the answer) */
  memory?: Float32Array;
}

/** The candidate's action on the live decision's inputs (every round's, when the live policy communicated). */
export async function shadowDecision(candidate: PolicySession, live: Decision, inputs: ShadowInputs): Promise<{ action: number; vector: Float32Array | null; nextState?: Float32Array }> {
  const pick = (out: { actions: Int32Array | Float32Array; nextState?: Float32Array }) => ({
    ...(out.actions instanceof Float32Array ? { action: 0, vector: out.actions } : { action: out.actions[0], vector: null }),
    ...(out.nextState ? { nextState: out.nextState } : {}),
  });
  if (candidate.rounds === 0) return pick(await candidate.act(inputs.values, inputs.agentIdInput, { actionOnly: true, state: inputs.memory }));
  if (live.path === 'fallback') return pick(await candidate.act(inputs.values, inputs.agentIdInput, { fallback: true, actionOnly: true, state: inputs.memory }));
  let { state } = await candidate.stage0(inputs.values, inputs.agentIdInput, inputs.memory);
  const nextState = inputs.memory ? state.slice() : undefined;
  for (let k = 1; k < candidate.rounds; k++) ({ state } = await candidate.stage(k, state, inputs.rounds[k - 1].inbox, inputs.rounds[k - 1].mask, inputs.capacity));
  const last = inputs.rounds[candidate.rounds - 1];
  return pick({ ...(await candidate.lastRoundAndFinal(state, last.inbox, last.mask, inputs.capacity, { actionOnly: true })), ...(nextState ? { nextState } : {}) });
}

export interface ShadowStats {
  decisions: number;
  /** share of decisions where the candidate chose what the live policy chose */
  agreement: number;
  /** continuous actions: the mean over decisions of the largest component difference (0 for discrete) */
  mean_abs_diff: number;
}

export class ShadowTally {
  private decisions = 0;
  private agreed = 0;
  private diffSum = 0;

  add(live: { action: number; vector: Float32Array | null }, shadow: { action: number; vector: Float32Array | null }): void {
    this.decisions++;
    if (live.vector && shadow.vector) {
      let worst = 0;
      for (let k = 0; k < live.vector.length; k++) worst = Math.max(worst, Math.abs(live.vector[k] - shadow.vector[k]));
      this.diffSum += worst;
      if (worst <= VECTOR_AGREEMENT) this.agreed++;
    } else if (live.action === shadow.action) this.agreed++;
  }

  stats(): ShadowStats {
    return { decisions: this.decisions, agreement: this.decisions ? this.agreed / this.decisions : 0, mean_abs_diff: this.decisions ? this.diffSum / this.decisions : 0 };
  }
}
