// Playing whole episodes with a controller and summarising them the way `fleetmind eval` reports:
// an agent's return is its summed reward over an episode; the team return sums over agents.
// The simulated fleet (`fleetmind sim`) keeps its books with the same tally, so that with no
// faults its per-episode team returns equal eval's exactly.

import type { Controller } from './controllers/controller.js';
import type { Actions, StepResult, World } from './types.js';

export interface EvaluationReport {
  episodes: number;
  seed: number;
  /** mean over agents and episodes of an agent's episode return */
  agent_return_mean: number;
  agent_return_std: number;
  team_return_mean: number;
  episode_team_returns: number[];
  /** mean agent return per role (e.g. adversary vs agent in simple_tag) */
  role_return_mean: Record<string, number>;
  /** per info key: mean over episodes of its per-episode sum, and `<key>_final`: its mean on the last step */
  outcomes: Record<string, number>;
  /** with { perEpisode: true }: per info key its sum in each episode, and `<key>_final` its value at each episode's last step */
  episode_outcomes?: Record<string, number[]>;
}

export interface EvaluateOptions {
  /** also report every episode's outcomes (multi-seed summaries need them), not only their means */
  perEpisode?: boolean;
}

/** Something that acts asynchronously (e.g. through ONNX Runtime). */
export interface AsyncController {
  act(observations: readonly Float32Array[], actions: Actions): Promise<void>;
}

/**
 * Plays one episode in each env of `world` (built with autoReset: false and numEnvs = episodes),
 * so episode k is env k seeded from (seed, k) whatever else runs.
 */
export function evaluateController(world: World, controller: Controller, seed: number, options: EvaluateOptions = {}): EvaluationReport {
  const tally = new EpisodeTally(world, seed);
  let { observations } = world.reset(seed);
  while (!tally.done) {
    controller.act(observations, tally.actions);
    observations = tally.record(world.step(tally.actions));
  }
  return tally.report(undefined, options);
}

/** evaluateController for a controller whose act() is asynchronous. */
export async function evaluateControllerAsync(world: World, controller: AsyncController, seed: number, options: EvaluateOptions = {}): Promise<EvaluationReport> {
  const tally = new EpisodeTally(world, seed);
  let { observations } = world.reset(seed);
  while (!tally.done) {
    await controller.act(observations, tally.actions);
    observations = tally.record(world.step(tally.actions));
  }
  return tally.report(undefined, options);
}

/**
 * Accumulates whole episodes: returns per agent and outcome sums. By default episode k is env
 * k's first episode (a batched evaluation); `episodes` and recordEnv() also let episodes play one
 * after another in the same env (the simulated fleet).
 */
export class EpisodeTally {
  /** [E, N] discrete, or [E, N, D] continuous actions */
  readonly actions: Actions;
  private readonly e: number;
  private readonly n: number;
  private readonly agentReturns: Float64Array;
  private readonly sums: Record<string, Float64Array> = {};
  private readonly finals: Record<string, Float64Array> = {};
  private readonly ended: Uint8Array;
  private remaining: number;

  constructor(private readonly world: World, private readonly seed: number, private readonly episodes = world.numEnvs) {
    this.e = world.numEnvs;
    this.n = world.possibleAgents.length;
    const space = world.actionSpace(0);
    this.actions = space.kind === 'discrete' ? new Int32Array(this.e * this.n) : new Float32Array(this.e * this.n * space.shape[0]);
    this.agentReturns = new Float64Array(episodes * this.n);
    for (const key of world.infoKeys) { this.sums[key] = new Float64Array(episodes); this.finals[key] = new Float64Array(episodes); }
    this.ended = new Uint8Array(episodes);
    this.remaining = episodes;
  }

  get done(): boolean {
    return this.remaining === 0;
  }

  /** Folds in one step of every env, each its own episode; returns the observations to act on next. */
  record(r: StepResult): Float32Array[] {
    for (let env = 0; env < this.e; env++) this.recordEnv(r, env, env);
    return r.observations;
  }

  /** Folds in one step of env `env` toward episode `episode`; true when that episode has ended. */
  recordEnv(r: StepResult, env: number, episode: number): boolean {
    const { n } = this;
    if (this.ended[episode]) return true;
    for (let i = 0; i < n; i++) this.agentReturns[episode * n + i] += r.rewards[env * n + i];
    for (const key of this.world.infoKeys) { this.sums[key][episode] += r.infos[key][env]; this.finals[key][episode] = r.infos[key][env]; }
    if (r.episodeEnded[env]) { this.ended[episode] = 1; this.remaining--; }
    return this.ended[episode] === 1;
  }

  /** episode `episode`'s team return so far: its agents' returns summed */
  teamReturn(episode: number): number {
    let s = 0;
    for (let i = 0; i < this.n; i++) s += this.agentReturns[episode * this.n + i];
    return s;
  }

  /** per info key, each episode's value at its last step */
  episodeFinals(played = this.episodes): Record<string, number[]> {
    return Object.fromEntries(this.world.infoKeys.map((key) => [key, Array.from(this.finals[key].subarray(0, played))]));
  }

  /** per info key, each episode's values summed over its steps */
  episodeTotals(played = this.episodes): Record<string, number[]> {
    return Object.fromEntries(this.world.infoKeys.map((key) => [key, Array.from(this.sums[key].subarray(0, played))]));
  }

  /** The evaluation of the first `played` episodes (all of them unless a run was interrupted). */
  report(played = this.episodes, options: EvaluateOptions = {}): EvaluationReport {
    const { world, n, seed } = this;
    const e = played;
    const agentReturns = this.agentReturns.subarray(0, e * n);
    const sums = Object.fromEntries(Object.entries(this.sums).map(([k, v]) => [k, v.subarray(0, e)]));
    const finals = Object.fromEntries(Object.entries(this.finals).map(([k, v]) => [k, v.subarray(0, e)]));
    const mean = (xs: ArrayLike<number>) => {
      let s = 0;
      for (let i = 0; i < xs.length; i++) s += xs[i];
      return s / xs.length;
    };
    const agentMean = mean(agentReturns);
    const variance = mean(agentReturns.map((x) => (x - agentMean) ** 2));
    const teamReturns = Array.from({ length: e }, (_, episode) => this.teamReturn(episode));
    const roleReturnMean: Record<string, number> = {};
    for (const role of new Set(world.roles)) {
      const values: number[] = [];
      for (let env = 0; env < e; env++) for (let i = 0; i < n; i++) if (world.roles[i] === role) values.push(agentReturns[env * n + i]);
      roleReturnMean[role] = mean(values);
    }
    const outcomes: Record<string, number> = {};
    for (const key of world.infoKeys) {
      outcomes[key] = mean(sums[key]);
      outcomes[`${key}_final`] = mean(finals[key]);
    }
    return {
      episodes: e,
      seed,
      agent_return_mean: agentMean,
      agent_return_std: Math.sqrt(variance),
      team_return_mean: mean(teamReturns),
      episode_team_returns: teamReturns,
      role_return_mean: roleReturnMean,
      outcomes,
      ...(options.perEpisode ? { episode_outcomes: this.episodeOutcomes(played) } : {}),
    };
  }

  private episodeOutcomes(played: number): Record<string, number[]> {
    const totals = this.episodeTotals(played);
    const finals = this.episodeFinals(played);
    return Object.fromEntries(this.world.infoKeys.flatMap((key) => [[key, totals[key]], [`${key}_final`, finals[key]]]));
  }
}
