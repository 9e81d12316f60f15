// The batched multi-agent world contract, in PettingZoo-parallel vocabulary.
//
// One World holds E independent environments ("envs") with the same agents. Arrays are flat
// typed arrays in env-major order; shapes are written in comments as [E, N, …].

/** A continuous observation space: a float32 vector of fixed length. */
export interface BoxSpace {
  readonly kind: 'box';
  readonly shape: readonly [number];
  readonly low: number;
  readonly high: number;
  readonly dtype: 'float32';
}

/** A discrete action space {0, …, n-1}. */
export interface DiscreteSpace {
  readonly kind: 'discrete';
  readonly n: number;
}

/** A continuous action space (PettingZoo's Box): a float32 vector, component k in [low[k], high[k]]. */
export interface ContinuousSpace {
  readonly kind: 'continuous';
  readonly shape: readonly [number];
  readonly low: readonly number[];
  readonly high: readonly number[];
  readonly dtype: 'float32';
}

export type ActionSpace = DiscreteSpace | ContinuousSpace;

/** One step's actions: [E, N] for discrete action spaces, [E, N, D] for continuous ones of length D. */
export type Actions = Int32Array | Float32Array;

/** Per-env outcome metrics of the step just taken (e.g. collisions), each [E]. */
export type WorldInfos = Readonly<Record<string, Float64Array>>;

export interface ResetResult {
  /** observations[i]: agent i's observation, [E, obsDim_i] (zeros where the agent is not active) */
  readonly observations: Float32Array[];
  /**
   * [E, N] 1 where the agent takes part now: it acts at the next step. An agent that has not
   * entered yet or has left is inactive: its action is ignored and it is rewarded nothing. Worlds
   * whose agents never come and go have every agent active.
   */
  readonly active: Uint8Array;
  readonly infos: WorldInfos;
}

export interface StepResult {
  /** observations[i]: [E, obsDim_i]. With autoReset, an env that just ended shows its new episode. */
  readonly observations: Float32Array[];
  /** [E, N] per-agent reward of this step (0 for an agent that was not active in it) */
  readonly rewards: Float64Array;
  /** [E, N] who takes part from now on (with autoReset, in an env that just ended: in its new episode) */
  readonly active: Uint8Array;
  /** [E, N] 1 where the agent's episode ended by the task (e.g. capture) */
  readonly terminations: Uint8Array;
  /** [E, N] 1 where the agent's episode was cut by the step limit */
  readonly truncations: Uint8Array;
  /** [E] 1 where the env's episode ended at this step */
  readonly episodeEnded: Uint8Array;
  /** finalObservations[i]: [E, obsDim_i], the last observation of an ended episode (valid where episodeEnded) */
  readonly finalObservations: Float32Array[];
  /** [E, S] the global state an ended episode finished in (valid where episodeEnded) */
  readonly finalStates: Float32Array;
  readonly infos: WorldInfos;
}

/**
 * Everything needed to put one env into an exact state (a checkpoint, a recorded trajectory): a
 * JSON-serialisable object whose fields the world defines and checks when it restores one (the MPE
 * worlds: agentPos, agentVel, landmarkPos), and the steps already taken in the episode.
 */
export interface WorldSnapshot {
  readonly steps: number;
  readonly [field: string]: unknown;
}

/** Where things are in one env, for worlds with positions: the agents', then the other entities' (landmarks, obstacles), [x, y] each. */
export interface WorldPositions {
  readonly agents: readonly (readonly number[])[];
  readonly others: readonly (readonly number[])[];
}

/** All envs of a batched world: their states and the random streams their next episodes draw from. */
export interface WorldCheckpoint {
  readonly envs: readonly WorldSnapshot[];
  readonly rngs: readonly (readonly number[])[];
}

export interface WorldOptions {
  /** number of parallel environments E (default 1) */
  numEnvs?: number;
  /** reset an env as soon as its episode ends (default true) */
  autoReset?: boolean;
}

export interface World {
  /** versioned world id, e.g. "simple_spread_v3" */
  readonly id: string;
  readonly numEnvs: number;
  /** all agent names, in a fixed order used by every [E, N] array */
  readonly possibleAgents: readonly string[];
  /**
   * the agents taking part now, as in PettingZoo: in a batched world that is per env
   * (activeAgents(e)); this is env 0's. Worlds whose agents never come and go: possibleAgents.
   */
  readonly agents: readonly string[];
  /** the agents taking part in env e now */
  activeAgents(env: number): string[];
  /** role of each agent (parameter sharing is per role), e.g. "adversary" / "agent" */
  readonly roles: readonly string[];
  /** length of one env's global state (for a centralized critic) */
  readonly stateSize: number;
  /** episode step limit */
  readonly maxCycles: number;
  /** names of the per-env metrics found in infos */
  readonly infoKeys: readonly string[];
  observationSpace(agent: string | number): BoxSpace;
  actionSpace(agent: string | number): ActionSpace;
  /** Reset every env. The same seed always gives the same episodes; env e is seeded from (seed, e). */
  /** env e draws from random stream (seed, firstStream + e) */
  reset(seed?: number, firstStream?: number): ResetResult;
  /**
   * actions: [E, N] discrete actions (Int32Array), or [E, N, D] continuous ones (Float32Array):
   * out-of-box components are clipped into the box (as PettingZoo's ClipOutOfBoundsWrapper), a
   * NaN is refused
   */
  step(actions: Actions): StepResult;
  /** [E, stateSize] global state */
  state(): Float32Array;
  snapshot(env: number): WorldSnapshot;
  setState(env: number, snapshot: WorldSnapshot): void;
  /** env's positions, for worlds that have them (communication radius, reports' replays); else null */
  positions(env: number): WorldPositions | null;
  /** whether agents come and go (then `active` changes during episodes) */
  readonly comesAndGoes: boolean;
  /** [E, N] who takes part now (1), as the last reset or step said */
  readonly active: Uint8Array;
  /** names of the elements of an agent's observation, in order */
  observationFields(agent: string | number): string[];
  /** steps taken in env e's current episode */
  stepsInEpisode(env: number): number;
  /** every env's state and random stream, to continue later (a remote world: only what it can keep, see RemoteWorld) */
  checkpoint(): WorldCheckpoint;
  /** puts every env back where checkpoint() found it; returns the observations there */
  restore(checkpoint: WorldCheckpoint): Float32Array[];
  /** worlds small enough for tabular methods: env e's state as an index (else null) */
  discreteState(env: number): number | null;
  /** how many values discreteState() takes (null: not a tabular world) */
  readonly numDiscreteStates: number | null;
  /** lets go of what the world holds (a remote world's connections); a no-op for in-process worlds */
  close(): void;
}

export function boxSpace(size: number): BoxSpace {
  return { kind: 'box', shape: [size], low: -Infinity, high: Infinity, dtype: 'float32' };
}

export function discreteSpace(n: number): DiscreteSpace {
  return { kind: 'discrete', n };
}

export function continuousSpace(low: readonly number[], high: readonly number[]): ContinuousSpace {
  return { kind: 'continuous', shape: [low.length], low, high, dtype: 'float32' };
}

/**
 * The number of discrete actions of an agent, for the parts that handle only discrete actions
 * (`who` says which, for the error): a continuous action space is refused with what it is.
 */
export function discreteActions(world: Pick<World, 'id' | 'actionSpace'>, agent: string | number, who: string): number {
  const space = world.actionSpace(agent);
  if (space.kind === 'discrete') return space.n;
  throw new WorldError(`${who} needs discrete actions; ${world.id} here has continuous ones (Box of ${space.shape[0]}): use it without continuousActions`);
}

/** An agent's index in a world's fixed order, by name or index; anything else is a WorldError naming the agents. */
export function agentIndexIn(world: Pick<World, 'id' | 'possibleAgents'>, agent: string | number): number {
  const i = typeof agent === 'number' ? agent : world.possibleAgents.indexOf(agent);
  if (!Number.isInteger(i) || i < 0 || i >= world.possibleAgents.length) {
    throw new WorldError(`${world.id}: unknown agent ${JSON.stringify(agent)}; agents are ${world.possibleAgents.join(', ')}`);
  }
  return i;
}

/** Refuses an env index outside [0, numEnvs). */
export function checkEnvIndex(world: Pick<World, 'id' | 'numEnvs'>, env: number): void {
  if (!Number.isInteger(env) || env < 0 || env >= world.numEnvs) throw new WorldError(`${world.id}: env index ${env} is outside [0, ${world.numEnvs})`);
}

/** Thrown for calls that break the world contract (bad action, bad agent name, bad snapshot). */
export class WorldError extends Error {
  readonly code = 'FM_ERR_WORLD';
  constructor(message: string) {
    super(message);
    this.name = 'WorldError';
  }
}
