// One ONNX Runtime call for many agents of one process: the calls that the agents of a fleet
// hosted here (a simulator, a benchmark, a gateway computer) make in the same turn of the event
// loop are stacked into one batch, run once, and each agent is answered with its rows.
//
// Each call costs ONNX Runtime a fixed ~5–10 µs (feeds, the session's bookkeeping, the output
// tensors) before any arithmetic; a fleet's agents all decide in the same few turns of the loop
// (the world hands out every observation at once, and a round's messages arrive in a few socket
// reads), so 200 calls of one row become a handful of calls of many rows.
//
// Only discrete actions are batched. ONNX Runtime's kernels may sum in another order for another
// batch size, so a row's outputs can differ in the last bit from a batch of one (RoleRunner's
// rowByRow note); an argmax hides that, but a continuous action, integrated by the world, would
// make an episode depend on which agents happened to share a batch. Continuous roles keep a
// session per agent, and so do recurrent ones: their state, fed back every tick, would carry
// that last bit forward until some argmax turned on it.

import { recurrentStateSize, type PolicyOutput, type PolicySession, type RolePolicy, type StageOutput } from '@fleetmind/models';
import { onnxPolicy, type PolicyFactory } from './agent.js';
import { concatRows } from './float-rows.js';

export interface BatchStats {
  /** graph calls run */
  calls: number;
  /** the agents' calls they answered */
  carried: number;
}

interface Pending<T> {
  /** the call's inputs, each [B_call, width] row-major */
  inputs: Float32Array[];
  resolve: (out: T) => void;
  reject: (err: unknown) => void;
}

/** Calls of one kind (same graph, same options) waiting for the end of this turn. */
interface Group<T> {
  pending: Pending<T>[];
  run: (inputs: Float32Array[]) => Promise<T>;
  split: (out: T, rows: number[]) => T[];
  /** rows per call, from its first input's length */
  rowsOf: (inputs: Float32Array[]) => number;
}

export class BatchedPolicy implements PolicySession {
  readonly obsSize: number;
  readonly agentIdSize: number;
  readonly numActions: number;
  readonly actionWidth: number;
  readonly rounds: number;
  readonly stateSize = 0;
  /** by graph and options; a group's type is fixed by its key */
  private readonly groups = new Map<string, Group<unknown>>();
  private flushing = false;

  /** stats: the graph calls run, and the agents' calls they carried (carried / calls = mean batch) */
  constructor(private readonly inner: PolicySession, private readonly messageSize: number, private readonly stats: BatchStats = { calls: 0, carried: 0 }) {
    this.obsSize = inner.obsSize;
    this.agentIdSize = inner.agentIdSize;
    this.numActions = inner.numActions;
    this.actionWidth = inner.actionWidth;
    this.rounds = inner.rounds;
    if (inner.stateSize > 0) throw new Error('a recurrent policy is not batched: each agent keeps its own session (see above)');
  }

  agentIds(indices: ArrayLike<number>): Float32Array {
    return this.inner.agentIds(indices);
  }

  act(obs: Float32Array, agentId: Float32Array, options: { fallback?: boolean; actionOnly?: boolean } = {}): Promise<PolicyOutput> {
    const key = `act|${options.fallback ? 1 : 0}|${options.actionOnly ? 1 : 0}`;
    return this.enqueue(key, [obs, agentId], () => this.policyGroup(([o, id]) => this.inner.act(o, id, options), (inputs) => inputs[0].length / this.obsSize));
  }

  stage0(obs: Float32Array, agentId: Float32Array): Promise<StageOutput> {
    return this.enqueue('stage0', [obs, agentId], () => this.stageGroup(([o, id]) => this.inner.stage0(o, id), (inputs) => inputs[0].length / this.obsSize));
  }

  stage(k: number, state: Float32Array, inbox: Float32Array, mask: Float32Array, capacity: number): Promise<StageOutput> {
    return this.enqueue(`stage|${k}|${capacity}`, [state, inbox, mask], () => this.stageGroup(([s, i, m]) => this.inner.stage(k, s, i, m, capacity), (inputs) => inputs[0].length / this.messageSize));
  }

  final(state: Float32Array, options: { actionOnly?: boolean } = {}): Promise<PolicyOutput> {
    return this.enqueue(`final|${options.actionOnly ? 1 : 0}`, [state], () => this.policyGroup(([s]) => this.inner.final(s, options), (inputs) => inputs[0].length / this.messageSize));
  }

  lastRoundAndFinal(state: Float32Array, inbox: Float32Array, mask: Float32Array, capacity: number, options: { actionOnly?: boolean } = {}): Promise<PolicyOutput> {
    return this.enqueue(`last|${capacity}|${options.actionOnly ? 1 : 0}`, [state, inbox, mask], () => this.policyGroup(([s, i, m]) => this.inner.lastRoundAndFinal(s, i, m, capacity, options), (inputs) => inputs[0].length / this.messageSize));
  }

  private enqueue<T extends PolicyOutput | StageOutput>(key: string, inputs: Float32Array[], make: () => Group<T>): Promise<T> {
    let group = this.groups.get(key) as Group<T> | undefined;
    if (!group) {
      group = make();
      this.groups.set(key, group as Group<unknown>);
    }
    const g = group;
    return new Promise<T>((resolve, reject) => {
      g.pending.push({ inputs, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        // after the I/O callbacks of this turn: every agent that has its inputs by then is in the batch
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushing = false;
    for (const group of this.groups.values()) {
      if (group.pending.length === 0) continue;
      void this.runGroup(group);
    }
  }

  private async runGroup<T>(group: Group<T>): Promise<void> {
    const all = group.pending;
    group.pending = [];
    // a call whose inputs do not hold whole rows would shift every other agent's rows: it runs alone (and fails alone)
    const calls: Pending<T>[] = [];
    for (const c of all) {
      const rows = group.rowsOf(c.inputs);
      if (Number.isInteger(rows) && rows > 0) calls.push(c);
      else void this.runCalls(group, [c]);
    }
    if (calls.length > 0) await this.runCalls(group, calls);
  }

  private async runCalls<T>(group: Group<T>, calls: Pending<T>[]): Promise<void> {
    this.stats.calls++;
    this.stats.carried += calls.length;
    try {
      if (calls.length === 1) {
        calls[0].resolve(await group.run(calls[0].inputs));
        return;
      }
      const stacked = calls[0].inputs.map((_, j) => concatRows(calls.map((c) => c.inputs[j])));
      const rows = calls.map((c) => group.rowsOf(c.inputs));
      const parts = group.split(await group.run(stacked), rows);
      calls.forEach((c, i) => c.resolve(parts[i]));
    } catch (err) {
      for (const c of calls) c.reject(err);
    }
  }

  private policyGroup(run: (inputs: Float32Array[]) => Promise<PolicyOutput>, rowsOf: (inputs: Float32Array[]) => number): Group<PolicyOutput> {
    return {
      pending: [], run, rowsOf,
      split: (out, rows) => {
        const total = rows.reduce((a, b) => a + b, 0);
        const logitsWidth = out.logits.length / total;
        const actionWidth = out.actions.length / total;
        let at = 0;
        return rows.map((r) => {
          // (views of the batch's outputs, not copies: each is its caller's alone, and only read)
          const part = { logits: out.logits.subarray(at * logitsWidth, (at + r) * logitsWidth), actions: out.actions.subarray(at * actionWidth, (at + r) * actionWidth) };
          at += r;
          return part;
        });
      },
    };
  }

  private stageGroup(run: (inputs: Float32Array[]) => Promise<StageOutput>, rowsOf: (inputs: Float32Array[]) => number): Group<StageOutput> {
    const H = this.messageSize;
    return {
      pending: [], run, rowsOf,
      split: (out, rows) => {
        let at = 0;
        return rows.map((r) => {
          const part = { message: out.message.subarray(at * H, (at + r) * H), state: out.state.subarray(at * H, (at + r) * H), ...(out.speaks ? { speaks: out.speaks.subarray(at, at + r) } : {}) };
          at += r;
          return part;
        });
      },
    };
  }
}

/**
 * A PolicyFactory whose agents share one BatchedPolicy per role (per loaded bundle): give the
 * agents of a process the same factory. Continuous and recurrent roles are not batched (see above).
 */
export function batchedInference(inner: PolicyFactory = onnxPolicy): PolicyFactory & { stats: BatchStats } {
  const byRole = new WeakMap<RolePolicy, Map<number, BatchedPolicy>>();
  const stats: BatchStats = { calls: 0, carried: 0 };
  const factory = (role: RolePolicy, messageSize: number): PolicySession => {
    if (role.spec.action.kind !== 'discrete' || recurrentStateSize(role.spec) > 0) return inner(role, messageSize);
    let sizes = byRole.get(role);
    if (!sizes) byRole.set(role, (sizes = new Map()));
    let session = sizes.get(messageSize);
    if (!session) {
      session = new BatchedPolicy(inner(role, messageSize), messageSize, stats);
      sizes.set(messageSize, session);
    }
    return session;
  };
  return Object.assign(factory, { stats });
}
