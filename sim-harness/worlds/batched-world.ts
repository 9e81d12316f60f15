// The one World implementation: episode bookkeeping (step limit, termination, auto-reset,
// action validation, seeding) over a WorldCore that knows only its physics, rewards and
// observations.

import { Rng } from './rng.js';
import {
  agentIndexIn, boxSpace, checkEnvIndex, WorldError,
  type Actions, type ActionSpace, type BoxSpace, type ResetResult, type StepResult, type World,
  type WorldOptions, type WorldSnapshot, type WorldCheckpoint, type WorldPositions,
} from './types.js';

/** A writable numeric vector: observations are written as float32 for agents, float64 for checks. */
export type NumberArray = Float32Array | Float64Array;

export interface WorldCore {
  readonly id: string;
  readonly numEnvs: number;
  readonly possibleAgents: readonly string[];
  readonly roles: readonly string[];
  readonly obsDims: readonly number[];
  /** per agent; either every agent's is discrete or every agent's is continuous of one length */
  readonly actionSpaces: readonly ActionSpace[];
  readonly maxCycles: number;
  readonly stateSize: number;
  readonly infoKeys: readonly string[];
  /** names of the elements of agent i's observation, in order (e.g. "self_vel.x") */
  observationFields(agent: number): string[];
  /** draw a new initial state for env e */
  resetEnv(e: number, rng: Rng): void;
  /**
   * worlds whose agents come and go: whether agent i takes part in env e now (default: always).
   * The core must ignore an inactive agent's action; the world zeroes its reward and observation.
   */
  isActive?(e: number, agent: number): boolean;
  /** advance every env one step; actions [E, N] (or [E, N, D]) already validated */
  stepPhysics(actions: Actions): void;
  /** worlds of forces: the force agent i's last action applied in env e, before contacts (conformance) */
  actionForce?(e: number, agent: number): [number, number];
  /** write env e's rewards into out[offset .. offset+N) and return whether the task ended */
  rewards(e: number, out: Float64Array, offset: number): boolean;
  /** write agent i's observation of env e into out[offset ..) */
  observe(e: number, agent: number, out: NumberArray, offset: number): void;
  /** write env e's metrics of the last step: infos[key][e] */
  writeInfos(e: number, infos: Record<string, Float64Array>): void;
  /** write env e's global state into out[offset ..) */
  writeState(e: number, out: Float32Array, offset: number): void;
  /** env e's state as a JSON-serialisable object of the world's own fields (BatchedWorld adds `steps`) */
  snapshot(e: number): Record<string, unknown>;
  /** put env e into a snapshot's state; a snapshot that does not fit is refused with a WorldError naming the field */
  setState(e: number, snapshot: WorldSnapshot): void;
  /** worlds with positions: env e's agents and other entities, [x, y] each */
  positions?(e: number): WorldPositions;
  /** worlds small enough for tabular methods: env e's state as an index in [0, numDiscreteStates) */
  discreteState?(e: number): number;
  readonly numDiscreteStates?: number;
}

export class BatchedWorld implements World {
  readonly id: string;
  readonly numEnvs: number;
  readonly possibleAgents: readonly string[];
  readonly roles: readonly string[];
  readonly stateSize: number;
  readonly maxCycles: number;
  readonly infoKeys: readonly string[];

  private readonly core: WorldCore;
  /** [E, N] who takes part now */
  private readonly activeBuf: Uint8Array;
  private readonly autoReset: boolean;
  private readonly numAgents: number;
  private readonly stepsTaken: Int32Array;
  private readonly rngs: Rng[] = [];
  private readonly observations: Float32Array[];
  private readonly finalObservations: Float32Array[];
  private readonly rewardsBuf: Float64Array;
  private readonly terminations: Uint8Array;
  private readonly truncations: Uint8Array;
  private readonly episodeEnded: Uint8Array;
  private readonly infos: Record<string, Float64Array> = {};
  private readonly stateBuf: Float32Array;
  private readonly finalStates: Float32Array;

  constructor(core: WorldCore, options: Required<WorldOptions>) {
    this.core = core;
    this.id = core.id;
    this.numEnvs = core.numEnvs;
    this.possibleAgents = core.possibleAgents;
    this.roles = core.roles;
    this.stateSize = core.stateSize;
    this.maxCycles = core.maxCycles;
    this.infoKeys = core.infoKeys;
    this.autoReset = options.autoReset;
    const n = core.possibleAgents.length;
    const e = core.numEnvs;
    this.numAgents = n;
    this.stepsTaken = new Int32Array(e);
    this.observations = core.obsDims.map((d) => new Float32Array(e * d));
    this.finalObservations = core.obsDims.map((d) => new Float32Array(e * d));
    this.rewardsBuf = new Float64Array(e * n);
    this.terminations = new Uint8Array(e * n);
    this.truncations = new Uint8Array(e * n);
    this.episodeEnded = new Uint8Array(e);
    this.activeBuf = new Uint8Array(e * n).fill(1);
    for (const key of core.infoKeys) this.infos[key] = new Float64Array(e);
    this.stateBuf = new Float32Array(e * core.stateSize);
    this.finalStates = new Float32Array(e * core.stateSize);
  }

  /** whether the world's agents come and go (its core reports who takes part) */
  get comesAndGoes(): boolean {
    return this.core.isActive !== undefined;
  }

  /** [E, N] who takes part now (1), as the last reset or step said */
  get active(): Uint8Array {
    return this.activeBuf;
  }

  get agents(): string[] {
    return this.activeAgents(0);
  }

  activeAgents(env: number): string[] {
    this.checkEnv(env);
    return this.possibleAgents.filter((_, i) => this.activeBuf[env * this.numAgents + i] === 1);
  }

  /** Reads who takes part in env e now from the core, and blanks the observations of those who do not. */
  private refreshActive(e: number): void {
    if (!this.core.isActive) return;
    const n = this.numAgents;
    for (let i = 0; i < n; i++) {
      const active = this.core.isActive(e, i) ? 1 : 0;
      this.activeBuf[e * n + i] = active;
      if (!active) this.observations[i].fill(0, e * this.core.obsDims[i], (e + 1) * this.core.obsDims[i]);
    }
  }

  observationSpace(agent: string | number): BoxSpace {
    return boxSpace(this.core.obsDims[this.agentIndex(agent)]);
  }

  /** names of the elements of an agent's observation, in order */
  observationFields(agent: string | number): string[] {
    return this.core.observationFields(this.agentIndex(agent));
  }

  actionSpace(agent: string | number): ActionSpace {
    return this.core.actionSpaces[this.agentIndex(agent)];
  }

  /** The force agent's last action applied in env, before contacts (worlds of forces only; else null). */
  actionForce(env: number, agent: string | number): [number, number] | null {
    this.checkEnv(env);
    return this.core.actionForce?.(env, this.agentIndex(agent)) ?? null;
  }

  /**
   * Starts every env afresh: env e draws from stream (seed, firstStream + e). A world of one env
   * reset with firstStream k plays exactly the episode that env k of a larger world plays.
   */
  reset(seed = 0, firstStream = 0): ResetResult {
    if (!Number.isSafeInteger(seed)) throw new WorldError(`reset seed must be an integer, got ${seed}`);
    if (!Number.isSafeInteger(firstStream) || firstStream < 0) throw new WorldError(`reset firstStream must be a non-negative integer, got ${firstStream}`);
    this.rngs.length = 0;
    for (let e = 0; e < this.numEnvs; e++) {
      this.rngs.push(new Rng(seed, firstStream + e));
      this.startEpisode(e);
    }
    for (const key of this.infoKeys) this.infos[key].fill(0);
    return { observations: this.observations, active: this.activeBuf, infos: this.infos };
  }

  step(actions: Actions): StepResult {
    if (this.rngs.length === 0) throw new WorldError(`${this.id}: step() called before reset()`);
    const core = this.core;
    const n = this.numAgents;
    core.stepPhysics(this.validateActions(actions));
    this.episodeEnded.fill(0);
    for (let e = 0; e < this.numEnvs; e++) {
      const terminated = core.rewards(e, this.rewardsBuf, e * n);
      // who was not in this step is rewarded nothing for it
      for (let i = 0; i < n; i++) if (!this.activeBuf[e * n + i]) this.rewardsBuf[e * n + i] = 0;
      core.writeInfos(e, this.infos);
      this.stepsTaken[e]++;
      const truncated = !terminated && this.stepsTaken[e] >= this.maxCycles;
      this.terminations.fill(terminated ? 1 : 0, e * n, e * n + n);
      this.truncations.fill(truncated ? 1 : 0, e * n, e * n + n);
      for (let i = 0; i < n; i++) core.observe(e, i, this.observations[i], e * core.obsDims[i]);
      this.refreshActive(e);
      if (terminated || truncated) {
        this.episodeEnded[e] = 1;
        if (this.autoReset) {
          for (let i = 0; i < n; i++) {
            const d = core.obsDims[i];
            this.finalObservations[i].set(this.observations[i].subarray(e * d, e * d + d), e * d);
          }
          core.writeState(e, this.finalStates, e * this.stateSize);
          this.startEpisode(e);
        }
      }
    }
    return {
      observations: this.observations,
      rewards: this.rewardsBuf,
      active: this.activeBuf,
      terminations: this.terminations,
      truncations: this.truncations,
      episodeEnded: this.episodeEnded,
      finalObservations: this.autoReset ? this.finalObservations : this.observations,
      finalStates: this.autoReset ? this.finalStates : this.state(),
      infos: this.infos,
    };
  }

  /** Env e's state as a table index, for tabular methods; null where the world has none. */
  discreteState(e: number): number | null {
    this.checkEnv(e);
    return this.core.discreteState?.(e) ?? null;
  }

  /** how many values discreteState() takes (null: not a tabular world) */
  get numDiscreteStates(): number | null {
    return this.core.numDiscreteStates ?? null;
  }

  state(): Float32Array {
    for (let e = 0; e < this.numEnvs; e++) this.core.writeState(e, this.stateBuf, e * this.stateSize);
    return this.stateBuf;
  }

  /** The observations of the current state, computed in float64 (before the float32 cast). */
  observationsF64(): Float64Array[] {
    const out = this.core.obsDims.map((d) => new Float64Array(this.numEnvs * d));
    for (let e = 0; e < this.numEnvs; e++) {
      for (let i = 0; i < this.numAgents; i++) this.core.observe(e, i, out[i], e * this.core.obsDims[i]);
    }
    return out;
  }

  snapshot(env: number): WorldSnapshot {
    this.checkEnv(env);
    return { ...this.core.snapshot(env), steps: this.stepsTaken[env] };
  }

  positions(env: number): WorldPositions | null {
    this.checkEnv(env);
    return this.core.positions?.(env) ?? null;
  }

  setState(env: number, snapshot: WorldSnapshot): void {
    this.checkEnv(env);
    if (snapshot === null || typeof snapshot !== 'object') throw new WorldError(`${this.id}: a snapshot is an object, got ${JSON.stringify(snapshot)}`);
    if (this.rngs.length === 0) this.reset(0);
    if (!Number.isInteger(snapshot.steps) || snapshot.steps < 0 || snapshot.steps >= this.maxCycles) {
      throw new WorldError(`${this.id}: snapshot.steps must be an integer in [0, ${this.maxCycles}), got ${snapshot.steps}`);
    }
    this.core.setState(env, snapshot);
    this.stepsTaken[env] = snapshot.steps;
    for (let i = 0; i < this.numAgents; i++) {
      this.core.observe(env, i, this.observations[i], env * this.core.obsDims[i]);
    }
    this.refreshActive(env);
  }

  /** Every env's exact state and random stream, so that stepping can continue later as if never stopped. */
  checkpoint(): WorldCheckpoint {
    if (this.rngs.length === 0) throw new WorldError(`${this.id}: checkpoint() called before reset()`);
    return {
      envs: Array.from({ length: this.numEnvs }, (_, e) => this.snapshot(e)),
      rngs: this.rngs.map((rng) => rng.getState()),
    };
  }

  /** Puts every env back where checkpoint() found it; returns the observations there. */
  restore(checkpoint: WorldCheckpoint): Float32Array[] {
    if (checkpoint.envs.length !== this.numEnvs || checkpoint.rngs.length !== this.numEnvs) {
      throw new WorldError(`${this.id}: the checkpoint holds ${checkpoint.envs.length} envs, this world has ${this.numEnvs}`);
    }
    this.reset(0);
    checkpoint.envs.forEach((snapshot, e) => this.setState(e, snapshot));
    checkpoint.rngs.forEach((state, e) => { this.rngs[e] = Rng.fromState(state); });
    return this.observations;
  }

  /** Number of steps taken in env e's current episode. */
  stepsInEpisode(env: number): number {
    return this.stepsTaken[env];
  }

  /** an in-process world holds nothing to let go of */
  close(): void {}

  private startEpisode(e: number): void {
    this.core.resetEnv(e, this.rngs[e]);
    this.stepsTaken[e] = 0;
    for (let i = 0; i < this.numAgents; i++) {
      this.core.observe(e, i, this.observations[i], e * this.core.obsDims[i]);
    }
    this.refreshActive(e);
  }

  /** the actions the core gets: discrete ones as given, continuous ones clipped into their box (a copy) */
  private clipped: Float32Array | null = null;

  private validateActions(actions: Actions): Actions {
    const n = this.numAgents;
    const space = this.core.actionSpaces[0];
    if (space.kind === 'continuous') return this.validateContinuous(actions, space.shape[0]);
    if (!(actions instanceof Int32Array)) throw new WorldError(`${this.id}: discrete actions must be an Int32Array`);
    if (actions.length !== this.numEnvs * n) {
      throw new WorldError(`${this.id}: expected ${this.numEnvs * n} actions ([E=${this.numEnvs}, N=${n}]), got ${actions.length}`);
    }
    const spaces = this.core.actionSpaces;
    for (let k = 0; k < actions.length; k++) {
      const a = actions[k];
      const i = k % n;
      const size = (spaces[i] as { n: number }).n;
      if (a < 0 || a >= size) {
        throw new WorldError(`${this.id}: action ${a} of ${this.possibleAgents[i]} in env ${(k - i) / n} is outside Discrete(${size})`);
      }
    }
    return actions;
  }

  /** [E, N, D] float32 (the MPE cores also clip, exactly as PettingZoo does: clipping twice changes nothing) */
  /** Refuses a NaN; clips every component into its agent's box (PettingZoo's ClipOutOfBoundsWrapper), into a copy. */
  private validateContinuous(actions: Actions, d: number): Float32Array {
    const n = this.numAgents;
    if (!(actions instanceof Float32Array)) throw new WorldError(`${this.id}: continuous actions must be a Float32Array ([E, N, ${d}])`);
    if (actions.length !== this.numEnvs * n * d) {
      throw new WorldError(`${this.id}: expected ${this.numEnvs * n * d} action values ([E=${this.numEnvs}, N=${n}, D=${d}]), got ${actions.length}`);
    }
    for (let k = 0; k < actions.length; k++) {
      if (Number.isNaN(actions[k])) {
        const row = Math.floor(k / d);
        throw new WorldError(`${this.id}: action of ${this.possibleAgents[row % n]} in env ${Math.floor(row / n)} has NaN at component ${k % d}`);
      }
    }
    if (this.clipped?.length !== actions.length) this.clipped = new Float32Array(actions.length);
    for (let k = 0; k < actions.length; k++) {
      const space = this.core.actionSpaces[Math.floor(k / d) % n] as { low: readonly number[]; high: readonly number[] };
      this.clipped[k] = Math.min(Math.max(actions[k], space.low[k % d]), space.high[k % d]);
    }
    return this.clipped;
  }

  private agentIndex(agent: string | number): number {
    return agentIndexIn(this, agent);
  }

  private checkEnv(env: number): void {
    checkEnvIndex(this, env);
  }
}

/**
 * PettingZoo MPE's `state()`: every agent's observation, concatenated in agent order. `observe`:
 * how an observation is written, where the state should not see what an agent does not (default
 * the core's own)
 */
export function writeConcatenatedObservations(
  core: WorldCore, e: number, out: Float32Array, offset: number,
  observe: WorldCore['observe'] = (env, agent, o, at) => core.observe(env, agent, o, at),
): void {
  let at = offset;
  for (let i = 0; i < core.possibleAgents.length; i++) {
    observe(e, i, out, at);
    at += core.obsDims[i];
  }
}
