// The trained actors as a Controller: each agent's greedy action from its own observation.

import { Rng, type Controller, type World } from '@fleetmind/sim-harness/worlds';
import { Mlp } from '../nn/mlp.js';
import { actorInputSize, writeActorInputs, type MappoCheckpoint } from '../algos/mappo.js';
import { actCategorical } from '../rl/categorical.js';

export function greedyPolicy(checkpoint: MappoCheckpoint, world: World): Controller {
  const agentId = checkpoint.config.agentId;
  const n = world.possibleAgents.length;
  const roles = checkpoint.roles.map((saved) => {
    const agents = world.roles.flatMap((r, i) => (r === saved.role ? [i] : []));
    if (agents.length === 0) throw new Error(`the checkpoint's role "${saved.role}" does not exist in ${world.id}`);
    const obsDim = world.observationSpace(agents[0]).shape[0];
    const expected = actorInputSize(obsDim, agents.length, agentId);
    if (saved.actor.spec.sizes[0] !== expected) {
      throw new Error(`the checkpoint's ${saved.role} actor takes ${saved.actor.spec.sizes[0]} inputs, ${world.id} gives ${expected}`);
    }
    const actor = new Mlp(saved.actor.spec, new Rng(0));
    actor.setWeights(saved.actor);
    return { agents, obsDim, actor, numActions: saved.actor.spec.sizes[saved.actor.spec.sizes.length - 1] };
  });
  return {
    act(observations, actions) {
      const e = actions.length / n;
      for (const role of roles) {
        const k = role.agents.length;
        const inDim = role.actor.spec.sizes[0];
        const x = new Float32Array(e * k * inDim);
        writeActorInputs(role, observations, e, agentId, x);
        const logits = role.actor.predict(x, e * k);
        actCategorical(logits, role.numActions, null, actions, (row) => Math.floor(row / k) * n + role.agents[row % k], new Float32Array(e * k));
      }
    },
  };
}
