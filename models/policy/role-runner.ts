// Running one role's graphs on a batch of agents with ONNX Runtime: the calls a robot makes
// each tick (with a batch of one) and the in-process evaluator makes for a whole team. Input
// tensors are reused between calls of the same batch size.

import * as ort from 'onnxruntime-node';
import type { RolePolicy } from '../bundle/loader.js';
import type { PolicyOutput, PolicySession, StageOutput } from './policy-session.js';

export class RoleRunner implements PolicySession {
  readonly obsSize: number;
  readonly agentIdSize: number;
  readonly numActions: number;
  /** communication rounds (0: an MLP actor) */
  readonly rounds: number;

  constructor(readonly policy: RolePolicy, readonly messageSize: number) {
    this.obsSize = policy.spec.observation.size;
    this.agentIdSize = policy.spec.agent_id_size;
    this.numActions = policy.spec.action.n;
    this.rounds = Math.max(0, policy.stages.length - 1);
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
  async act(obs: Float32Array, agentId: Float32Array, { fallback = false, actionOnly = false } = {}): Promise<PolicyOutput> {
    const session = fallback || !this.policy.actor ? this.policy.fallback : this.policy.actor;
    const feeds = this.actorFeeds(obs, agentId);
    return this.policyOut(await (actionOnly ? session.run(feeds, ['action']) : session.run(feeds)));
  }

  async stage0(obs: Float32Array, agentId: Float32Array): Promise<StageOutput> {
    return this.stageOut(await this.policy.stages[0].run(this.actorFeeds(obs, agentId)));
  }

  /** round k ≥ 1: state [B, H], inbox [B, C, H], mask [B, C] */
  async stage(k: number, state: Float32Array, inbox: Float32Array, mask: Float32Array, capacity: number): Promise<StageOutput> {
    const b = state.length / this.messageSize;
    return this.stageOut(await this.policy.stages[k].run({
      state: new ort.Tensor('float32', state, [b, this.messageSize]),
      inbox: new ort.Tensor('float32', inbox, [b, capacity, this.messageSize]),
      mask: new ort.Tensor('float32', mask, [b, capacity]),
    }));
  }

  async final(state: Float32Array, { actionOnly = false } = {}): Promise<PolicyOutput> {
    const b = state.length / this.messageSize;
    const feeds = { state: new ort.Tensor('float32', state, [b, this.messageSize]) };
    return this.policyOut(await (actionOnly ? this.policy.final!.run(feeds, ['action']) : this.policy.final!.run(feeds)));
  }

  private actorFeeds(obs: Float32Array, agentId: Float32Array): Record<string, ort.Tensor> {
    const b = obs.length / this.obsSize;
    if (!Number.isInteger(b)) throw new Error(`observation batch of ${obs.length} values is not a multiple of ${this.obsSize}`);
    const feeds: Record<string, ort.Tensor> = { obs: new ort.Tensor('float32', obs, [b, this.obsSize]) };
    if (this.agentIdSize > 0) feeds.agent_id = new ort.Tensor('float32', agentId, [b, this.agentIdSize]);
    return feeds;
  }

  private policyOut(out: ort.InferenceSession.ReturnType): PolicyOutput {
    const action = out.action.data as BigInt64Array;
    return { logits: (out.logits?.data as Float32Array | undefined) ?? new Float32Array(0), actions: Int32Array.from(action, (a) => Number(a)) };
  }

  private stageOut(out: ort.InferenceSession.ReturnType): StageOutput {
    return { message: out.message.data as Float32Array, state: out.next_state.data as Float32Array };
  }
}
