// A trained run as a Controller: each agent's greedy action from its own observation (the actor's
// argmax or, for continuous actions, the greedy action its outputs give (rl/greedy-actions.ts: the
// Gaussian's mean, squashed where the run squashed its actions, or a Beta's mode, or each
// component's argmax bin); or the Q-network's for IQL/VDN/QMIX) and, for a CommNet, from the teammates it heard
// under the given communication conditions. A recurrent actor remembers: each agent's state is
// zeroed at its episode's start and after a step it was not in, as in training. A tabular run
// looks its action up by the world's discretized state.

import { agentsOfRole, evaluationRng, openWorld, Rng, TeamChannel, type World, type Controller } from '@fleetmind/worlds';
import { actorFromWeights, actorLogits, newActorMemory, type ActorMemory } from '../nn/actor.js';
import { Forgetting } from './forgetting.js';
import { actorInputSize, writeActorInputs } from '../nn/agent-inputs.js';
import { actCategorical } from '../rl/categorical.js';
import { continuousOutputs, greedyContinuous } from '../rl/greedy-actions.js';
import { greedyAction, tablesOf } from '../algos/iql-tabular.js';
import { isTabular, type TabularIqlCheckpoint, type TrainingCheckpoint } from '../runs/checkpoint-schema.js';

export interface EvalComm {
  /** probability that a message on one link in one round is lost (default 0) */
  msgDropout?: number;
  /** probability that an agent is silent for the whole episode (default 0) */
  agentDropout?: number;
  /** seeds the lost messages and the silent agents */
  seed?: number;
}

export function greedyPolicy(checkpoint: TrainingCheckpoint, world: World, comm: EvalComm = {}): Controller {
  if (isTabular(checkpoint)) return tabularPolicy(checkpoint, world);
  const { config } = checkpoint;
  const agentId = config.agentId;
  const commRadius = config.algo === 'mappo' || config.algo === 'ippo' ? config.commRadius : null;
  const n = world.possibleAgents.length;
  const rng = evaluationRng(comm.seed ?? 0);
  const trainedOn = openWorld(config.world, { config: config.worldConfig });
  const roles = checkpoint.roles.map((saved) => {
    const agents = agentsOfRole(world.roles, saved.role);
    if (agents.length === 0) throw new Error(`the checkpoint's role "${saved.role}" does not exist in ${world.id}`);
    const obsDim = world.observationSpace(agents[0]).shape[0];
    const expected = actorInputSize(obsDim, agents.length, agentId);
    const actor = actorFromWeights(saved.actor, new Rng(0));
    if (actor.inputSize !== expected) {
      throw new Error(`the checkpoint's ${saved.role} actor takes ${actor.inputSize} inputs, ${world.id} gives ${expected}`);
    }
    const space = world.actionSpace(agents[0]);
    // numbers per action: 1 (the argmax's index) or the box's length (the output itself: the mean)
    const width = space.kind === 'discrete' ? 1 : space.shape[0];
    const outputs = space.kind === 'discrete' ? space.n : continuousOutputs(config, space);
    // the run's own world says what the actor chooses (the output count cannot: 5 logits or a Box of 5)
    const trained = trainedOn.actionSpace(agents[0]).kind;
    if (trained !== space.kind) throw new Error(`the checkpoint's ${saved.role} actor chooses ${trained} actions; ${world.id} here takes ${space.kind} ones`);
    if (actor.numActions !== outputs) {
      throw new Error(`the checkpoint's ${saved.role} actor has ${actor.numActions} outputs; ${world.id} here takes ${space.kind === 'discrete' ? `${space.n} discrete actions` : `continuous actions of ${space.shape[0]}`}`);
    }
    const channel = TeamChannel.forEvaluation(world, agents, {
      rounds: actor.rounds,
      msgDropout: comm.msgDropout ?? 0,
      commRadius,
      agentDropout: comm.agentDropout ?? 0,
    }, rng);
    return { agents, obsDim, actor, width, channel, greedy: greedyContinuous(config, space), memory: null as ActorMemory | null, forgetting: new Forgetting(world, agents, 0) };
  });
  return {
    act(observations, actions) {
      const width = roles[0].width;
      const e = actions.length / (n * width);
      for (const role of roles) {
        const k = role.agents.length;
        const x = new Float32Array(e * k * role.actor.inputSize);
        writeActorInputs(role, observations, e, agentId, x);
        const masks = role.actor.rounds > 0 ? role.channel.sample(rng) : null;
        if (role.actor.stateSize > 0) {
          if (role.memory?.resets.length !== e * k) role.memory = newActorMemory(role.actor, e * k);
          role.forgetting.mark(role.memory.resets, e);
        }
        const logits = actorLogits(role.actor, x, masks, k, { memory: role.memory ?? undefined });
        const chosen = width > 1 ? role.greedy(logits) : new Float32Array(e * k);
        if (width === 1) actCategorical(logits, role.actor.numActions, null, chosen, (row) => row, new Float32Array(e * k));
        for (let row = 0; row < e * k; row++) {
          const slot = (Math.floor(row / k) * n + role.agents[row % k]) * width;
          for (let d = 0; d < width; d++) actions[slot + d] = chosen[row * width + d];
        }
      }
    },
  };
}

function tabularPolicy(checkpoint: TabularIqlCheckpoint, world: World): Controller {
  if (world.numDiscreteStates !== checkpoint.numStates) {
    throw new Error(`the checkpoint's tables have ${checkpoint.numStates} states, ${world.id} here has ${world.numDiscreteStates ?? 'no discrete state'}`);
  }
  const tables = tablesOf(checkpoint);
  const n = world.possibleAgents.length;
  return {
    act(_observations, actions) {
      for (let e = 0; e < actions.length / n; e++) {
        const s = world.discreteState(e)!;
        for (let i = 0; i < n; i++) actions[e * n + i] = greedyAction(tables[i], checkpoint.numActions, s);
      }
    },
  };
}
