// One role's policy as the runtime calls it, batch by batch: the no-communication path (an MLP
// actor, a recurrent one with its state, or a CommNet's fallback graph) and a CommNet's stages. RoleRunner runs it on ONNX
// Runtime; a simulator wraps it to inject faults (slow inference), and a test can stand in for
// it. Every implementation passes the same contract suite (test/contracts/policy-session.ts).

export interface PolicyOutput {
  /** [B, A] (discrete actions; empty when only the action was asked for, and for continuous ones) */
  logits: Float32Array;
  /** [B] greedy action indices (discrete), or [B, D] action vectors (continuous: the mean) */
  actions: Int32Array | Float32Array;
  /** a recurrent actor: [B, stateSize], the state to give the next call */
  nextState?: Float32Array;
  /** a gated policy's team step (team-step.ts): [B], 1 where the agent spoke, 0 where it chose silence */
  speaks?: Uint8Array;
}

export interface StageOutput {
  /** [B, H] this agent's message for the next round */
  message: Float32Array;
  /** [B, H] */
  state: Float32Array;
  /** a gated policy's stage 0: [B], 1 where the agent speaks this tick, 0 where it chose silence */
  speaks?: Uint8Array;
}

export interface ActOptions {
  fallback?: boolean;
  actionOnly?: boolean;
  /** a recurrent actor's state [B, stateSize] (required by one) */
  state?: Float32Array;
}

export interface PolicySession {
  readonly obsSize: number;
  readonly agentIdSize: number;
  /** discrete: the number of actions; continuous: the vector's length */
  readonly numActions: number;
  /** numbers per action in PolicyOutput.actions: 1 (an index) or the vector's length */
  readonly actionWidth: number;
  /** communication rounds (0: an MLP actor) */
  readonly rounds: number;
  /** numbers of state a recurrent actor carries per agent between calls of act() (0: none) */
  readonly stateSize: number;
  /** One-hot agent indices [B, idSize] for the given indices within the role. */
  agentIds(indices: ArrayLike<number>): Float32Array;
  /**
   * MLP actor, or the no-message fallback of a CommNet: obs [B, obsSize] → action; actionOnly skips
   * the logits. A recurrent actor also takes `state` [B, stateSize] (zeros: nothing remembered)
   * and returns nextState.
   */
  act(obs: Float32Array, agentId: Float32Array, options?: ActOptions): Promise<PolicyOutput>;
  /** CommNet stage 0: obs → the first message and state; a CommNet-GRU's also takes its state [B, stateSize] (the output's state is its next) */
  stage0(obs: Float32Array, agentId: Float32Array, state?: Float32Array): Promise<StageOutput>;
  /** round k ≥ 1: state [B, H], inbox [B, C, H], mask [B, C] */
  stage(k: number, state: Float32Array, inbox: Float32Array, mask: Float32Array, capacity: number): Promise<StageOutput>;
  /** the CommNet's last graph: state → action */
  final(state: Float32Array, options?: { actionOnly?: boolean }): Promise<PolicyOutput>;
  /** the last round k = rounds and the final graph together: exactly final(stage(k, …).state), in one call where it can */
  lastRoundAndFinal(state: Float32Array, inbox: Float32Array, mask: Float32Array, capacity: number, options?: { actionOnly?: boolean }): Promise<PolicyOutput>;
}
