// The slow_inference fault at the policy seam: a PolicySession that waits `delayMs()` before
// each call of the one it wraps, as an overloaded or thermally throttled device would. The
// agent cannot tell: it is the same interface its ONNX Runtime session implements.

import type { PolicySession } from '@fleetmind/models';

export function slowedPolicy(inner: PolicySession, delayMs: () => number): PolicySession {
  const wait = async () => {
    const ms = delayMs();
    if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
  };
  return {
    obsSize: inner.obsSize,
    agentIdSize: inner.agentIdSize,
    numActions: inner.numActions,
    actionWidth: inner.actionWidth,
    rounds: inner.rounds,
    stateSize: inner.stateSize,
    agentIds: (indices) => inner.agentIds(indices),
    act: async (obs, agentId, options) => { await wait(); return inner.act(obs, agentId, options); },
    stage0: async (obs, agentId, state) => { await wait(); return inner.stage0(obs, agentId, state); },
    stage: async (k, state, inbox, mask, capacity) => { await wait(); return inner.stage(k, state, inbox, mask, capacity); },
    final: async (state, options) => { await wait(); return inner.final(state, options); },
    lastRoundAndFinal: async (state, inbox, mask, capacity, options) => { await wait(); return inner.lastRoundAndFinal(state, inbox, mask, capacity, options); },
  };
}
