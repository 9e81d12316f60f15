// Running one role's graphs on a batch of agents with ONNX Runtime: the calls a robot makes
// each tick (with a batch of one) and the in-process evaluator makes for a whole team. Input
// tensors are reused between calls of the same batch size.
//
// rowByRow runs a batch as that many calls of one row: ONNX Runtime's kernels may sum in another
// order for another batch size, so a batched output can differ from a robot's batch of one in the
// last bit. An argmax hides that; a continuous action, integrated by the world, does not, so the
// in-process evaluator runs continuous policies row by row to play exactly the fleet's episodes.

import * as ort from 'onnxruntime-node';
import type { RolePolicy } from '../bundle/loader.js';
import { recurrentStateSize } from '../bundle/manifest.js';
import { JOINED_INPUT } from '../onnx/graph-join.js';
import type { ActOptions, PolicyOutput, PolicySession, StageOutput } from './policy-session.js';

/** rows of a (width n) and b (width k) side by side: [rows, n + k] */
function joinRows(a: Float32Array, n: number, b: Float32Array, k: number, rows: number): Float32Array {
  const out = new Float32Array(rows * (n + k));
  for (let r = 0; r < rows; r++) {
    out.set(a.subarray(r * n, (r + 1) * n), r * (n + k));
    out.set(b.subarray(r * k, (r + 1) * k), r * (n + k) + n);
  }
  return out;
}

export class RoleRunner implements PolicySession {
  readonly obsSize: number;
  readonly agentIdSize: number;
  readonly numActions: number;
  readonly actionWidth: number;
  /** communication rounds (0: an MLP actor) */
  readonly rounds: number;
  readonly stateSize: number;

  constructor(readonly policy: RolePolicy, readonly messageSize: number, private readonly options: { rowByRow?: boolean } = {}) {
    this.obsSize = policy.spec.observation.size;
    this.agentIdSize = policy.spec.agent_id_size;
    const action = policy.spec.action;
    this.numActions = action.kind === 'discrete' ? action.n : action.size;
    this.actionWidth = action.kind === 'discrete' ? 1 : action.size;
    this.rounds = Math.max(0, policy.stages.length - 1);
    this.stateSize = recurrentStateSize(policy.spec);
  }

  /** One-hot agent indices [B, idSize] for the given indices within the role. */
  agentIds(indices: ArrayLike<number>): Float32Array {
    const out = new Float32Array(indices.length * this.agentIdSize);
    if (this.agentIdSize > 0) for (let b = 0; b < indices.length; b++) out[b * this.agentIdSize + indices[b]] = 1;
    return out;
  }

  /**
   * MLP actor, or the no-message fallback of a CommNet: obs [B, obsSize] → action.
   * actionOnly: skip fetching the logits (a robot needs only the action; it saves a copy).
   */
  async act(obs: Float32Array, agentId: Float32Array, { fallback = false, actionOnly = false, state }: ActOptions = {}): Promise<PolicyOutput> {
    const session = fallback || !this.policy.actor ? this.policy.fallback : this.policy.actor;
    const fetches = actionOnly ? (this.stateSize > 0 ? ['action', 'next_state'] : ['action']) : undefined;
    return this.policyOut(await this.run(session, this.actorFeeds(session, obs, agentId, state), fetches));
  }

  /** CommNet stage 0; a CommNet-GRU's also takes its state (its next is the output's `state`: h⁰) */
  async stage0(obs: Float32Array, agentId: Float32Array, state?: Float32Array): Promise<StageOutput> {
    return this.stageOut(await this.run(this.policy.stages[0], this.actorFeeds(this.policy.stages[0], obs, agentId, state)));
  }

  /** round k ≥ 1: state [B, H], inbox [B, C, H], mask [B, C] */
  async stage(k: number, state: Float32Array, inbox: Float32Array, mask: Float32Array, capacity: number): Promise<StageOutput> {
    return this.stageOut(await this.run(this.policy.stages[k], this.roundFeeds(state, inbox, mask, capacity)));
  }

  async final(state: Float32Array, { actionOnly = false } = {}): Promise<PolicyOutput> {
    const b = state.length / this.messageSize;
    const feeds = { state: new ort.Tensor('float32', state, [b, this.messageSize]) };
    return this.policyOut(await this.run(this.policy.final!, feeds, actionOnly ? ['action'] : undefined));
  }

  async lastRoundAndFinal(state: Float32Array, inbox: Float32Array, mask: Float32Array, capacity: number, { actionOnly = false } = {}): Promise<PolicyOutput> {
    const fused = this.policy.lastRoundAndFinal;
    if (!fused) return this.final((await this.stage(this.rounds, state, inbox, mask, capacity)).state, { actionOnly });
    return this.policyOut(await this.run(fused, this.roundFeeds(state, inbox, mask, capacity), actionOnly ? ['action'] : undefined));
  }

  /** a round's inputs: state [B, H], inbox [B, C, H], mask [B, C] */
  private roundFeeds(state: Float32Array, inbox: Float32Array, mask: Float32Array, capacity: number): Record<string, ort.Tensor> {
    const b = state.length / this.messageSize;
    return {
      state: new ort.Tensor('float32', state, [b, this.messageSize]),
      inbox: new ort.Tensor('float32', inbox, [b, capacity, this.messageSize]),
      mask: new ort.Tensor('float32', mask, [b, capacity]),
    };
  }

  /** One call, or (rowByRow) one call per row of the batch with the outputs put back together in order. */
  private async run(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>, fetches?: string[]): Promise<ort.InferenceSession.ReturnType> {
    const batch = Object.values(feeds)[0].dims[0];
    if (!this.options.rowByRow || batch <= 1) return fetches ? session.run(feeds, fetches) : session.run(feeds);
    const parts: ort.InferenceSession.ReturnType[] = [];
    for (let row = 0; row < batch; row++) {
      const one: Record<string, ort.Tensor> = {};
      for (const [name, t] of Object.entries(feeds)) {
        const width = t.data.length / batch;
        one[name] = new ort.Tensor('float32', (t.data as Float32Array).slice(row * width, (row + 1) * width), [1, ...t.dims.slice(1)]);
      }
      parts.push(await (fetches ? session.run(one, fetches) : session.run(one)));
    }
    const joined: Record<string, ort.Tensor> = {};
    for (const name of Object.keys(parts[0])) {
      const first = parts[0][name];
      const width = first.data.length;
      const data = first.type === 'int64' ? new BigInt64Array(width * batch) : new Float32Array(width * batch);
      parts.forEach((p, row) => (data as Float32Array).set(p[name].data as Float32Array, row * width));
      joined[name] = new ort.Tensor(first.type as 'float32', data as Float32Array, [batch, ...first.dims.slice(1)]);
    }
    return joined as ort.InferenceSession.ReturnType;
  }

  /** obs and agent_id (one row each, or both in one where the session takes them so) and, for a recurrent policy, its state (required) */
  private actorFeeds(session: ort.InferenceSession, obs: Float32Array, agentId: Float32Array, state?: Float32Array): Record<string, ort.Tensor> {
    const b = obs.length / this.obsSize;
    if (!Number.isInteger(b)) throw new Error(`observation batch of ${obs.length} values is not a multiple of ${this.obsSize}`);
    const feeds: Record<string, ort.Tensor> = {};
    if (this.policy.joined.has(session)) feeds[JOINED_INPUT] = new ort.Tensor('float32', joinRows(obs, this.obsSize, agentId, this.agentIdSize, b), [b, this.obsSize + this.agentIdSize]);
    else {
      feeds.obs = new ort.Tensor('float32', obs, [b, this.obsSize]);
      if (this.agentIdSize > 0) feeds.agent_id = new ort.Tensor('float32', agentId, [b, this.agentIdSize]);
    }
    if (this.stateSize > 0) {
      if (!state || state.length !== b * this.stateSize) throw new Error(`a recurrent policy needs its state: ${b} × ${this.stateSize} numbers, ${state?.length ?? 'none'} given`);
      feeds.state = new ort.Tensor('float32', state, [b, this.stateSize]);
    }
    return feeds;
  }

  private policyOut(out: ort.InferenceSession.ReturnType): PolicyOutput {
    const logits = (out.logits?.data as Float32Array | undefined) ?? new Float32Array(0);
    const nextState = out.next_state ? { nextState: out.next_state.data as Float32Array } : {};
    if (out.action.type === 'float32') return { logits, actions: out.action.data as Float32Array, ...nextState };
    return { logits, actions: Int32Array.from(out.action.data as BigInt64Array, (a) => Number(a)), ...nextState };
  }

  private stageOut(out: ort.InferenceSession.ReturnType): StageOutput {
    const gate = out.gate?.data as BigInt64Array | undefined;
    return { message: out.message.data as Float32Array, state: out.next_state.data as Float32Array, ...(gate ? { speaks: Uint8Array.from(gate, (g) => (g === 1n ? 1 : 0)) } : {}) };
  }
}
