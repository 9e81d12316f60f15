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

/** Per-env outcome metrics of the step just taken (e.g. collisions), each [E]. */
export type WorldInfos = Readonly<Record<string, Float64Array>>;

export interface ResetResult {
  /** observations[i]: agent i's observation, [E, obsDim_i] */
  readonly observations: Float32Array[];
  readonly infos: WorldInfos;
}

export interface StepResult {
  /** observations[i]: [E, obsDim_i]. With autoReset, an env that just ended shows its new episode. */
  readonly observations: Float32Array[];
  /** [E, N] per-agent reward of this step */
  readonly rewards: Float64Array;
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

/** Everything needed to put one env into an exact state (e.g. from a recorded trajectory). */
export interface WorldSnapshot {
  /** positions of the agents, then of the other entities (landmarks, obstacles), [x, y] each */
  readonly agentPos: readonly (readonly number[])[];
  readonly agentVel: readonly (readonly number[])[];
  readonly landmarkPos: readonly (readonly number[])[];
  /** steps already taken in the episode */
  readonly steps: number;
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
  /** the agents that act; in these worlds no agent leaves mid-episode, so the same as possibleAgents */
  readonly agents: readonly string[];
  /** role of each agent (parameter sharing is per role), e.g. "adversary" / "agent" */
  readonly roles: readonly string[];
  /** length of one env's global state (for a centralized critic) */
  readonly stateSize: number;
  /** episode step limit */
  readonly maxCycles: number;
  /** names of the per-env metrics found in infos */
  readonly infoKeys: readonly string[];
  observationSpace(agent: string | number): BoxSpace;
  actionSpace(agent: string | number): DiscreteSpace;
  /** Reset every env. The same seed always gives the same episodes; env e is seeded from (seed, e). */
  /** env e draws from random stream (seed, firstStream + e) */
  reset(seed?: number, firstStream?: number): ResetResult;
  /** actions: [E, N] discrete actions */
  step(actions: Int32Array): StepResult;
  /** [E, stateSize] global state */
  state(): Float32Array;
  snapshot(env: number): WorldSnapshot;
  setState(env: number, snapshot: WorldSnapshot): void;
}

export function boxSpace(size: number): BoxSpace {
  return { kind: 'box', shape: [size], low: -Infinity, high: Infinity, dtype: 'float32' };
}

export function discreteSpace(n: number): DiscreteSpace {
  return { kind: 'discrete', n };
}

/** Thrown for calls that break the world contract (bad action, bad agent name, bad snapshot). */
export class WorldError extends Error {
  readonly code = 'FM_ERR_WORLD';
  constructor(message: string) {
    super(message);
    this.name = 'WorldError';
  }
}
