// The trained actors as a Controller: each agent's greedy action from its own observation and,
// for a CommNet, from the teammates it heard under the given communication conditions.

import { evaluationRng, Rng, TeamChannel, type BatchedWorld, type Controller } from '@fleetmind/sim-harness/worlds';
import { actorFromWeights, actorLogits } from '../nn/actor.js';
import { actorInputSize, writeActorInputs, type MappoCheckpoint } from '../algos/mappo.js';
import { actCategorical } from '../rl/categorical.js';

export interface EvalComm {
  /** probability that a message on one link in one round is lost (default 0) */
  msgDropout?: number;
  /** probability that an agent is silent for the whole episode (default 0) */
  agentDropout?: number;
  /** seeds the lost messages and the silent agents */
  seed?: number;
}

export function greedyPolicy(checkpoint: MappoCheckpoint, world: BatchedWorld, comm: EvalComm = {}): Controller {
  const agentId = checkpoint.config.agentId;
  const n = world.possibleAgents.length;
  const rng = evaluationRng(comm.seed ?? 0);
  const roles = checkpoint.roles.map((saved) => {
    const agents = world.roles.flatMap((r, i) => (r === saved.role ? [i] : []));
    if (agents.length === 0) throw new Error(`the checkpoint's role "${saved.role}" does not exist in ${world.id}`);
    const obsDim = world.observationSpace(agents[0]).shape[0];
    const expected = actorInputSize(obsDim, agents.length, agentId);
    const actor = actorFromWeights(saved.actor, new Rng(0));
    if (actor.inputSize !== expected) {
      throw new Error(`the checkpoint's ${saved.role} actor takes ${actor.inputSize} inputs, ${world.id} gives ${expected}`);
    }
    const channel = TeamChannel.forEvaluation(world, agents, {
      rounds: actor.rounds,
      msgDropout: comm.msgDropout ?? 0,
      commRadius: checkpoint.config.commRadius ?? null,
      agentDropout: comm.agentDropout ?? 0,
    }, rng);
    return { agents, obsDim, actor, channel };
  });
  return {
    act(observations, actions) {
      const e = actions.length / n;
      for (const role of roles) {
        const k = role.agents.length;
        const x = new Float32Array(e * k * role.actor.inputSize);
        writeActorInputs(role, observations, e, agentId, x);
        const masks = role.actor.rounds > 0 ? role.channel.sample(rng) : null;
        const logits = actorLogits(role.actor, x, masks, k);
        actCategorical(logits, role.actor.numActions, null, actions, (row) => Math.floor(row / k) * n + role.agents[row % k], new Float32Array(e * k));
      }
    },
  };
}
