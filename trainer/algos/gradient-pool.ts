// Threads that compute shards of MAPPO/IPPO minibatches beside the update's own (data-parallel
// gradients). Each is a gradient worker (gradient-worker.ts) with its own TensorFlow.js; the
// rollout is shared memory (SharedArrayBuffer), so a shard costs a message of the current weights
// and the shard's block numbers, and its answer the gradients. The update adds the shards'
// gradients in shard order, whichever thread computed them: a run's numbers depend on its
// gradientShards, never on how many threads it had.

import { Worker } from 'node:worker_threads';
import type { ActionSpace } from '@fleetmind/worlds';
import type { BackendName } from '../backend.js';
import type { ActorWeights } from '../nn/actor.js';
import type { MlpWeights } from '../nn/mlp.js';
import type { MappoConfig } from './mappo-config.js';
import type { RoleRollout, ShardResult } from './mappo-minibatch.js';

/** what a worker needs of a role: its networks' shapes, its action space, its shared rollout */
export interface WorkerRole {
  actor: ActorWeights;
  critic: MlpWeights;
  space: ActionSpace;
  rollout: RoleRollout;
}

export type WorkerRequest =
  | { kind: 'init'; backend: BackendName; config: MappoConfig; roles: WorkerRole[] }
  /** the role's rollout (shared) holds a new update's data */
  | { kind: 'rollout'; role: number }
  | { kind: 'shard'; role: number; actor: Float32Array[]; critic: Float32Array[]; blocks: Int32Array; count: number };

export type WorkerReply =
  | { kind: 'ready' }
  | ({ kind: 'shard' } & ShardResult<Float32Array>)
  | { kind: 'error'; message: string };

export class GradientWorkerError extends Error {
  readonly code = 'FM_ERR_GRADIENT_WORKER';
}

/** One worker thread and its requests in flight (answered in order). */
class GradientThread {
  private readonly pending: { resolve: (reply: WorkerReply) => void; reject: (err: Error) => void }[] = [];
  private failure: Error | null = null;

  constructor(private readonly worker: Worker) {
    worker.on('message', (reply: WorkerReply) => {
      const waiting = this.pending.shift();
      if (!waiting) return;
      if (reply.kind === 'error') waiting.reject(new GradientWorkerError(`a gradient worker failed: ${reply.message}`));
      else waiting.resolve(reply);
    });
    const fail = (err: Error) => {
      this.failure = new GradientWorkerError(`a gradient worker stopped: ${err.message}`);
      for (const waiting of this.pending.splice(0)) waiting.reject(this.failure);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => { if (code !== 0 || this.pending.length > 0) fail(new Error(`exit code ${code}`)); });
  }

  request(message: WorkerRequest): Promise<WorkerReply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.worker.postMessage(message);
    });
  }

  async close(): Promise<void> {
    this.pending.splice(0);
    await this.worker.terminate();
  }
}

export class GradientPool {
  /** each thread's answer to the latest newRollout */
  private prepared: Promise<unknown>[];

  private constructor(private readonly threads: GradientThread[]) {
    this.prepared = threads.map(() => Promise.resolve());
  }

  /** `count` worker threads, each with the networks of `roles` (their weights come with each shard) */
  static async start(count: number, backend: BackendName, config: MappoConfig, roles: WorkerRole[]): Promise<GradientPool> {
    const threads = Array.from({ length: count }, () => new GradientThread(new Worker(new URL('./gradient-worker.js', import.meta.url))));
    const pool = new GradientPool(threads);
    try {
      await Promise.all(threads.map((thread) => thread.request({ kind: 'init', backend, config, roles })));
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  get size(): number {
    return this.threads.length;
  }

  /** every worker: role `role`'s shared rollout holds a new update's data (call before its shards) */
  newRollout(role: number): void {
    // (answered in order before any shard that follows; a failure surfaces with the next shard)
    this.prepared = this.threads.map((thread) => {
      const answer = thread.request({ kind: 'rollout', role });
      answer.catch(() => undefined); // (not unhandled while no shard waits on it)
      return answer;
    });
  }

  /** shard `blocks` of role `role`'s minibatch of `count` rows, on worker `thread`, at these weights */
  async shard(thread: number, role: number, actor: Float32Array[], critic: Float32Array[], blocks: Int32Array, count: number): Promise<ShardResult<Float32Array>> {
    const [, reply] = await Promise.all([this.prepared[thread], this.threads[thread].request({ kind: 'shard', role, actor, critic, blocks, count })]);
    if (reply.kind !== 'shard') throw new GradientWorkerError(`a gradient worker answered ${reply.kind} to a shard`);
    return reply;
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((thread) => thread.close()));
  }
}
