// One decision for whole teams at once, through a role's graphs: the arithmetic every robot of
// the team performs in a tick, batched over E teams of k agents. For a CommNet, round k's inbox
// of agent i holds its teammates' messages (each quantized once, as it would cross the wire) in
// teammate order without itself, and the mask says which of them arrived. A gated policy's
// silent agents (stage 0's gate) reach nobody in any round, as on the wire.

import { quantizeRoundTrip, type Quantization } from '@fleetmind/wire';
import type { PolicyOutput } from './policy-session.js';
import type { RoleRunner } from './role-runner.js';

/**
 * obs: [E·k, obsSize] (env-major); agentId: [E·k, idSize];
 * masks: [E, K, k, k], masks[e, r, i, j] = 1 when i heard j in round r (ignored by an MLP);
 * memory: a recurrent actor's state [E·k, stateSize] (its next is in the output).
 */
export async function teamStep(
  runner: RoleRunner, obs: Float32Array, agentId: Float32Array, masks: Float32Array | null, teamSize: number, quantization: Quantization, memory?: Float32Array,
): Promise<PolicyOutput> {
  if (runner.rounds === 0) return runner.act(obs, agentId, memory ? { state: memory } : {});
  if (!masks) throw new Error('a CommNet team step needs masks');
  const k = teamSize;
  const H = runner.messageSize;
  const rows = obs.length / runner.obsSize;
  const envs = rows / k;
  const capacity = k - 1;
  const first = await runner.stage0(obs, agentId, memory);
  let { message, state } = first;
  const speaks = first.speaks;
  // a CommNet-GRU's next state is h⁰ (its stage 0's)
  const nextState = memory ? state.slice() : undefined;
  for (let round = 1; round <= runner.rounds; round++) {
    const sent = new Float32Array(message.length);
    for (let row = 0; row < rows; row++) sent.set(quantizeRoundTrip(message.subarray(row * H, (row + 1) * H), quantization), row * H);
    const inbox = new Float32Array(rows * capacity * H);
    const mask = new Float32Array(rows * capacity);
    for (let env = 0; env < envs; env++) {
      for (let i = 0; i < k; i++) {
        const row = env * k + i;
        let slot = 0;
        for (let j = 0; j < k; j++) {
          if (j === i) continue;
          inbox.set(sent.subarray((env * k + j) * H, (env * k + j + 1) * H), (row * capacity + slot) * H);
          mask[row * capacity + slot] = speaks && !speaks[env * k + j] ? 0 : masks[((env * runner.rounds + round - 1) * k + i) * k + j];
          slot++;
        }
      }
    }
    if (round === runner.rounds) return { ...(await runner.lastRoundAndFinal(state, inbox, mask, capacity)), ...(nextState ? { nextState } : {}), ...(speaks ? { speaks } : {}) }; // as a robot makes it: one call
    ({ message, state } = await runner.stage(round, state, inbox, mask, capacity));
  }
  throw new Error('unreachable: a CommNet has at least one round');
}
