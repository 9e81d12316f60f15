// The communication conditions one role's team trains (or is evaluated) under: message
// dropout per link and round, a neighbour radius on the world's positions, and agents that are
// dead for a whole episode (silent: they neither send nor hear), and agents that are not in the
// episode now (they have not entered, or have left: silent too). Each step it samples the mask
// the team's CommNet sees, exactly as the runtime would build it from what arrived.

import type { World } from './types.js';
import { Rng } from './rng.js';
import { WorldError } from './types.js';
import { sampleAlive, sampleCommMask } from './comm-mask.js';

export interface CommConditions {
  /** communication rounds K */
  rounds: number;
  /** probability that one message on one link in one round is lost */
  msgDropout: number;
  /** only agents within this distance hear each other; null: everyone */
  commRadius: number | null;
  /** probability that an agent is silent for a whole episode */
  agentDropout: number;
}

/**
 * The random stream an evaluation draws lost messages and silent agents from. `eval --run`
 * (TensorFlow.js) and `eval --bundle` (ONNX Runtime) both use it, so for the same seed they see
 * the same masks and play the same episodes.
 */
export function evaluationRng(seed: number): Rng {
  return new Rng(seed, 0xc0);
}

export class TeamChannel {
  /** [E, n] 1 = alive this episode */
  readonly alive: Uint8Array;

  constructor(
    private readonly world: World,
    /** the world's indices of the team's agents */
    private readonly agents: readonly number[],
    private readonly conditions: CommConditions,
  ) {
    this.alive = new Uint8Array(world.numEnvs * agents.length).fill(1);
  }

  /** A channel for evaluation: every env's first episode drawn now, from the evaluation stream. */
  static forEvaluation(world: World, agents: readonly number[], conditions: CommConditions, rng: Rng): TeamChannel {
    const channel = new TeamChannel(world, agents, conditions);
    for (let env = 0; env < world.numEnvs; env++) channel.newEpisode(env, rng);
    return channel;
  }

  /** Draws who is dead for the episode env e starts now. */
  newEpisode(env: number, rng: Rng): void {
    if (this.conditions.agentDropout === 0) return;
    const n = this.agents.length;
    this.alive.set(sampleAlive(rng, 1, n, this.conditions.agentDropout), env * n);
  }

  /** The mask for the current step: [E, K, n, n]. */
  sample(rng: Rng): Float32Array {
    const { rounds, msgDropout, commRadius, agentDropout } = this.conditions;
    const n = this.agents.length;
    const active = this.world.active;
    let alive: Uint8Array | undefined = agentDropout > 0 ? this.alive : undefined;
    if (!active.every((a) => a === 1)) {
      alive = new Uint8Array(this.world.numEnvs * n);
      for (let e = 0; e < this.world.numEnvs; e++) {
        this.agents.forEach((agent, k) => {
          alive![e * n + k] = active[e * this.world.possibleAgents.length + agent] && (agentDropout === 0 || this.alive[e * n + k]) ? 1 : 0;
        });
      }
    }
    return sampleCommMask(rng, {
      numEnvs: this.world.numEnvs,
      numAgents: this.agents.length,
      rounds,
      dropout: msgDropout,
      alive,
      radius: commRadius ?? undefined,
      positions: commRadius === null ? undefined : this.positions(),
    });
  }

  /** [E, n, 2] the team's positions */
  private positions(): Float64Array {
    const n = this.agents.length;
    const out = new Float64Array(this.world.numEnvs * n * 2);
    for (let e = 0; e < this.world.numEnvs; e++) {
      const where = this.world.positions(e);
      if (!where) throw new WorldError(`${this.world.id} has no positions: a communication radius needs a world where agents have them`);
      this.agents.forEach((agent, k) => {
        out[(e * n + k) * 2] = where.agents[agent][0];
        out[(e * n + k) * 2 + 1] = where.agents[agent][1];
      });
    }
    return out;
  }
}
