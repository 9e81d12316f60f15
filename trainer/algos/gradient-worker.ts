// A gradient worker: a thread with its own TensorFlow.js that computes the shards of MAPPO/IPPO
// minibatches it is given (mappo-minibatch.ts), on the rollout the update shares with it. It holds
// copies of the networks, given the update's weights with every shard; the optimizer stays with
// the update (gradient-pool.ts).

import { parentPort } from 'node:worker_threads';
import { Rng } from '@fleetmind/worlds';
import { tf, useBackend } from '../backend.js';
import { actorFromWeights } from '../nn/actor.js';
import { Mlp } from '../nn/mlp.js';
import { actionHead } from './mappo-action-head.js';
import { shardGradients, sparseInputs, type MinibatchNets, type SparseInputs } from './mappo-minibatch.js';
import type { WorkerReply, WorkerRequest, WorkerRole } from './gradient-pool.js';

if (!parentPort) throw new Error('gradient-worker.js runs as a worker thread (gradient-pool.ts starts it)');
const port = parentPort;

let roles: (WorkerRole & { nets: MinibatchNets; sparse: SparseInputs | null })[] = [];
let settings: Extract<WorkerRequest, { kind: 'init' }>['config'];

function assign(variables: tf.Variable[], values: Float32Array[]): void {
  if (values.length !== variables.length) throw new Error(`${values.length} weight arrays for ${variables.length} variables`);
  tf.tidy(() => variables.forEach((v, i) => v.assign(tf.tensor(values[i], v.shape))));
}

async function handle(request: WorkerRequest): Promise<WorkerReply> {
  switch (request.kind) {
    case 'init': {
      await useBackend(request.backend);
      settings = request.config;
      roles = request.roles.map((role) => {
        const rng = new Rng(0); // the weights arrive with every shard: the initial ones do not matter
        const actor = actorFromWeights(role.actor, rng);
        const critic = new Mlp(role.critic.spec, rng, { inputIsData: true });
        return { ...role, nets: { actor, critic, head: actionHead(role.space, request.config) }, sparse: null };
      });
      return { kind: 'ready' };
    }
    case 'rollout':
      roles[request.role].sparse = sparseInputs(roles[request.role].rollout);
      return { kind: 'ready' };
    case 'shard': {
      const role = roles[request.role];
      assign([...role.nets.actor.variables, ...role.nets.head.variables], request.actor);
      assign(role.nets.critic.variables, request.critic);
      const result = shardGradients(role.nets, settings, role.rollout, role.sparse!, request.blocks, request.count);
      const toArrays = (grads: tf.Tensor[]) => grads.map((g) => { const values = g.dataSync() as Float32Array; g.dispose(); return Float32Array.from(values); });
      return { kind: 'shard', ...result, actor: toArrays(result.actor), critic: toArrays(result.critic) };
    }
  }
}

// requests are handled one at a time, in order: the pool matches replies to requests by order
let queue = Promise.resolve();
port.on('message', (request: WorkerRequest) => {
  queue = queue.then(() => handle(request)).then(
    (reply) => port.postMessage(reply),
    (err: unknown) => port.postMessage({ kind: 'error', message: err instanceof Error ? err.stack ?? err.message : String(err) } satisfies WorkerReply),
  );
});
